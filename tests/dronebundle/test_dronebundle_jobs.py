"""Jobs over real HTTP: create, read, update (changed fields only), status as desired state,
recurring patterns, plan notes, the crash between POST and state write, and delete."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from skyform.errors import AdoptError, PermanentError
from skyform.providers import Change
from skyform_dronebundle.job import patch_body
from skyform_dronebundle.provider import connect

START = (datetime.now(UTC).date() + timedelta(days=14)).isoformat()
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def job_spec(project_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "name": "Bridge A12 deck",
        "type": "drone_inspection",
        "job_pattern": "one_time",
        "start_date": START,
        **extra,
    }


@pytest.fixture
def sent(client: Any) -> list[tuple[str, str, Any]]:
    """Every request the provider's client sends: (method, path, JSON body)."""
    log: list[tuple[str, str, Any]] = []

    def record(request: Any) -> None:
        body = json.loads(request.content) if request.content else None
        log.append((request.method, request.url.path, body))

    client.service.http.event_hooks["request"].append(record)
    return log


def test_create_returns_a_ready_job_with_normalised_outputs(job_kind, make_ctx, project_id, sandbox) -> None:
    """Create POSTs the job and reads it back: a UUIDv7 id, status, ISO 8601 UTC created/updated."""
    before = sandbox.simulator.objects()["job"]
    ctx = make_ctx()
    result = job_kind.create(job_spec(project_id, latitude=55.6761, longitude=12.5683), ctx)
    assert result.status == "ready"
    assert UUID7.match(result.remote_id)
    out = result.outputs
    assert out["id"] == result.remote_id and out["project_id"] == project_id
    assert out["status"] == "not_started" and out["start_date"] == START
    assert ISO_UTC.match(out["created"]) and ISO_UTC.match(out["updated"])
    assert sandbox.simulator.objects()["job"] == before + 1


def test_create_derives_external_id_from_mission_resource_and_key(job_kind, make_ctx, project_id, client) -> None:
    """Without an external_id in the spec, the job carries skyform:<mission>:<address>:<key8>."""
    key = str(uuid.uuid4())
    result = job_kind.create(job_spec(project_id), make_ctx(address="flight", key=key))
    expected = f"skyform:bridge-a12:flight:{key.replace('-', '')[:8]}"
    assert result.outputs["external_id"] == expected
    assert client.get_job(project_id, result.remote_id)["external_id"] == expected
    assert "external_id" not in result.observed  # not a spec field here: never drift


def test_create_keeps_the_spec_external_id(job_kind, make_ctx, project_id, client) -> None:
    """An external_id given in the spec is sent as it is."""
    result = job_kind.create(job_spec(project_id, external_id="WO-4711"), make_ctx())
    assert client.get_job(project_id, result.remote_id)["external_id"] == "WO-4711"


def test_read_observes_the_spec_fields_without_drift(job_kind, make_ctx, project_id, record_of) -> None:
    """Read after create observes exactly the spec's values (dates in the spec's form)."""
    spec = job_spec(project_id, capture_types=["thermal_inspection"], priority="high")
    ctx = make_ctx()
    record = record_of(job_kind.create(spec, ctx), spec, ctx)
    observed = job_kind.read(record, ctx).observed
    assert observed == spec


def test_read_of_a_job_that_is_gone_is_none(job_kind, make_ctx, project_id, record_of) -> None:
    """A 404 on GET means the job no longer exists: read returns None."""
    spec = job_spec(project_id)
    ctx = make_ctx()
    record = record_of(job_kind.create(spec, ctx), spec, ctx)
    ghost = record.__class__(**{**record.__dict__, "remote_id": "01890000-0000-7000-8000-000000000000"})
    assert job_kind.read(ghost, ctx) is None


def test_update_patches_only_the_changed_fields_and_clears_removed_ones(
    job_kind, make_ctx, project_id, record_of, sent, client
) -> None:
    """A renamed job with its description removed: PATCH {name, description: null}, nothing else."""
    old = job_spec(project_id, description="deck and piers", priority="high")
    ctx = make_ctx()
    record = record_of(job_kind.create(old, ctx), old, ctx)
    new = {k: val for k, val in old.items() if k != "description"} | {"name": "Bridge A12 deck, north"}
    changes = [Change(("name",), old["name"], new["name"]), Change(("description",), old["description"], None)]
    sent.clear()
    result = job_kind.update(record, new, changes, ctx)
    patches = [s for s in sent if s[0] == "PATCH"]
    assert patches == [
        (
            "PATCH",
            f"/v1/projects/{project_id}/jobs/{record.remote_id}",
            {"name": "Bridge A12 deck, north", "description": None},
        )
    ]
    remote = client.get_job(project_id, record.remote_id)
    assert remote["description"] is None and remote["priority"] == "high"
    assert result.observed == new


def test_update_sends_latitude_and_longitude_together() -> None:
    """Moving only the latitude still sends both coordinates (the API checks them as a pair)."""
    spec = {"latitude": 55.7, "longitude": 12.5}
    assert patch_body(spec, {"latitude"}, _record()) == {"latitude": 55.7, "longitude": 12.5}


def test_update_restores_documented_defaults_for_removed_fields() -> None:
    """Removing priority or status from the spec sets them back to medium / not_started."""
    assert patch_body({}, {"priority", "status"}, _record()) == {"status": "not_started", "priority": "medium"}


def test_status_is_desired_state(job_kind, make_ctx, project_id, record_of, client) -> None:
    """A status changed on the dashboard shows as drift, and update sets the spec's status back."""
    spec = job_spec(project_id, status="planned")
    ctx = make_ctx()
    record = record_of(job_kind.create(spec, ctx), spec, ctx)
    client.update_job(project_id, record.remote_id, {"status": "on_hold"})  # someone on the dashboard
    observed = job_kind.read(record, ctx).observed
    assert observed["status"] == "on_hold" != spec["status"]
    result = job_kind.update(record, spec, [Change(("status",), "on_hold", "planned")], ctx)
    assert result.outputs["status"] == "planned"


def test_status_other_sends_its_reason(job_kind, make_ctx, project_id, record_of, client) -> None:
    """Changing status to other sends other_status_reason with it."""
    spec = job_spec(project_id)
    ctx = make_ctx()
    record = record_of(job_kind.create(spec, ctx), spec, ctx)
    new = {**spec, "status": "other", "other_status_reason": "waiting for the river authority"}
    job_kind.update(record, new, [Change(("status",), None, "other")], ctx)
    remote = client.get_job(project_id, record.remote_id)
    assert (remote["status"], remote["other_status_reason"]) == ("other", "waiting for the river authority")


WEEKDAYS = {"recurring_frequency": "weekly", "selected_days_of_week": [1, 2, 3, 4, 5]}
EVERY_2_WEEKS = {"recurring_frequency": "weekly", "recurring_interval": 2}
FIRST_AND_THIRD = {"recurring_frequency": "monthly", "weeks_of_month": [1, 3], "selected_days_of_week": [1]}


@pytest.mark.parametrize(
    "fields",
    [WEEKDAYS, EVERY_2_WEEKS, FIRST_AND_THIRD],
    ids=["every-weekday", "every-2-weeks", "monthly-first-and-third-week"],
)
def test_documented_recurring_examples_are_created_with_their_occurrences(
    job_kind, make_ctx, project_id, sandbox, fields
) -> None:
    """The three documented recurring examples create jobs whose occurrences follow the pattern."""
    spec = job_spec(project_id, job_pattern="recurring", start_date="2026-12-01", **fields)
    result = job_kind.create(spec, make_ctx())
    dates = [datetime.fromisoformat(d).date() for d in sandbox.simulator.data["occurrences"][result.remote_id]["dates"]]
    assert dates
    if fields is WEEKDAYS:
        assert {d.isoweekday() for d in dates} == {1, 2, 3, 4, 5}
    elif fields is EVERY_2_WEEKS:
        assert all((b - a).days == 14 for a, b in itertools.pairwise(dates))
    else:
        assert all(d.isoweekday() == 1 and ((d.day - 1) // 7 + 1) in (1, 3) for d in dates)
        assert len({(d.year, d.month) for d in dates}) >= len(dates) // 2


def test_plan_flags_regenerated_occurrences(job_kind, record_of) -> None:
    """A pattern or recurring-field change is an update whose note says occurrences regenerate."""
    plan = job_kind.plan_change([Change(("recurring_interval",), 1, 2)], _record())
    assert plan.action == "update" and plan.note and "occurrences will be regenerated" in plan.note
    assert job_kind.plan_change([Change(("name",), "a", "b")], _record()).note is None
    moved = job_kind.plan_change([Change(("project_id",), "P1", "P2")], _record())
    assert moved.action == "replace"


def test_update_of_recurring_fields_regenerates_occurrences(job_kind, make_ctx, project_id, record_of, sandbox) -> None:
    """PATCHing a recurring field makes the service regenerate the job's occurrences."""
    spec = job_spec(project_id, job_pattern="recurring", **WEEKDAYS)
    ctx = make_ctx()
    record = record_of(job_kind.create(spec, ctx), spec, ctx)
    new = {**spec, "selected_days_of_week": [2, 4]}
    job_kind.update(record, new, [Change(("selected_days_of_week",), [1, 2, 3, 4, 5], [2, 4])], ctx)
    occurrence = sandbox.simulator.data["occurrences"][record.remote_id]
    assert occurrence["generation"] == 2
    assert {datetime.fromisoformat(d).date().isoweekday() for d in occurrence["dates"]} == {2, 4}


def test_switching_to_one_time_clears_the_recurring_fields(job_kind, make_ctx, project_id, record_of, client) -> None:
    """A recurring job made one-time: recurring fields removed from the spec are cleared with null."""
    spec = job_spec(project_id, job_pattern="recurring", **EVERY_2_WEEKS)
    ctx = make_ctx()
    record = record_of(job_kind.create(spec, ctx), spec, ctx)
    new = job_spec(project_id)
    changes = [
        Change(("job_pattern",), "recurring", "one_time"),
        Change(("recurring_frequency",), "weekly", None),
        Change(("recurring_interval",), 2, None),
    ]
    assert "occurrences will be regenerated" in (job_kind.plan_change(changes, record).note or "")
    job_kind.update(record, new, changes, ctx)
    remote = client.get_job(project_id, record.remote_id)
    assert (remote["job_pattern"], remote["recurring_frequency"], remote["recurring_interval"]) == (
        "one_time",
        None,
        None,
    )


def test_crash_between_post_and_state_write_is_reported_as_a_possible_orphan(
    job_kind, make_ctx, project_id, client, sandbox
) -> None:
    """The job was created but its id never recorded: adopt raises AdoptError naming the external_id
    the job carries, and how to import it or start anew; nothing is created twice."""
    ctx = make_ctx(address="flight")
    lost = job_kind.create(job_spec(project_id), ctx)  # the process dies before state is written
    jobs = sandbox.simulator.objects()["job"]
    restarted = make_ctx(address="flight", key=ctx.idempotency_key, c=connect(sandbox.settings()))
    with pytest.raises(AdoptError) as caught:
        job_kind.adopt(job_spec(project_id), restarted)
    external_id = client.get_job(project_id, lost.remote_id)["external_id"]
    message = str(caught.value)
    assert message.startswith(f"possible orphan: a job may have been created with external_id={external_id};")
    assert f"`skyform import flight {project_id}/<job id>`" in message and "`skyform state rm flight`" in message
    assert sandbox.simulator.objects()["job"] == jobs


def test_jobs_cannot_be_deleted_through_the_api(job_kind, make_ctx, record_of, project_id) -> None:
    """Delete is manual: the kind says so, and a delete call explains instead of guessing a path."""
    assert job_kind.delete_mode == "manual" and "--forget" in job_kind.delete_note
    spec = job_spec(project_id)
    ctx = make_ctx()
    record = record_of(job_kind.create(spec, ctx), spec, ctx)
    with pytest.raises(PermanentError, match="documents no job delete"):
        job_kind.delete(record, ctx)


def test_a_job_in_an_unknown_project_is_not_found(job_kind, make_ctx) -> None:
    """A project id the workspace does not have: NotFound with the API's message."""
    from skyform.errors import NotFound

    with pytest.raises(NotFound, match="Project not found"):
        job_kind.create(job_spec("01890000-0000-7000-8000-000000000000"), make_ctx())


def _record() -> Any:
    from skyform.providers import Record

    return Record(
        address="flight",
        type="dronebundle.Job",
        remote_id="J",
        status="ready",
        spec={},
        outputs={},
        observed={},
        private={"project_id": "P", "external_id": "skyform:m:flight:abcd1234"},
        idempotency_key="k",
        intent_at=0.0,
    )


def test_a_timestamp_start_date_is_not_drift(job_kind, make_ctx, project_id, record_of) -> None:
    """A spec start_date written as an ISO timestamp reads back equal (same day, other form)."""
    spec = job_spec(project_id, start_date=START + "T00:00:00.000Z")
    ctx = make_ctx()
    record = record_of(job_kind.create(spec, ctx), spec, ctx)
    assert job_kind.read(record, ctx).observed["start_date"] == spec["start_date"]
    assert job_kind.read(record, ctx).outputs["start_date"] == START


def test_within_a_run_adopt_knows_what_the_earlier_attempt_did(job_kind, make_ctx, project_id, sandbox) -> None:
    """A create refused with 429 made nothing: adopt says so (None, the engine creates again);
    a create whose POST answered made that job: adopt returns it. No AdoptError in one run."""
    from skyform.errors import RateLimited
    from skyform.sandbox.faults import FaultRule

    ctx = make_ctx()
    sandbox.simulator.faults.replace(
        [FaultRule(fault="status", status=429, retry_after=1, times=1, match="^POST /v1/projects/[^/]+/jobs$")]
    )
    try:
        with pytest.raises(RateLimited):
            job_kind.create(job_spec(project_id), ctx)
    finally:
        sandbox.simulator.faults.replace([])
    assert job_kind.adopt(job_spec(project_id), ctx) is None
    made = job_kind.create(job_spec(project_id), ctx)
    assert job_kind.adopt(job_spec(project_id), ctx).remote_id == made.remote_id


def test_a_timeout_leaves_the_outcome_unknown(job_kind, make_ctx, project_id, sandbox) -> None:
    """A 500 may come after the job was made: adopt in the same run still refuses to guess."""
    from skyform.errors import TransientError
    from skyform.sandbox.faults import FaultRule

    ctx = make_ctx()
    sandbox.simulator.faults.replace(
        [FaultRule(fault="status", status=500, times=1, match="^POST /v1/projects/[^/]+/jobs$")]
    )
    try:
        with pytest.raises(TransientError):
            job_kind.create(job_spec(project_id), ctx)
    finally:
        sandbox.simulator.faults.replace([])
    with pytest.raises(AdoptError):
        job_kind.adopt(job_spec(project_id), ctx)


def test_removing_the_spec_external_id_restores_the_derived_one(
    job_kind, make_ctx, project_id, record_of, client
) -> None:
    """An external_id taken out of the spec goes back to skyform:<mission>:<address>:<key8>."""
    spec = job_spec(project_id, external_id="WO-1")
    ctx = make_ctx(address="flight")
    record = record_of(job_kind.create(spec, ctx), spec, ctx)
    new = job_spec(project_id)
    job_kind.update(record, new, [Change(("external_id",), "WO-1", None)], ctx)
    expected = f"skyform:bridge-a12:flight:{ctx.idempotency_key.replace('-', '')[:8]}"
    assert client.get_job(project_id, record.remote_id)["external_id"] == expected
