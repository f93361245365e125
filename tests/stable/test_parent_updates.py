"""An in-place update of a parent leaves its children alone, for every built-in provider whose
kinds have children, end to end through the CLI against the sandbox simulators.

Each test applies a mission, changes a field of the parent that updates in place, checks that
the plan updates the parent and leaves the children as no-ops (they use only outputs the
update keeps), applies, and checks that the children are the same remote objects as before.
(CVAT Project -> Task -> Job/Annotations/Export is in tests/cvat/test_cvat_stable_outputs.py.)
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from skyform.state.sqlite import SqliteStateStore
from skyform.testing import run_cli
from skyform.testing.runner import cli_available

SPECS = Path(__file__).resolve().parents[2] / "specs"
ENV = {"SKYFORM_SANDBOX_CLOCK": "50000"}

pytestmark = pytest.mark.skipif(not cli_available(), reason="the skyform CLI is not available")

HEADER = """\
apiVersion: skyform/v1
kind: Mission
metadata: {name: family}
providers:
  satellogic:
    client_id: "${{ secrets.SATELLOGIC_CLIENT_ID }}"
    client_secret: "${{ secrets.SATELLOGIC_CLIENT_SECRET }}"
  dronebundle: {api_key: "${{ secrets.DRONEBUNDLE_API_KEY }}"}
"""


def write(mission: Path, body: str) -> None:
    mission.mkdir(parents=True, exist_ok=True)
    (mission / "mission.yaml").write_text(HEADER + textwrap.dedent(body))


def edit(mission: Path, old: str, new: str) -> None:
    path = mission / "mission.yaml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))


def apply(mission: Path) -> None:
    ran = run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=ENV)
    assert ran.exit_code == 0, ran.output


def plan(mission: Path, *flags: str) -> dict[str, str]:
    ran = run_cli("plan", "--sandbox", "--json", *flags, str(mission), env=ENV)
    assert ran.exit_code == 0, ran.output
    (line,) = [json.loads(x) for x in ran.output.splitlines() if '"event": "plan"' in x]
    return {a["address"]: a["action"] for a in line["actions"]}


def remote_ids(mission: Path) -> dict[str, str | None]:
    store = SqliteStateStore(mission / ".skyform" / "state.db")
    try:
        (recorded,) = store.missions()
        return {a: r.remote_id for a, r in store.resources(recorded.name).items()}
    finally:
        store.close()


def objects(mission: Path) -> dict[str, Any]:
    ran = run_cli("sandbox", "objects", "--json", str(mission), env=ENV)
    assert ran.exit_code == 0, ran.output
    return ran.json()["objects"]


def updated_alone(mission: Path, parent: str, children: list[str]) -> None:
    """The plan updates ``parent`` and nothing else; apply keeps every child's remote object."""
    before, counts = remote_ids(mission), objects(mission)
    actions = plan(mission)
    assert actions[parent] == "update", actions
    assert {c: actions[c] for c in children} == dict.fromkeys(children, "noop")
    apply(mission)
    assert remote_ids(mission) == before
    assert objects(mission) == counts
    ran = run_cli("plan", "--sandbox", "--detailed-exitcode", str(mission), env=ENV)
    assert ran.exit_code == 0, ran.output


def test_dronebundle_project_update_keeps_its_jobs(tmp_path: Path) -> None:
    """A new project description is a PATCH; the jobs (whose project_id is immutable, and which
    the API cannot delete) are not touched."""
    mission = tmp_path / "dronebundle-basic"
    shutil.copytree(SPECS / "dronebundle-basic", mission, ignore=shutil.ignore_patterns(".skyform"))
    apply(mission)
    edit(mission, "description: Annual structural inspection", "description: Yearly structural inspection")
    updated_alone(mission, "site", ["deck_inspection", "thermal_scan"])


def test_satellogic_wait_for_update_keeps_what_uses_the_order(tmp_path: Path) -> None:
    """Changing a Satellogic task's wait_for keeps the order (task_id): a DroneBundle job whose
    notes name it is not changed."""
    mission = tmp_path / "family"
    write(
        mission,
        """\
        resources:
          baseline:
            type: satellogic.Task
            spec:
              task_name: A12 baseline
              project_name: Bridge inspections
              product: 169
              target: {type: Point, coordinates: [12.5683, 55.6761]}
              start: "2027-02-01T00:00:00+00:00"
              end: "2027-03-01T00:00:00+00:00"
              max_captures: 1
              wait_for: first_capture
          site:
            type: dronebundle.Project
            spec: {name: Bridge A12}
          flight:
            type: dronebundle.Job
            spec:
              project_id: "${{ resources.site.outputs.id }}"
              name: A12 deck, visual
              type: drone_inspection
              job_pattern: one_time
              start_date: "2027-03-01"
              inspection_notes: "Baseline ${{ resources.baseline.outputs.task_id }} is on file."
        """,
    )
    apply(mission)
    edit(mission, "wait_for: first_capture", "wait_for: accepted")
    updated_alone(mission, "baseline", ["flight", "site"])


def nodeodm_with_a_uuid_user(tmp_path: Path) -> Path:
    """specs/nodeodm-basic plus a DroneBundle project whose description names the task's uuid."""
    mission = tmp_path / "nodeodm-basic"
    shutil.copytree(SPECS / "nodeodm-basic", mission, ignore=shutil.ignore_patterns(".skyform"))
    path = mission / "mission.yaml"
    text = path.read_text().replace(
        "  nodeodm:\n", '  dronebundle: {api_key: "${{ secrets.DRONEBUNDLE_API_KEY }}"}\n  nodeodm:\n', 1
    )
    site = (
        "  site:\n"
        "    type: dronebundle.Project\n"
        "    spec:\n"
        "      name: Bridge A12\n"
        '      description: "Reconstructed as NodeODM task ${{ resources.reconstruct.outputs.uuid }}"\n'
    )
    text = text.replace("\noutputs:\n", "\n" + site + "outputs:\n", 1)
    path.write_text(text)
    return mission


def test_nodeodm_task_update_keeps_what_uses_its_uuid(tmp_path: Path) -> None:
    """New processing options restart the NodeODM task under the same uuid: a resource that
    names the uuid is not changed (one that used a product would be: products are made anew)."""
    mission = nodeodm_with_a_uuid_user(tmp_path)
    apply(mission)
    edit(mission, "pc-quality: medium", "pc-quality: high")
    before = remote_ids(mission)
    actions = plan(mission)
    assert (actions["reconstruct"], actions["site"], actions["photos"]) == ("update", "noop", "noop")
    apply(mission)
    assert remote_ids(mission) == before


def test_a_task_still_running_after_its_update_keeps_what_uses_its_uuid(tmp_path: Path) -> None:
    """The restarted task is left running (apply --detach): a plan from the recorded state
    waits for it and still leaves the resource naming its uuid alone (a running job keeps
    its identity; what it produces is known after apply)."""
    mission = nodeodm_with_a_uuid_user(tmp_path)
    apply(mission)
    edit(mission, "pc-quality: medium", "pc-quality: high")
    detached = run_cli("apply", "--sandbox", "--auto-approve", "--detach", str(mission), env=ENV)
    assert detached.exit_code == 0, detached.output
    for flags in ((), ("--refresh=false",)):  # as the node reports it, and as state records it
        actions = plan(mission, *flags)
        assert (actions["reconstruct"], actions["site"]) == ("resume", "noop"), (flags, actions)


def test_itwin_workspace_cannot_change_in_place_so_its_job_follows_a_replace(tmp_path: Path) -> None:
    """The iTwin API cannot update a workspace: a change replaces it, and the job in it, whose
    workspaceId is then known only after apply, is replaced too (the rule is per field, not a
    blanket: only a real change of a value the child uses replaces it)."""
    mission = tmp_path / "itwin-basic"
    shutil.copytree(SPECS / "itwin-basic", mission, ignore=shutil.ignore_patterns(".skyform"))
    apply(mission)
    edit(mission, "name: bridge-a12", "name: bridge-a12-2027")
    assert dict(plan(mission).items()) == {"workspace": "replace", "mesh": "replace"}
