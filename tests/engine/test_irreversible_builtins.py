"""The built-in kinds' irreversibility, as declared from the documented APIs (shared/api/REFERENCE.md).

Satellogic: a task is cancellable until its capture window opens, a taken capture is paid;
DroneBundle: a job is cancellable until its pilot is booked (status ``planned``); iTwin: a
submitted job bills; CVAT: deleting a task or project deletes its annotations; NodeODM and
local files are reversible. The demo mission's sandbox plan shows them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from skyform.providers import CheckContext, Irreversibility, Record, Reversibility
from skyform_cvat.project import ProjectKind as CvatProject
from skyform_cvat.task import TaskKind as CvatTask
from skyform_dronebundle.job import JobKind as DroneJob
from skyform_itwin.job import JobKind as ItwinJob
from skyform_local.files import FilesKind
from skyform_nodeodm.task import TaskKind as OdmTask
from skyform_satellogic.task import TaskKind as SatTask

CTX = CheckContext(today=date.today(), mission_dir=Path("."), address="x")
REPO = Path(__file__).resolve().parents[2]


def record(outputs: dict[str, Any] | None = None, remote_id: str | None = "7") -> Record:
    return Record("x", "t", remote_id, "ready", {}, outputs or {}, {}, {}, "key", 0.0)


def instant(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds")


def test_a_satellogic_task_is_cancellable_until_its_window_opens():
    start = instant(30)
    declared = SatTask().irreversibility("create", {"start": start}, None, CTX)
    assert declared.level == Reversibility.CANCELLABLE and declared.until == start
    assert "capture taken is paid" in declared.reason


def test_a_satellogic_task_whose_window_is_open_or_whose_captures_are_taken_is_irreversible():
    opened = SatTask().irreversibility("create", {"start": instant(-1)}, None, CTX)
    assert opened.needs_ack and "capture window opened" in opened.reason
    taken = SatTask().irreversibility("delete", None, record({"capture_count": 2}), CTX)
    assert taken == Irreversibility.irreversible("2 captures already taken and paid; cancelling the order refunds none")
    assert SatTask().irreversibility("delete", None, record({"capture_count": 0}), CTX).level == "reversible"
    assert SatTask().irreversibility("update", {"start": instant(-1)}, record(), CTX).level == "reversible"


def test_a_dronebundle_job_is_cancellable_until_its_pilot_is_booked():
    created = DroneJob().irreversibility("create", {"name": "j"}, None, CTX)
    assert created.level == Reversibility.CANCELLABLE and created.until == "its pilot is booked (job status planned)"
    booked = DroneJob().irreversibility("replace", {"name": "j"}, record({"status": "planned"}), CTX)
    assert booked.needs_ack and "pilot is booked (status planned)" in booked.reason
    assert DroneJob().irreversibility("delete", None, record({"status": "not_started"}), CTX).level == "reversible"


def test_an_itwin_job_bills_once_submitted():
    assert ItwinJob().irreversibility("create", {}, None, CTX).needs_ack
    assert ItwinJob().irreversibility("replace", {}, record(), CTX).needs_ack
    assert ItwinJob().irreversibility("update", {}, record(), CTX).level == "reversible"


@pytest.mark.parametrize("kind", [CvatTask(), CvatProject()], ids=["task", "project"])
def test_deleting_a_cvat_task_or_project_loses_its_annotations(kind):
    gone = kind.irreversibility("delete", None, record(), CTX)
    assert gone.needs_ack and "annotations" in gone.reason and "cannot be recovered" in gone.reason
    assert kind.irreversibility("replace", {}, record(), CTX).needs_ack
    assert kind.irreversibility("create", {}, None, CTX).level == "reversible"


@pytest.mark.parametrize("kind", [OdmTask(), FilesKind()], ids=["nodeodm", "local"])
def test_nodeodm_and_local_files_are_reversible(kind):
    for action in ("create", "replace", "delete"):
        assert kind.irreversibility(action, {}, record(), CTX).level == "reversible"


def test_the_demo_plan_shows_what_cannot_be_undone(tmp_path):
    """The example mission's plan (built-in providers, in-process: no process start needed)."""
    import shutil

    from skyform.testing import run_cli

    mission = tmp_path / "bridge-a12"
    shutil.copytree(REPO / "specs" / "bridge-a12", mission)
    ran = run_cli("plan", "--sandbox", "--json", str(mission))
    assert ran.exit_code == 0, ran.stderr
    plan = next(json.loads(line) for line in ran.stdout.splitlines() if '"event": "plan"' in line)
    classes = {m["address"]: m["class"] for m in plan["irreversible"]}
    assert classes == {"baseline": "cancellable-until", "flight": "cancellable-until", "mesh": "irreversible"}
    baseline = next(m for m in plan["irreversible"] if m["address"] == "baseline")
    assert baseline["until"] == "2027-02-01T00:00:00+00:00"
    assert plan["approval"]["needed"] and plan["approval"]["why"] == ["irreversible: mesh (create)"]
    from jsonschema import Draft202012Validator

    from skyform.plan.schema import PLAN_SCHEMA

    assert [e.message for e in Draft202012Validator(PLAN_SCHEMA).iter_errors(plan)] == []
