"""Secrets after rotation: neither the old value nor the new one appears anywhere, and a
rotation is no false drift.

The CVAT and DroneBundle simulators run on 127.0.0.1 (in this process, so the test can
rotate keys in them as an operator would in the service's dashboard); the CLI runs as a
subprocess, a fresh process per command as in real use. A CVAT project and a DroneBundle
project are named from a secret (``name: "survey ${{ secrets.PROJECT_KEY }}"``), the
DroneBundle project's ``name`` output (made from the secret) feeds a mission output, and
other outputs are secrets themselves. Credentials come from ``SKYFORM_SECRET_*``. Then:

1. the spec secret is rotated: the plan shows ``(sensitive value changed)`` and no drift
   (the services still hold the names made from the old key, which this run does not
   know), in text, ``--json`` and a saved plan; ``--refresh-only`` is clean; the saved plan
   is applied; the next plan is clean;
2. the provider credentials are rotated: a new CVAT token is minted with the old one and
   the old one revoked; a new DroneBundle key is issued and the old one deactivated. A plan
   with the revoked credentials fails cleanly; with the new ones it has no changes;
3. ``apply``, ``output`` (text, ``--json``, ``NAME``), ``state show``, ``state list``,
   ``history``, ``status`` and ``destroy`` run with the newest secrets, ``-vv`` where taken.

Every stream, the state database, the saved plans and every file under ``.skyform`` and the
cache are scanned for every value each secret ever had.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from skyform.sandbox.clock import SimClock
from skyform.sandbox.host import SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions
from skyform_cvat.simulator import CvatSimulator
from skyform_dronebundle.simulator import DroneBundleSimulator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rkit
from secretscan import Scan

# a campaign (two rotations, every command scanned): README, Development; run with `-m slow`
pytestmark = pytest.mark.slow


KEY_1 = "key-one-3RT8QW-do-not-leak"
KEY_2 = "key-two-9MZ4LP-do-not-leak"
DRONEBUNDLE_KEY_2 = "v1_rotated_full_access_0f9e8d7c6b5a4f3e2d1c"
CLOCK = 20000


def _mission(root: Path, cvat: dict[str, Any], dronebundle: dict[str, Any]) -> Path:
    resources = {
        "survey": {
            "type": "cvat.Project",
            "spec": {"name": "survey ${{ secrets.PROJECT_KEY }}", "labels": [{"name": "crack", "color": "#ff0000"}]},
        },
        "site": {"type": "dronebundle.Project", "spec": {"name": "site ${{ secrets.PROJECT_KEY }}"}},
    }
    providers = {
        "cvat": {"url": cvat["url"], "access_token": "${{ secrets.CVAT_ACCESS_TOKEN }}"},
        "dronebundle": {"url": dronebundle["url"], "api_key": "${{ secrets.DRONEBUNDLE_API_KEY }}"},
    }
    mission = rkit.mini_mission(root / "m", providers, resources, name="rotation")
    doc = json.loads((mission / "mission.yaml").read_text())
    doc["outputs"] = {
        "project_url": "${{ resources.survey.outputs.url }}",
        "site_name": "${{ resources.site.outputs.name }}",
        "key": "${{ secrets.PROJECT_KEY }}",
        "tagged_key": "tag-${{ secrets.PROJECT_KEY }}",
    }
    (mission / "mission.yaml").write_text(json.dumps(doc, indent=1))
    return mission


def _project_names(url: str, token: str) -> list[str]:
    answer = httpx.get(f"{url}/api/projects", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    answer.raise_for_status()
    return [p["name"] for p in answer.json()["results"]]


def _rotate_dronebundle_key(simulator: DroneBundleSimulator, old: str, new: str) -> None:
    """What an operator does in DroneBundle's dashboard: issue a key like the old one, deactivate the old."""
    with simulator.lock:
        keys = simulator.data["keys"]
        keys[new] = dict(keys[old])
        keys[old]["active"] = False
        simulator.save()


@pytest.fixture(scope="module")
def rotation(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    root = tmp_path_factory.mktemp("rotation")
    scan = Scan()
    results: dict[str, Any] = {}
    with SimulatorHost() as host:
        cvat_sim = CvatSimulator(SimulatorOptions(state_dir=root / "sim", clock=SimClock(CLOCK)))
        drone_sim = DroneBundleSimulator(SimulatorOptions(state_dir=root / "sim", clock=SimClock(CLOCK)))
        cvat = host.start(cvat_sim).settings()
        dronebundle = host.start(drone_sim).settings()
        token_1, drone_key_1 = cvat["access_token"], dronebundle["api_key"]
        mission = _mission(root, cvat, dronebundle)
        base = {"XDG_CACHE_HOME": str(root / "cache"), "XDG_STATE_HOME": str(root / "xdg-state")}
        credentials = {"token": token_1, "drone_key": drone_key_1}

        def run(label: str, *args: str, key: str) -> Any:
            env = rkit.clean_env(
                SKYFORM_SECRET_PROJECT_KEY=key,
                SKYFORM_SECRET_CVAT_ACCESS_TOKEN=credentials["token"],
                SKYFORM_SECRET_DRONEBUNDLE_API_KEY=credentials["drone_key"],
                **base,
            )
            done = rkit.run(*args, env=env, timeout=180, cwd=mission)
            results[label] = done
            scan.add(f"{label}:stdout", done.stdout)
            scan.add(f"{label}:stderr", done.stderr)
            return done

        m = str(mission)
        run("apply-1", "-vv", "apply", "--auto-approve", "--ack-irreversible", m, key=KEY_1)
        # 1. the spec secret is rotated
        run("plan-rotated", "-vv", "plan", "--detailed-exitcode", m, key=KEY_2)
        run("plan-rotated-json", "plan", "--json", m, key=KEY_2)
        run("refresh-only-rotated", "plan", "--refresh-only", "--detailed-exitcode", m, key=KEY_2)
        key_plan = root / "rotated-key.plan"
        run("plan-o-rotated", "plan", "-o", str(key_plan), m, key=KEY_2)
        scan.add("saved plan (key rotated)", key_plan.read_bytes())
        results["name before the rotation"] = _project_names(cvat["url"], token_1)
        run("apply-planfile", "-vv", "apply", "--json", str(key_plan), key=KEY_2)
        results["name after the rotation"] = _project_names(cvat["url"], token_1)
        run("plan-after-key", "plan", "--detailed-exitcode", m, key=KEY_2)
        # 2. the credentials are rotated: CVAT's through its API, DroneBundle's in its dashboard
        api = httpx.Client(base_url=cvat["url"], timeout=10)
        old = {"Authorization": f"Bearer {token_1}"}
        minted = api.post("/api/auth/access_tokens", json={"name": "rotated"}, headers=old)
        minted.raise_for_status()
        token_2 = minted.json()["value"]
        old_id = api.get("/api/auth/access_tokens/self", headers=old).json()["id"]
        api.delete(
            f"/api/auth/access_tokens/{old_id}", headers={"Authorization": f"Bearer {token_2}"}
        ).raise_for_status()
        results["old token refused"] = api.get("/api/projects", headers=old).status_code
        _rotate_dronebundle_key(drone_sim, drone_key_1, DRONEBUNDLE_KEY_2)
        scan.secrets = {
            "KEY_1": KEY_1,
            "KEY_2": KEY_2,
            "TOKEN_1": token_1,
            "TOKEN_2": token_2,
            "DRONEBUNDLE_KEY_1": drone_key_1,
            "DRONEBUNDLE_KEY_2": DRONEBUNDLE_KEY_2,
        }
        run("plan-old-credentials", "-vv", "plan", m, key=KEY_2)
        credentials.update(token=token_2, drone_key=DRONEBUNDLE_KEY_2)
        run("plan-new-credentials", "-vv", "plan", "--detailed-exitcode", m, key=KEY_2)
        token_plan = root / "rotated-credentials.plan"
        run("plan-o-new-credentials", "plan", "-o", str(token_plan), m, key=KEY_2)
        scan.add("saved plan (credentials rotated)", token_plan.read_bytes())
        run("apply-new-credentials", "-vv", "apply", "--auto-approve", "--ack-irreversible", m, key=KEY_2)
        # 3. everything that reads state, with the newest secrets
        run("output", "output", m, key=KEY_2)
        run("output-json", "output", "--json", m, key=KEY_2)
        run("output-name", "output", m, "key", key=KEY_2)
        run("state-show", "state", "show", m, "survey", key=KEY_2)
        run("state-show-site", "state", "show", m, "site", key=KEY_2)
        run("state-list", "state", "list", "--json", m, key=KEY_2)
        run("history", "history", "--json", "--limit", "100000", m, key=KEY_2)
        run("status", "status", m, key=KEY_2)
        run("destroy", "-vv", "destroy", "--auto-approve", "--ack-irreversible", "--forget", "--json", m, key=KEY_2)
        run("history-after-destroy", "history", "--json", "--limit", "100000", m, key=KEY_2)
    scan.add_tree(".skyform", mission / ".skyform")
    scan.add_tree("xdg-cache", root / "cache")
    scan.results = results  # type: ignore[attr-defined]
    return scan


def _out(rotation: Scan, label: str) -> Any:
    return rotation.results[label]  # type: ignore[attr-defined]


def test_the_campaign_ran_every_step(rotation: Scan) -> None:
    for label in (
        "apply-1",
        "plan-o-rotated",
        "apply-planfile",
        "plan-o-new-credentials",
        "apply-new-credentials",
        "output",
        "state-show",
        "state-show-site",
        "history",
        "destroy",
    ):
        assert _out(rotation, label).returncode == 0, (label, _out(rotation, label).stderr[-2000:])
    assert rotation.results["old token refused"] == 401  # type: ignore[attr-defined]


def test_a_rotated_spec_secret_is_a_sensitive_change_and_no_drift(rotation: Scan) -> None:
    """The plan says the name changes, shows neither value, and reports no drift: the
    service's name, made from the old key, is still the recorded (sensitive) one."""
    planned = _out(rotation, "plan-rotated")
    assert planned.returncode == 2, planned.stdout[-2000:]
    assert "~ survey (cvat.Project) will be updated in place" in planned.stdout
    assert "~ name: (sensitive value changed)" in planned.stdout
    assert "changed outside skyform" not in planned.stdout
    (event,) = [
        json.loads(line)
        for line in _out(rotation, "plan-rotated-json").stdout.splitlines()
        if line.startswith('{"event": "plan"')
    ]
    assert [a["address"] for a in event["actions"]] == ["survey", "site"]
    for action in event["actions"]:
        assert "drift" not in action and [c["path"] for c in action["changes"]] == [["name"]], action
    assert _out(rotation, "refresh-only-rotated").returncode == 0, _out(rotation, "refresh-only-rotated").stdout


def test_after_the_rotation_is_applied_the_plan_is_clean(rotation: Scan) -> None:
    assert _out(rotation, "plan-after-key").returncode == 0, _out(rotation, "plan-after-key").stdout[-2000:]
    assert "No changes." in _out(rotation, "plan-after-key").stdout


def test_rotated_credentials_change_nothing_and_revoked_ones_are_refused_cleanly(rotation: Scan) -> None:
    old = _out(rotation, "plan-old-credentials")
    assert old.returncode == 1 and "Traceback" not in old.stderr, old.stderr[-2000:]
    new = _out(rotation, "plan-new-credentials")
    assert new.returncode == 0, new.stdout[-2000:] + new.stderr[-2000:]


def test_secret_outputs_are_sensitive_in_every_form(rotation: Scan) -> None:
    assert 'key = "(sensitive)"' in _out(rotation, "output").stdout
    assert 'tagged_key = "(sensitive)"' in _out(rotation, "output").stdout
    shown = json.loads(_out(rotation, "output-json").stdout)
    assert shown["key"] == shown["tagged_key"] == shown["site_name"] == "(sensitive)"
    assert shown["project_url"].startswith("http://127.0.0.1:")
    assert _out(rotation, "output-name").stdout.strip() == "(sensitive)"
    assert 'tagged_key = "(sensitive)"' in _out(rotation, "apply-1").stdout


def test_state_show_names_the_secret_fields_as_digests(rotation: Scan) -> None:
    shown = json.loads(_out(rotation, "state-show").stdout)
    assert set(shown["spec"]["name"]) == {"$secret"}
    assert set(shown["observed"]["name"]) == {"$secret"}
    site = json.loads(_out(rotation, "state-show-site").stdout)
    assert set(site["spec"]["name"]) == {"$secret"} and set(site["outputs"]["name"]) == {"$secret"}


@pytest.mark.parametrize("kind", ["stdout/stderr", "state.db", "plan files", ".skyform files", "cache"])
def test_no_old_or_new_secret_value_anywhere(rotation: Scan, kind: str) -> None:
    pick = {
        "stdout/stderr": lambda p: ":std" in p,
        "state.db": lambda p: p.startswith(".skyform/state.db"),
        "plan files": lambda p: p.startswith("saved plan"),
        ".skyform files": lambda p: p.startswith(".skyform/") and not p.startswith(".skyform/state.db"),
        "cache": lambda p: p.startswith("xdg-cache/"),
    }[kind]
    places = {p: d for p, d in rotation.places.items() if pick(p)}
    assert places or kind in ("cache", ".skyform files")  # no artifacts here; the cache may be empty
    assert rotation.leaks(places) == []


def test_the_secrets_really_reached_the_service(rotation: Scan) -> None:
    """While the rotated plan was made, the service held the name made from the old key; the
    saved plan renamed it with the new one. So both values were there to leak, and the scan
    finding neither means masking, not a vacuous scan."""
    results = rotation.results  # type: ignore[attr-defined]
    assert results["name before the rotation"] == [f"survey {KEY_1}"]
    assert results["name after the rotation"] == [f"survey {KEY_2}"]


def test_figure(rotation: Scan, capsys: pytest.CaptureFixture[str]) -> None:
    leaks = rotation.leaks()
    with capsys.disabled():
        print(
            f"\nsecrets rotation campaign: {len(rotation.places)} places scanned, {len(rotation.secrets)} "
            f"secret values (2 keys, 2 CVAT tokens, 2 DroneBundle keys), {len(leaks)} leaks {sorted(set(leaks))[:10]}"
        )
