"""`skyform import` records an object completely: after importing what a mission made, the
same mission plans no change.

Each example mission is applied in the sandbox, its state is forgotten (`state rm`), and every
resource is imported back by its remote id, in the order it was created. The next plan must
be empty: a field recorded incompletely at import (CVAT labels without their colours, a task's
images, a DroneBundle job's project) would show as a change, often a destructive replace.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from skyform.state.sqlite import SqliteStateStore
from skyform.testing import run_cli
from skyform.testing.runner import cli_available

SPECS = Path(__file__).resolve().parents[2] / "specs"
ENV = {"SKYFORM_SANDBOX_CLOCK": "50000"}
EXAMPLES = [
    "cvat-basic",
    "dronebundle-basic",
    "dronebundle-recurring",
    "satellogic-basic",
    "itwin-basic",
    "nodeodm-basic",
]
#: an imported NodeODM task is planned as a wait: apply downloads its products (which the
#: import does not fetch); nothing is made or changed in the service
WAITS = {"nodeodm.Task"}

# a campaign (every example mission applied, forgotten, imported back): README, Development;
# run with `-m slow`. One import's behaviour per provider: tests/<provider>/ (e.g. test_cvat_imports.py)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not cli_available(), reason="the skyform CLI is not available")]


def applied_copy(tmp_path: Path, name: str, *flags: str) -> Path:
    target = tmp_path / name
    shutil.copytree(SPECS / name, target, ignore=shutil.ignore_patterns(".skyform"))
    applied = run_cli("apply", "--sandbox", "--auto-approve", *flags, str(target), env=ENV)
    assert applied.exit_code == 0, applied.output
    return target


def records(mission: Path) -> dict[str, Any]:
    store = SqliteStateStore(mission / ".skyform" / "state.db")
    try:
        (recorded,) = store.missions()
        return store.resources(recorded.name)
    finally:
        store.close()


def forget_and_import(mission: Path, addresses: list[str] | None = None, *flags: str) -> None:
    recorded = records(mission)
    chosen = sorted(addresses or recorded, key=lambda a: recorded[a].created_at)
    for address in chosen:
        assert run_cli("state", "rm", str(mission), address, env=ENV).exit_code == 0
    for address in chosen:
        ran = run_cli("import", "--sandbox", *flags, str(mission), address, str(recorded[address].remote_id), env=ENV)
        assert ran.exit_code == 0, ran.output


def plan(mission: Path, *flags: str) -> dict[str, dict[str, Any]]:
    ran = run_cli("plan", "--sandbox", "--json", *flags, str(mission), env=ENV)
    assert ran.exit_code == 0, ran.output
    (line,) = [json.loads(x) for x in ran.output.splitlines() if '"event": "plan"' in x]
    return {a["address"]: a for a in line["actions"]}


@pytest.mark.parametrize("name", EXAMPLES)
def test_importing_what_a_mission_made_plans_no_change(tmp_path: Path, name: str) -> None:
    """Every resource of the example, forgotten and imported back, is up to date."""
    mission = applied_copy(tmp_path, name)
    forget_and_import(mission)
    changing = {
        a: (x["action"], x["reason"], x.get("changes"), x.get("drift"))
        for a, x in plan(mission).items()
        if x["action"] != "noop" and not (x["action"] == "resume" and x["type"] in WAITS)
    }
    assert changing == {}


@pytest.fixture
def cvat(tmp_path: Path) -> Path:
    return applied_copy(tmp_path, "cvat-basic")


def edit(mission: Path, old: str, new: str) -> None:
    path = mission / "mission.yaml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))


def test_an_imported_project_whose_colour_differs_is_updated_in_place(cvat: Path) -> None:
    """The spec gives another colour than CVAT has: an in-place update, and the task stays."""
    edit(cvat, '{name: crack, color: "#ff0000"', '{name: crack, color: "#00aa00"')
    forget_and_import(cvat, ["defects"])
    actions = plan(cvat)
    assert actions["defects"]["action"] == "update", actions["defects"]
    assert actions["inspection"]["action"] == "noop"


def test_an_imported_project_whose_label_type_differs_names_the_field_forcing_the_replace(cvat: Path) -> None:
    """What cannot change in place is a replace, and the plan says which field forces it."""
    edit(cvat, 'color: "#ff0000", type: polyline', 'color: "#ff0000", type: polygon')
    forget_and_import(cvat, ["defects"])
    actions = plan(cvat)
    assert actions["defects"]["action"] == "replace"
    assert actions["defects"]["notes"] == [
        "label crack: type cannot change in place; CVAT would delete the label's annotations"
    ]


def test_import_takes_a_secrets_file_and_records_no_secret(tmp_path: Path) -> None:
    """A name made of a secret: import reads it with --secrets-file, the next plan is empty, and the
    value is nowhere in the command's output or the state file."""
    secret = "site-7f3a9c-confidential"
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"SITE_CODE: {secret}\n")
    target = tmp_path / "cvat-basic"
    shutil.copytree(SPECS / "cvat-basic", target, ignore=shutil.ignore_patterns(".skyform"))
    edit(target, "name: A12 defects", 'name: "A12 defects ${{ secrets.SITE_CODE }}"')
    applied = run_cli("apply", "--sandbox", "--auto-approve", "--secrets-file", str(secrets), str(target), env=ENV)
    assert applied.exit_code == 0, applied.output
    project = records(target)["defects"].remote_id
    assert run_cli("state", "rm", str(target), "defects", env=ENV).exit_code == 0
    imported = run_cli(
        "import", "--sandbox", "--secrets-file", str(secrets), str(target), "defects", str(project), env=ENV
    )
    assert imported.exit_code == 0, imported.output
    assert secret not in imported.output
    assert secret.encode() not in (target / ".skyform" / "state.db").read_bytes()
    actions = plan(target, "--secrets-file", str(secrets))
    assert {a: x["action"] for a, x in actions.items() if x["action"] != "noop"} == {}
