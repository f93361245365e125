"""Changing the CVAT project in place keeps its tasks: the plan shows the project updated and
nothing else, and apply leaves the task, its jobs and its annotations where they were.

specs/cvat-basic runs through the CLI against the sandbox; the CVAT simulator's saved state is
then served again and read over HTTP, as a user would check it in CVAT.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from skyform.sandbox.clock import SimClock
from skyform.sandbox.faults import Faults
from skyform.sandbox.host import SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions
from skyform.state.sqlite import SqliteStateStore
from skyform.testing import run_cli
from skyform.testing.runner import cli_available
from skyform_cvat.simulator import CvatSimulator

SPEC = Path(__file__).resolve().parents[2] / "specs" / "cvat-basic"
ENV = {"SKYFORM_SANDBOX_CLOCK": "50000"}
CHILDREN = ("inspection", "validation", "first_half", "second_half", "prelabels", "dataset")

pytestmark = pytest.mark.skipif(not cli_available(), reason="the skyform CLI is not available")


@pytest.fixture
def mission(tmp_path: Path) -> Path:
    target = tmp_path / "cvat-basic"
    shutil.copytree(SPEC, target, ignore=shutil.ignore_patterns(".skyform"))
    applied = run_cli("apply", "--sandbox", "--auto-approve", str(target), env=ENV)
    assert applied.exit_code == 0, applied.output
    return target


def edit(mission: Path, old: str, new: str) -> None:
    path = mission / "mission.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def plan_actions(mission: Path) -> dict[str, dict[str, Any]]:
    ran = run_cli("plan", "--sandbox", "--json", str(mission), env=ENV)
    assert ran.exit_code == 0, ran.output
    (plan,) = [json.loads(line) for line in ran.output.splitlines() if '"event": "plan"' in line]
    return {a["address"]: a for a in plan["actions"]}


def remote_ids(mission: Path) -> dict[str, str | None]:
    store = SqliteStateStore(mission / ".skyform" / "state.db")
    try:
        return {a: r.remote_id for a, r in store.resources("cvat-basic").items()}
    finally:
        store.close()


@pytest.fixture
def cvat() -> Iterator[Any]:
    """A function serving the mission's saved CVAT sandbox and GETting a path from it."""
    hosts: list[SimulatorHost] = []

    def get(mission: Path, path: str) -> Any:
        options = SimulatorOptions(state_dir=mission / ".skyform" / "sandbox", clock=SimClock(1.0), faults=Faults())
        host = SimulatorHost()
        hosts.append(host)
        running = host.__enter__().start(CvatSimulator(options))
        token = running.settings()["access_token"]
        answer = httpx.get(running.base_url + path, headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()
        return answer.json()

    yield get
    for host in hosts:
        host.__exit__(None, None, None)


def test_renaming_the_project_updates_it_alone(mission: Path, cvat: Any) -> None:
    """A new project name is an in-place update; the task (which uses the project's id), its
    jobs, the import and the export are no-ops, and stay the same objects after apply."""
    before = remote_ids(mission)
    shapes = len(cvat(mission, f"/api/tasks/{before['inspection']}/annotations/")["shapes"])
    assert shapes > 0
    edit(mission, "name: A12 defects", "name: A12 defects (2026)")
    actions = plan_actions(mission)
    assert actions["defects"]["action"] == "update"
    assert {a: actions[a]["action"] for a in CHILDREN} == dict.fromkeys(CHILDREN, "noop")
    applied = run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=ENV)
    assert applied.exit_code == 0, applied.output
    assert remote_ids(mission) == before
    project = cvat(mission, f"/api/projects/{before['defects']}")
    assert project["name"] == "A12 defects (2026)"
    assert len(cvat(mission, f"/api/tasks/{before['inspection']}/annotations/")["shapes"]) == shapes
    replan = run_cli("plan", "--sandbox", "--detailed-exitcode", str(mission), env=ENV)
    assert replan.exit_code == 0, replan.output


def test_recolouring_a_label_updates_it_in_place_and_keeps_its_annotations(mission: Path, cvat: Any) -> None:
    """A label's colour changes in place (PATCH /api/labels/{id}): the plan is one update, and
    the task, its jobs and its annotations (which use that label) survive the apply."""
    before = remote_ids(mission)
    annotations = cvat(mission, f"/api/tasks/{before['inspection']}/annotations/")["shapes"]
    edit(mission, '{name: crack, color: "#ff0000"', '{name: crack, color: "#00aa00"')
    actions = plan_actions(mission)
    assert actions["defects"]["action"] == "update", actions["defects"]
    assert {a: actions[a]["action"] for a in CHILDREN} == dict.fromkeys(CHILDREN, "noop")
    applied = run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=ENV)
    assert applied.exit_code == 0, applied.output
    assert remote_ids(mission) == before
    labels = cvat(mission, f"/api/labels?project_id={before['defects']}")["results"]
    assert {lb["name"]: lb["color"] for lb in labels}["crack"] == "#00aa00"
    assert cvat(mission, f"/api/tasks/{before['inspection']}/annotations/")["shapes"] == annotations
    replan = run_cli("plan", "--sandbox", "--detailed-exitcode", str(mission), env=ENV)
    assert replan.exit_code == 0, replan.output


def test_changing_a_labels_type_is_a_replace_that_names_the_field(mission: Path) -> None:
    """What CVAT cannot change in place still replaces the project, and the note says which field."""
    edit(mission, 'color: "#ff0000", type: polyline', 'color: "#ff0000", type: polygon')
    actions = plan_actions(mission)
    assert actions["defects"]["action"] == "replace"
    assert actions["defects"]["notes"] == [
        "label crack: type cannot change in place; CVAT would delete the label's annotations"
    ]
    assert actions["inspection"]["action"] == "replace"


def test_renaming_the_task_keeps_its_jobs_import_and_export(mission: Path, cvat: Any) -> None:
    """The task's name changes in place: its jobs, the import and the export are no-ops."""
    before = remote_ids(mission)
    shapes = cvat(mission, f"/api/tasks/{before['inspection']}/annotations/")["shapes"]
    edit(mission, "name: A12 inspection 2026-11", "name: A12 inspection, November 2026")
    actions = plan_actions(mission)
    assert actions["inspection"]["action"] == "update"
    rest = [a for a in CHILDREN if a != "inspection"]
    assert {a: actions[a]["action"] for a in rest} == dict.fromkeys(rest, "noop")
    applied = run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=ENV)
    assert applied.exit_code == 0, applied.output
    assert remote_ids(mission) == before
    assert cvat(mission, f"/api/tasks/{before['inspection']}")["name"] == "A12 inspection, November 2026"
    assert cvat(mission, f"/api/tasks/{before['inspection']}/annotations/")["shapes"] == shapes


SOLO = """\
apiVersion: skyform/v1
kind: Mission
metadata: {name: solo}
providers:
  cvat: {url: "https://cvat.example.com", access_token: "${{ secrets.CVAT_TOKEN }}"}
resources:
  frames: {type: local.Files, spec: {glob: "data/frames/*.png"}}
  solo:
    type: cvat.Task
    spec:
      name: solo
      labels: [{name: crack, color: "#ff0000"}]
      images: "${{ resources.frames.outputs.paths }}"
      segment_size: 3
  first:
    type: cvat.Job
    spec: {task_id: "${{ resources.solo.outputs.id }}", index: 0, assignee: alice}
"""


def test_a_task_of_its_own_labels_is_recoloured_in_place(tmp_path: Path, cvat: Any) -> None:
    """A task with its own label set: a colour changes in place (the job stays); a new label
    replaces the task, and the note says why."""
    mission = tmp_path / "solo"
    shutil.copytree(SPEC / "data", mission / "data")
    (mission / "mission.yaml").write_text(SOLO)
    assert run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=ENV).exit_code == 0
    store = SqliteStateStore(mission / ".skyform" / "state.db")
    before = {a: r.remote_id for a, r in store.resources("solo").items()}
    store.close()
    edit(mission, 'color: "#ff0000"', 'color: "#0000ff"')
    ran = run_cli("plan", "--sandbox", "--json", str(mission), env=ENV)
    (plan,) = [json.loads(x) for x in ran.output.splitlines() if '"event": "plan"' in x]
    assert {a["address"]: a["action"] for a in plan["actions"]} == {"frames": "noop", "solo": "update", "first": "noop"}
    assert run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=ENV).exit_code == 0
    store = SqliteStateStore(mission / ".skyform" / "state.db")
    assert {a: r.remote_id for a, r in store.resources("solo").items()} == before
    store.close()
    labels = cvat(mission, f"/api/labels?task_id={before['solo']}")["results"]
    assert [(lb["name"], lb["color"]) for lb in labels] == [("crack", "#0000ff")]
    edit(mission, '[{name: crack, color: "#0000ff"}]', '[{name: crack, color: "#0000ff"}, {name: rust}]')
    ran = run_cli("plan", "--sandbox", "--json", str(mission), env=ENV)
    (plan,) = [json.loads(x) for x in ran.output.splitlines() if '"event": "plan"' in x]
    solo = next(a for a in plan["actions"] if a["address"] == "solo")
    assert solo["action"] == "replace"
    assert solo["notes"] == ["labels rust cannot be added to a task in place (a project's can): a new task is made"]
