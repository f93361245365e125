"""Secrets: no secret value is written or printed anywhere, in any run, at debug level.

The demo mission runs against `skyform sandbox serve`, every provider's credentials come
from `SKYFORM_SECRET_*` (the serve's own credentials, so the simulators accept them), and
a secret also rides in a resource spec (the drone job's notes carry a gate code). It is
planned to a file, applied from it, re-planned, inspected, destroyed - all with `--json`
and `-vv` - and one run uses a wrong token so the error path is covered too. Then every
byte skyform produced is scanned for every secret value.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rkit
from secretscan import Scan, secret_settings

# a campaign (a whole mission's life scanned for secrets): README, Development; run with `-m slow`
pytestmark = pytest.mark.slow


GATE_CODE = "gate-code-7Q9XK2-do-not-leak"
WRONG_TOKEN = "wrong-nodeodm-token-ZZ81Q-do-not-leak"
CLOCK = 20000


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    root = tmp_path_factory.mktemp("secrets")
    scan = Scan()
    secret_names = secret_settings()
    with rkit.Serve(root / "sbx", clock=CLOCK) as serve:
        providers = serve.providers()
        env_secrets: dict[str, str] = {}
        templated: dict[str, dict[str, Any]] = {}
        for provider, settings in providers.items():
            templated[provider] = {}
            for key, value in settings.items():
                if key in secret_names.get(provider, set()) and isinstance(value, str):
                    name = f"{provider}_{key}".upper()
                    env_secrets[name] = value
                    templated[provider][key] = "${{ secrets." + name + " }}"
                else:
                    templated[provider][key] = value

        def edit(doc: dict[str, Any]) -> None:
            doc["resources"]["flight"]["spec"]["inspection_notes"] = (
                "Gate code ${{ secrets.GATE_CODE }}; baseline ${{ resources.baseline.outputs.task_id }}."
            )
            # secret outputs: a secret itself, and one interpolated into a longer string
            doc.setdefault("outputs", {})["gate_code"] = "${{ secrets.GATE_CODE }}"
            doc["outputs"]["gate_sign"] = "Gate ${{ secrets.GATE_CODE }}"

        mission = rkit.demo_mission(root / "m", templated, edit)
        scan.secrets = {**env_secrets, "GATE_CODE": GATE_CODE}
        env = rkit.clean_env(
            **{f"SKYFORM_SECRET_{k}": v for k, v in scan.secrets.items()},
            XDG_CACHE_HOME=str(root / "cache"),
            XDG_STATE_HOME=str(root / "xdg-state"),
        )
        plan_file = root / "saved.plan"
        steps = [
            ("validate", ["-vv", "validate", "--json", str(mission)]),
            ("plan-o", ["-vv", "plan", "--json", "-o", str(plan_file), str(mission)]),
            ("apply-planfile", ["-vv", "apply", "--json", "--auto-approve", "--ack-irreversible", str(plan_file)]),
            ("plan-again", ["-vv", "plan", "--detailed-exitcode", str(mission)]),
            ("apply-text", ["-vv", "apply", "--auto-approve", "--ack-irreversible", str(mission)]),
            ("output", ["output", "--json", "--state", f"sqlite:///{mission}/.skyform/state.db"]),
            ("output-text", ["output", str(mission)]),
            ("output-name", ["output", str(mission), "gate_code"]),
            ("history", ["history", "--json", "--limit", "100000", str(mission)]),
            ("status", ["status", str(mission)]),
            ("graph", ["graph", "--format", "json", str(mission)]),
            ("state-list", ["state", "list", str(mission)]),
        ]
        results: dict[str, Any] = {}
        for label, args in steps:
            done = rkit.run(*args, env=env, timeout=180, cwd=mission)
            results[label] = done
            scan.add(f"{label}:stdout", done.stdout)
            scan.add(f"{label}:stderr", done.stderr)
        scan.add("saved plan file", plan_file.read_bytes())
        listing = rkit.run("state", "list", str(mission), env=env, cwd=mission).stdout
        for address in (
            "baseline",
            "site",
            "flight",
            "photos",
            "reconstruct",
            "workspace",
            "mesh",
            "defects",
            "annotate",
            "dataset",
        ):
            done = rkit.run("state", "show", address, str(mission), env=env, cwd=mission)
            scan.add(f"state show {address}:stdout", done.stdout + done.stderr)
        scan.listing = listing  # type: ignore[attr-defined]
        # the error path: a wrong token, with the run's own messages scanned
        wrong = dict(env, SKYFORM_SECRET_NODEODM_TOKEN=WRONG_TOKEN)
        scan.secrets["WRONG_TOKEN"] = WRONG_TOKEN
        (mission / "data" / "DJI_0009.JPG").write_bytes((mission / "data" / "DJI_0001.JPG").read_bytes() + b"x")
        done = rkit.run(
            "-vv",
            "apply",
            "--json",
            "--auto-approve",
            "--ack-irreversible",
            str(mission),
            env=wrong,
            timeout=180,
            cwd=mission,
        )
        results["apply-wrong-token"] = done
        scan.add("apply-wrong-token:stdout", done.stdout)
        scan.add("apply-wrong-token:stderr", done.stderr)
        (mission / "data" / "DJI_0009.JPG").unlink()
        done = rkit.run(
            "-vv",
            "destroy",
            "--auto-approve",
            "--ack-irreversible",
            "--forget",
            "--json",
            str(mission),
            env=env,
            timeout=180,
            cwd=mission,
        )
        results["destroy"] = done
        scan.add("destroy:stdout", done.stdout)
        scan.add("destroy:stderr", done.stderr)
        done = rkit.run("history", "--json", "--limit", "100000", str(mission), env=env, cwd=mission)
        scan.add("history-after-destroy:stdout", done.stdout)
        serve.stop()
        scan.add("serve:stderr", serve.proc.stderr.read() if serve.proc and serve.proc.stderr else "")
    scan.add_tree(".skyform", mission / ".skyform")
    scan.add_tree("xdg-cache", root / "cache")
    scan.sandbox = {}  # type: ignore[attr-defined]
    for path in sorted((root / "sbx").rglob("*")):
        if path.is_file() and path.name != "providers.json":  # providers.json is the credential hand-out
            scan.sandbox[f"sandbox/{path.relative_to(root / 'sbx')}"] = path.read_bytes()  # type: ignore[attr-defined]
    scan.results = results  # type: ignore[attr-defined]
    scan.env_secrets = env_secrets  # type: ignore[attr-defined]
    return scan


def test_the_campaign_ran_every_step(campaign: Scan) -> None:
    """Applied from a saved plan, converged, failed cleanly with a wrong token, destroyed."""
    r = campaign.results  # type: ignore[attr-defined]
    assert r["plan-o"].returncode == 0, r["plan-o"].stderr[-2000:]
    assert r["apply-planfile"].returncode == 0, r["apply-planfile"].stderr[-2000:]
    assert r["plan-again"].returncode == 0, r["plan-again"].stdout[-2000:]
    assert r["apply-wrong-token"].returncode == 1, r["apply-wrong-token"].stderr[-2000:]
    assert "Traceback" not in r["apply-wrong-token"].stderr
    assert r["destroy"].returncode == 0, r["destroy"].stderr[-2000:]
    assert len(campaign.secrets) >= 9  # credentials of all five providers + the gate code + the wrong token


def test_secret_outputs_are_shown_as_sensitive_everywhere(campaign: Scan) -> None:
    """One rule for outputs made from secrets: stored as a digest, shown as (sensitive) by
    apply's summary, `output`, `output NAME` and `output --json` alike."""
    r = campaign.results  # type: ignore[attr-defined]
    shown = json.loads(r["output"].stdout)
    assert shown["gate_code"] == "(sensitive)" and shown["gate_sign"] == "(sensitive)"
    assert shown["flight_job"] not in ("(sensitive)", None)
    assert 'gate_code = "(sensitive)"' in r["output-text"].stdout
    assert r["output-name"].stdout.strip() == "(sensitive)"


def test_debug_logs_are_actually_debug(campaign: Scan) -> None:
    """-vv produced log lines (so the scan of stderr scans something)."""
    assert len(campaign.places["apply-planfile:stderr"]) > 200


@pytest.mark.parametrize("kind", ["stdout/stderr", "state.db", "plan file", ".skyform files", "cache"])
def test_no_secret_value_anywhere(campaign: Scan, kind: str) -> None:
    """No secret value in any output stream, state.db, saved plan, artifact, cache file."""
    pick = {
        "stdout/stderr": lambda p: ":std" in p,
        "state.db": lambda p: p.startswith(".skyform/state.db"),
        "plan file": lambda p: p == "saved plan file",
        ".skyform files": lambda p: (
            p.startswith(".skyform/") and not p.startswith(".skyform/state.db") and not p.startswith(".skyform/sandbox")
        ),
        "cache": lambda p: p.startswith("xdg-cache/"),
    }[kind]
    places = {p: d for p, d in campaign.places.items() if pick(p)}
    assert places or kind == "cache"
    assert campaign.leaks(places) == []


def test_the_spec_secret_reached_the_service_and_nowhere_else(campaign: Scan) -> None:
    """The gate code was really sent (the simulator stored the job notes), so its absence
    from everything skyform wrote means masking, not a vacuous scan."""
    sandbox = campaign.sandbox  # type: ignore[attr-defined]
    assert any(GATE_CODE.encode() in data for data in sandbox.values())


def test_simulators_do_not_keep_a_rejected_credential(campaign: Scan) -> None:
    """The wrong token the run tried is not kept by the simulators. (Their own credentials
    are in their state files by design - a simulator's user database, handed out in
    providers.json - so they are not looked for there.)"""
    assert campaign.leaks(campaign.sandbox, {"WRONG_TOKEN": WRONG_TOKEN}) == []  # type: ignore[attr-defined]


def test_figure(campaign: Scan, capsys: pytest.CaptureFixture[str]) -> None:
    """Print the figure: places scanned / secrets / leaks."""
    leaks = campaign.leaks() + campaign.leaks(campaign.sandbox, {"WRONG_TOKEN": WRONG_TOKEN})  # type: ignore[attr-defined]
    total = len(campaign.places) + len(campaign.sandbox)  # type: ignore[attr-defined]
    with capsys.disabled():
        print(
            f"\nsecrets campaign: {total} places scanned, {len(campaign.secrets)} secret values, "
            f"{len(leaks)} leaks {sorted(set(leaks))[:10]}"
        )
