"""End to end through the skyform CLI: validate, apply --sandbox, re-plan, replace, destroy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from skyform.testing.runner import CliRun, cli_available, run_cli
from skyform_satellogic.provider import PROVIDER

EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "satellogic-basic"

pytestmark = pytest.mark.skipif(not cli_available(), reason="the skyform CLI is not available")


@pytest.fixture(autouse=True)
def _fast_sandbox_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox of every in-process run at 20,000x: a one-off task is ready in ~0.7 s, not 3.6 s.

    ``--sandbox`` reads SKYFORM_SANDBOX_CLOCK when it starts the simulators (the default of
    SimClock() alone no longer reaches them: patching it left these runs at 3,600x).
    """
    monkeypatch.setenv("SKYFORM_SANDBOX_CLOCK", "20000")


def skyform(*args: str | Path) -> CliRun:
    return run_cli(*args, providers=[PROVIDER])


@pytest.fixture
def mission(tmp_path: Path) -> Path:
    target = tmp_path / "satellogic-basic"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".skyform"))
    return target


def task_count(mission: Path) -> dict[str, int]:
    run = skyform("sandbox", "objects", "--json", mission)
    assert run.exit_code == 0, run.output
    return run.json()["objects"].get("satellogic", {})


def test_example_mission_validates() -> None:
    """specs/satellogic-basic is a valid mission."""
    run = skyform("validate", EXAMPLE)
    assert run.exit_code == 0, run.output


def test_invalid_task_is_reported_with_its_location(tmp_path: Path) -> None:
    """skyform validate reports each broken rule at file:line:col, before any request."""
    (tmp_path / "mission.yaml").write_text("""\
apiVersion: skyform/v1
kind: Mission
metadata: {name: broken}
resources:
  area:
    type: satellogic.Task
    spec:
      task_name: Area
      project_name: P
      product: 178
      target:
        type: Polygon
        coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]]
      start: "2031-01-12T00:00:00Z"
      end: "2030-12-23T00:00:00Z"
      expected_age: "7 days, 00:00:00"
""")
    run = skyform("validate", tmp_path)
    assert run.exit_code == 3, run.output
    assert (
        "resources.area.spec.end: end 2030-12-23T00:00:00Z must be after start 2031-01-12T00:00:00Z"
        " [satellogic.Task]" in run.output
    )
    assert "resources.area.spec.target.coordinates.0: ring 0 is not closed" in run.output
    assert "resources.area.spec.expected_age: expected_age (recurrence) is available for POI tasks only" in run.output
    assert "mission.yaml:15:" in run.output  # the line of `end`


def test_apply_replan_replace_destroy(mission: Path) -> None:
    """The example applies in the sandbox, re-plans as a no-op, replaces on change, and destroys."""
    first = skyform("apply", "--sandbox", "--auto-approve", mission)
    assert first.exit_code == 0, first.output
    assert "Apply complete! Resources: 4 created, 0 updated, 0 replaced, 0 deleted." in first.output
    assert "products = [90, 169, 178]" in first.output
    assert task_count(mission) == {"task": 3}

    again = skyform("plan", "--sandbox", "--detailed-exitcode", mission)
    assert again.exit_code == 0, again.output

    spec = mission / "mission.yaml"
    spec.write_text(spec.read_text().replace("      priority: 14\n", "      priority: 13\n"))
    plan = skyform("plan", "--sandbox", mission)
    assert "-/+ park_once (satellogic.Task) must be replaced" in plan.output, plan.output
    assert "~ priority: 14 → 13" in plan.output
    assert "cancels a paid order and tasks a new one" in plan.output
    replaced = skyform("apply", "--sandbox", "--auto-approve", mission)
    assert replaced.exit_code == 0, replaced.output
    assert task_count(mission) == {"task": 3}  # the old order canceled, a new one placed

    gone = skyform("destroy", "--sandbox", "--auto-approve", mission)
    assert gone.exit_code == 0, gone.output
    assert task_count(mission) == {"task": 0}


def test_plan_refuses_a_priority_outside_the_client_range(mission: Path) -> None:
    """The plan-time priority check stops `skyform plan` with the range and a hint, at the field."""
    spec = mission / "mission.yaml"
    spec.write_text(spec.read_text().replace("      priority: 14\n", "      priority: 11\n"))
    run = skyform("plan", "--sandbox", mission)
    assert run.exit_code == 3, run.output
    assert (
        "resources.park_once.spec.priority: priority 11 is outside the range of client 'Amusement Corp': "
        "13 (highest) to 15 (lowest); smaller numbers are higher priority [satellogic.Task]"
    ) in run.output
    assert "hint: use a number from 13 to 15, or omit it for the default 14" in run.output
    assert task_count(mission).get("task", 0) == 0  # nothing was ordered


def test_apply_adopts_the_task_of_a_create_whose_answer_was_lost(mission: Path) -> None:
    """State says 'creating' with no remote id (killed right after the POST): plan and apply adopt."""
    from dataclasses import replace

    from skyform.state.sqlite import SqliteStateStore

    assert skyform("apply", "--sandbox", "--auto-approve", mission).exit_code == 0
    store = SqliteStateStore(mission / ".skyform" / "state.db")
    try:
        before = store.resources("satellogic-basic")["park_once"]
        store.write(
            "satellogic-basic",
            [replace(before, status="creating", remote_id=None, outputs={}, observed={}, private={})],
        )
    finally:
        store.close()
    plan = skyform("plan", "--sandbox", mission)
    assert f"found {before.remote_id} made by the interrupted create: it will be adopted" in plan.output, plan.output
    again = skyform("apply", "--sandbox", "--auto-approve", mission)
    assert again.exit_code == 0, again.output
    assert task_count(mission) == {"task": 3}  # nothing ordered twice
    store = SqliteStateStore(mission / ".skyform" / "state.db")
    try:
        assert store.resources("satellogic-basic")["park_once"].remote_id == before.remote_id
    finally:
        store.close()
