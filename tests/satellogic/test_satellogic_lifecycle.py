"""A task's life over real HTTP: create, poll per wait_for, recurrence, AOI fragments, faults, cancel."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from satellogic_support import Sandbox, aoi_spec, poi_spec, settle, window

from skyform.errors import NotFound, PermanentError, RateLimited, TransientError
from skyform.providers import Change
from skyform_satellogic.provider import PROVIDER
from skyform_satellogic.simulator import timeline

TASK = PROVIDER.kind("Task")


def test_one_off_task_is_ready_when_completed(sandbox: Sandbox) -> None:
    """Default wait_for (completed): create returns running, polls end ready with published captures."""
    ctx = sandbox.ctx()
    spec = poi_spec()
    created = TASK.create(spec, ctx)
    assert created.status == "running" and created.remote_id
    assert created.outputs["status"] == "received" and created.outputs["priority"] == 14
    done = settle(TASK, sandbox.record(spec, created, ctx), ctx)
    assert done.status == "ready", done.message
    out = done.outputs
    assert out["status"] == "completed" and out["task_id"] == int(created.remote_id)
    assert out["capture_count"] == 1 and out["captures"][0]["status"] == "published"
    assert set(out["captures"][0]) == {"capture_id", "start", "satellite_name", "status"}
    assert out["published_capture_ids"] == [out["captures"][0]["capture_id"]]
    assert sandbox.sim.objects() == {"task": 1}


def test_accepted_is_ready_at_create(sandbox: Sandbox) -> None:
    """wait_for accepted: the task counts as ready as soon as the service received it."""
    result = TASK.create(poi_spec(wait_for="accepted"), sandbox.ctx())
    assert result.status == "ready" and result.outputs["status"] == "received"
    assert result.outputs["captures"] == []


def test_first_capture_is_ready_before_the_task_completes(start_sandbox: Callable[..., Sandbox]) -> None:
    """wait_for first_capture: ready once one capture is published, while the task still runs."""
    sb = start_sandbox(clock=20_000)
    ctx = sb.ctx()
    spec = poi_spec(wait_for="first_capture", max_captures=3)
    result = settle(TASK, sb.record(spec, TASK.create(spec, ctx), ctx), ctx)
    assert result.status == "ready"
    assert result.outputs["status"] == "received"
    assert len(result.outputs["published_capture_ids"]) >= 1
    assert any(c["status"] != "published" for c in result.outputs["captures"])


def test_extra_simultaneous_captures_may_be_delivered(sandbox: Sandbox) -> None:
    """max_simultaneous_captures > max_captures plans extra captures; those acquired are kept."""
    ctx = sandbox.ctx()
    spec = poi_spec(max_captures=1, max_simultaneous_captures=3)
    done = settle(TASK, sandbox.record(spec, TASK.create(spec, ctx), ctx), ctx)
    assert done.status == "ready" and done.outputs["status"] == "completed"
    assert done.outputs["capture_count"] == 2  # the third was not acquired before completion: dropped


STATES = [  # (tau in simulated hours, expected capture status) for one capture acquired at LEAD
    (0.0, "queued"),
    (1.9, "queued"),
    (2.0, "processing"),
    (3.4, "processing"),
    (3.5, "published"),
]


@pytest.mark.parametrize("hours, state", STATES)
def test_capture_goes_queued_processing_published(hours: float, state: str) -> None:
    """A capture is queued until acquired (2 h), processing for 90 min, then published."""
    task = {"task_id": 1, "_window": 10 * 86400, "max_captures": 1}
    status, (capture,) = timeline.view(task, hours * 3600)
    assert capture["status"] == state
    assert status == ("completed" if state == "published" else "received")


def test_recurring_task_never_completes_by_count() -> None:
    """A recurring task plans a batch per period and completes only when the window ends."""
    task = {"task_id": 2, "_window": 3 * 86400, "_period": 86400, "max_captures": 1}
    status, captures = timeline.view(task, 86400 + 3600)  # 1 h into the second period
    assert status == "received" and [c["status"] for c in captures] == ["published", "queued"]
    status, captures = timeline.view(task, 3 * 86400)
    assert status == "completed" and len(captures) == 3


def test_recurring_task_defaults_to_accepted_and_completes_at_window_end(start_sandbox: Callable[..., Sandbox]) -> None:
    """Recurring: ready at create by default; waiting for completed lasts the whole window."""
    sb = start_sandbox(clock=1_000_000)
    start, end = window(days_from_now=0.5, length_days=3)
    spec = poi_spec(expected_age="1 days, 00:00:00", start=start, end=end)
    ctx = sb.ctx()
    created = TASK.create(spec, ctx)
    assert created.status == "ready"
    waiting = {**spec, "wait_for": "completed"}
    done = settle(TASK, sb.record(waiting, created, ctx), ctx)
    assert done.status == "ready" and done.outputs["status"] == "completed"
    assert done.outputs["capture_count"] == 3  # one per period of the 3-day window
    assert TASK.read(sb.record(spec, created, ctx), ctx).observed["expected_age"] == "1 days, 00:00:00"


def test_aoi_task_captures_carry_fragments(start_sandbox: Callable[..., Sandbox]) -> None:
    """An AOI is split into strips acquired on different days; each capture names its fragment."""
    sb = start_sandbox(clock=1_000_000)
    ctx = sb.ctx()
    spec = aoi_spec()
    done = settle(TASK, sb.record(spec, TASK.create(spec, ctx), ctx), ctx)
    assert done.status == "ready", done.message
    captures = done.outputs["captures"]
    assert len({c["fragment_id"] for c in captures}) == 4  # ~330 km² at ~100 km² per strip
    assert len({c["start"][:10] for c in captures}) == 4  # on four different days
    assert all(c["status"] == "published" for c in captures)


def test_failed_job_fails_the_resource(start_sandbox: Callable[..., Sandbox]) -> None:
    """A job_fail fault makes the task fail partway; poll reports failed with the status."""
    sb = start_sandbox(faults=[{"fault": "job_fail", "provider": "satellogic", "match": "Task Disney"}])
    ctx = sb.ctx()
    spec = poi_spec()
    result = settle(TASK, sb.record(spec, TASK.create(spec, ctx), ctx), ctx)
    assert result.status == "failed"
    assert result.message == f"task {result.remote_id} ended with status 'failed'"


def test_stuck_job_keeps_running(start_sandbox: Callable[..., Sandbox]) -> None:
    """A job_stuck fault leaves the captures queued: the resource stays running."""
    sb = start_sandbox(faults=[{"fault": "job_stuck"}])
    ctx = sb.ctx()
    spec = poi_spec()
    record = sb.record(spec, TASK.create(spec, ctx), ctx)
    time.sleep(0.3)  # ~17 simulated hours
    result = TASK.poll(record, ctx)
    assert result.status == "running" and result.outputs["captures"][0]["status"] == "queued"


def test_delete_cancels_and_read_then_finds_nothing(sandbox: Sandbox) -> None:
    """Delete is PATCH /tasks/{id}/cancel/; a canceled task reads as gone."""
    ctx = sandbox.ctx()
    spec = poi_spec(wait_for="accepted")
    record = sandbox.record(spec, TASK.create(spec, ctx), ctx)
    TASK.delete(record, ctx)
    assert sandbox.client.get_task(record.remote_id)["status"] == "canceled"
    assert sandbox.sim.objects() == {"task": 0}
    assert TASK.read(record, ctx) is None
    TASK.delete(record, ctx)  # again: nothing to cancel, no error
    with pytest.raises(PermanentError) as err:
        sandbox.client.cancel_task(record.remote_id)
    assert "can not be canceled: its status is canceled" in err.value.message


def test_polling_a_canceled_task_fails_it(sandbox: Sandbox) -> None:
    """A task canceled while skyform waits on it fails the resource, saying so."""
    ctx = sandbox.ctx()
    spec = poi_spec(expected_age="1 days, 00:00:00", wait_for="completed")
    record = sandbox.record(spec, TASK.create(spec, ctx), ctx)
    TASK.cancel(record, ctx)
    result = TASK.poll(record, ctx)
    assert result.status == "failed" and result.message == f"task {record.remote_id} was canceled"


def test_delete_of_a_completed_task_cancels_it(sandbox: Sandbox) -> None:
    """Destroying a completed order cancels it too (captures already delivered stay delivered)."""
    ctx = sandbox.ctx()
    spec = poi_spec()
    record = sandbox.record(spec, settle(TASK, sandbox.record(spec, TASK.create(spec, ctx), ctx), ctx), ctx)
    assert record.outputs["status"] == "completed"
    TASK.delete(record, ctx)
    assert sandbox.client.get_task(record.remote_id)["status"] == "canceled"
    assert TASK.read(record, ctx) is None


def test_unknown_task_poll_is_not_found(sandbox: Sandbox) -> None:
    """Polling a task the service does not know raises NotFound (the engine then recreates)."""
    from dataclasses import replace

    ctx = sandbox.ctx()
    spec = poi_spec(wait_for="accepted")
    record = replace(sandbox.record(spec, TASK.create(spec, ctx), ctx), remote_id="1")
    with pytest.raises(NotFound):
        TASK.poll(record, ctx)
    assert TASK.read(record, ctx) is None


def test_any_order_change_is_a_replace_with_a_note() -> None:
    """Changing what was ordered cancels the paid order and tasks a new one."""
    for field in ("target", "priority", "end", "task_name", "expected_age"):
        plan = TASK.plan_change([Change((field,), 1, 2)], record=None)  # type: ignore[arg-type]
        assert plan.action == "replace" and plan.note == "cancels a paid order and tasks a new one"


def test_wait_for_change_is_an_update_that_rejudges(start_sandbox: Callable[..., Sandbox]) -> None:
    """wait_for is skyform's own: changing it keeps the order and judges readiness again.

    At 100x the two captures take ~3 real minutes: the task is accepted at once and cannot
    complete before the update is judged (at FAST it did on a loaded machine: 'ready').
    """
    sandbox = start_sandbox(clock=100.0)
    ctx = sandbox.ctx()
    spec = poi_spec(wait_for="accepted", max_captures=2)
    record = sandbox.record(spec, TASK.create(spec, ctx), ctx)
    assert record.status == "ready"  # accepted is what it waited for
    changes = [Change(("wait_for",), "accepted", "completed")]
    assert TASK.plan_change(changes, record).action == "update"
    mixed = changes + [Change(("priority",), None, 13)]
    assert TASK.plan_change(mixed, record).action == "replace"
    updated = TASK.update(record, {**spec, "wait_for": "completed"}, changes, ctx)
    assert updated.status == "running" and updated.remote_id == record.remote_id
    assert sandbox.sim.objects() == {"task": 1}


def test_read_reports_no_drift_for_echoed_values(sandbox: Sandbox) -> None:
    """The service echoes instants in UTC and points with an altitude: that is not drift."""
    ctx = sandbox.ctx()
    start, end = "2030-12-23T00:00:00+03:00", "2031-01-12T00:00:00+03:00"
    spec = poi_spec(start=start, end=end, product="POI Tasking 70cm Multispectral", priority=13, wait_for="accepted")
    record = sandbox.record(spec, TASK.create(spec, ctx), ctx)
    remote = sandbox.client.get_task(record.remote_id)
    assert remote["start"] == "2030-12-22T21:00:00Z" and remote["target"]["coordinates"][2] == 0.0
    observed = TASK.read(record, ctx).observed
    assert {k: observed[k] for k in spec} == spec


def test_read_reports_real_drift(sandbox: Sandbox) -> None:
    """A value the service changed shows up in observed as the remote value."""
    ctx = sandbox.ctx()
    spec = poi_spec(priority=13, wait_for="accepted")
    record = sandbox.record(spec, TASK.create(spec, ctx), ctx)
    sandbox.sim.data["tasks"][record.remote_id]["priority"] = 15
    assert TASK.read(record, ctx).observed["priority"] == 15


@pytest.mark.parametrize("status, error", [(429, RateLimited), (503, TransientError)])
def test_throttling_and_outages_are_transient(
    start_sandbox: Callable[..., Sandbox], status: int, error: type[Exception]
) -> None:
    """429 and 5xx answers become retryable errors (429 with the server's Retry-After)."""
    sb = start_sandbox(faults=[{"fault": "status", "status": status, "retry_after": 2, "match": "POST /tasking/tasks"}])
    with pytest.raises(error) as err:
        TASK.create(poi_spec(), sb.ctx())
    assert err.value.retry_after == 2
    assert sb.sim.objects() == {"task": 0}


def test_service_validation_errors_are_permanent_and_name_the_field(sandbox: Sandbox) -> None:
    """A body the service rejects (400) fails at once, with the service's field messages."""
    body: dict[str, Any] = {**poi_spec(), "product": 178}  # an AOI product with a Point target
    with pytest.raises(PermanentError) as err:
        sandbox.client.create_task(body)
    assert err.value.message.endswith("the API rejected the request: target: Product 178 requires a Polygon target.")
    assert err.value.field == "target"
