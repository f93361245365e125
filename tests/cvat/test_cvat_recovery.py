"""Crashes, faults, credentials and delete rules: adopt after an interrupted create, failed
background requests, retryable answers, login variants and what deleting each kind means."""

from __future__ import annotations

import time
import uuid

import pytest

from skyform import redact
from skyform.errors import AdoptError, AuthError, RateLimited, TransientError
from skyform.sandbox.faults import FaultRule

LABELS = [{"name": "car"}]


def test_adopt_finds_the_project_a_crashed_create_made(sandbox) -> None:
    """A project created after the recorded intent, with the spec's name, is adopted, not made again."""
    ops = sandbox.ops("Project")
    spec = {"name": "crashed", "labels": LABELS}
    key, intent = str(uuid.uuid4()), time.time()
    made = ops.kind.create(spec, ops.context(key, intent))  # its answer is "lost"
    adopted = ops.kind.adopt(spec, ops.context(key, intent))
    assert adopted is not None and adopted.remote_id == made.remote_id
    assert sandbox.objects()["project"] == 1


def test_adopt_ignores_same_named_objects_made_before_the_intent(sandbox) -> None:
    """An older project of the same name is someone else's: adopt finds nothing and the engine creates."""
    ops = sandbox.ops("Project")
    spec = {"name": "old", "labels": LABELS}
    ops.create(spec)
    assert ops.kind.adopt(spec, ops.context(str(uuid.uuid4()), time.time() + 0.001)) is None


def test_adopt_refuses_to_guess_between_two_candidates(sandbox) -> None:
    """Two same-named projects created since the intent: AdoptError naming both ids."""
    ops = sandbox.ops("Project")
    spec = {"name": "twice", "labels": LABELS}
    intent = time.time()
    first, second = ops.create(spec), ops.create(spec)
    with pytest.raises(AdoptError) as caught:
        ops.kind.adopt(spec, ops.context(str(uuid.uuid4()), intent))
    assert sorted(caught.value.candidates) == sorted([first.remote_id, second.remote_id])
    assert "2 projects match since the interrupted create" in caught.value.message


def test_adopt_resumes_a_task_whose_upload_never_happened(sandbox, images) -> None:
    """A crash between POST /api/tasks and the upload: adopt finds the task without changing it; the
    first poll uploads the images and the task completes."""
    ops = sandbox.ops("Task")
    spec = {"name": "half made", "labels": LABELS, "images": images[:4], "segment_size": 2}
    intent = time.time()
    from cvat_sdk.api_client import models

    bare = ops.client.sdk.tasks.create(
        models.TaskWriteRequest(name="half made", labels=[models.PatchedLabelRequest(name="car")], segment_size=2)
    )
    adopted = ops.kind.adopt(spec, ops.context(str(uuid.uuid4()), intent))
    assert adopted is not None and adopted.remote_id == str(bare.id) and adopted.status == "running"
    assert ops.kind.adopt(spec, ops.context(str(uuid.uuid4()), intent)).remote_id == str(bare.id)
    assert sandbox.simulator.data["requests"] == {}, "adopt must not upload (the planner calls it)"
    record = ops.wait(ops.record(adopted, spec, ops.context()))
    assert record.outputs["size"] == 4 and len(record.outputs["jobs"]) == 2
    assert sandbox.objects()["task"] == 1


def test_adopt_of_a_task_matches_its_project(sandbox, images) -> None:
    """A same-named task in another project is not ours."""
    projects = sandbox.ops("Project")
    a = projects.create({"name": "A", "labels": LABELS}).outputs["id"]
    b = projects.create({"name": "B", "labels": LABELS}).outputs["id"]
    tasks = sandbox.ops("Task")
    intent = time.time()
    made = tasks.create({"name": "same", "project_id": a, "images": images[:1]})
    assert (
        tasks.kind.adopt(
            {"name": "same", "project_id": b, "images": images[:1]}, tasks.context(str(uuid.uuid4()), intent)
        )
        is None
    )
    found = tasks.kind.adopt(
        {"name": "same", "project_id": a, "images": images[:1]}, tasks.context(str(uuid.uuid4()), intent)
    )
    assert found is not None and found.remote_id == made.remote_id and found.status == "ready"


def test_a_failing_background_request_fails_the_task_with_cvats_message(sandbox, images) -> None:
    """job_fate 'fail' makes the data request fail; the task ends failed with the server's message."""
    sandbox.simulator.faults.replace([FaultRule(fault="job_fail", match="^Task doomed$")])
    record = sandbox.ops("Task").create({"name": "doomed", "labels": LABELS, "images": images[:2]})
    assert record.status == "failed"
    assert record.remote_id  # the task exists and is recorded, so destroy can remove it
    assert "CVAT could not process the task's images: Failed to process media data" in (
        sandbox.ops("Task").kind.poll(record, sandbox.ops("Task").context()).message or ""
    )


def test_a_stuck_export_stays_running(sandbox, images) -> None:
    """job_fate 'stuck' keeps an export running, so lifecycle.timeout can act on it."""
    task = sandbox.ops("Task").create({"name": "s", "labels": LABELS, "images": images[:2]}).outputs
    sandbox.simulator.faults.replace([FaultRule(fault="job_stuck", match="^Export task")])
    exports = sandbox.ops("Export")
    record = exports.submit({"task_id": task["id"], "format": "COCO 1.0"})
    time.sleep(0.05)
    polled = exports.kind.poll(record, exports.context())
    assert polled.status == "running" and polled.progress is not None and polled.progress <= 0.5


def test_a_non_image_file_fails_the_task(sandbox) -> None:
    """CVAT's data request fails on a file that is not an image; the message names the file."""
    (sandbox.mission_dir).mkdir(parents=True, exist_ok=True)
    (sandbox.mission_dir / "notes.txt").write_text("not an image")
    record = sandbox.ops("Task").create({"name": "txt", "labels": LABELS, "images": ["notes.txt"]})
    assert record.status == "failed"


@pytest.mark.parametrize("status, error, retry_after", [(429, RateLimited, 7.0), (503, TransientError, 2.0)])
def test_rate_limits_and_outages_are_retryable(sandbox, status, error, retry_after) -> None:
    """429 and 5xx answers raise retryable errors carrying Retry-After; nothing is created."""
    ops = sandbox.ops("Project")
    assert ops.client.sdk is not None  # connect before the fault
    sandbox.simulator.faults.replace(
        [FaultRule(fault="status", status=status, retry_after=retry_after, match="^POST /api/projects$")]
    )
    with pytest.raises(error) as caught:
        ops.create({"name": "p", "labels": LABELS})
    assert caught.value.retry_after == retry_after and caught.value.status == status
    assert sandbox.objects()["project"] == 0


def test_a_wrong_token_is_an_auth_error_without_the_token(sandbox) -> None:
    """A refused token says what to check and never prints the token."""
    ops = sandbox.ops("Project", {"url": sandbox.base_url, "access_token": "wrong-token-123456"})
    with pytest.raises(AuthError) as caught:
        ops.create({"name": "p", "labels": LABELS})
    assert "HTTP 401: Invalid token." in caught.value.message
    assert "access_token" in (caught.value.hint or "")
    assert "wrong-token-123456" not in caught.value.message
    assert "wrong-token-123456" in redact.known_secrets()


def test_password_login_and_organization(sandbox) -> None:
    """username + password log in (session and CSRF); organization puts new objects in that org."""
    settings = {
        "url": sandbox.base_url,
        "username": "admin",
        "password": "sandbox-admin-password",
        "organization": "skyform",
    }
    record = sandbox.ops("Project", settings).create({"name": "in org", "labels": LABELS})
    assert sandbox.simulator.data["projects"][record.remote_id]["organization"] == 1
    bad = sandbox.ops("Project", {**settings, "password": "nope-nope"})
    with pytest.raises(AuthError, match="Unable to log in with provided credentials"):
        bad.create({"name": "x", "labels": LABELS})


def test_deleting_an_annotation_job_leaves_it_with_its_task(sandbox, images) -> None:
    """An annotation job cannot be deleted: delete drops only the record and warns; a GT job is deleted."""
    task = sandbox.ops("Task").create({"name": "d", "labels": LABELS, "images": images, "segment_size": 3}).outputs
    jobs = sandbox.ops("Job")
    warnings: list[str] = []
    managed = jobs.create({"task_id": task["id"], "start_frame": 4, "assignee": "bob"})
    ctx = jobs.context()
    ctx.reporter.warn = warnings.append  # type: ignore[method-assign]
    jobs.kind.delete(managed, ctx)
    assert jobs.read(managed) is not None
    assert warnings == [f"annotation job {managed.remote_id} stays with its task; only the record is dropped"]
    gt = jobs.create(
        {"type": "ground_truth", "task_id": task["id"], "frame_selection_method": "manual", "frames": [0, 5]}
    )
    jobs.delete(gt)
    assert jobs.read(gt) is None
    assert "annotation jobs cannot be deleted" in jobs.kind.delete_note


def test_a_second_ground_truth_job_is_refused_by_cvat(sandbox, images) -> None:
    """CVAT allows one ground-truth job per task; the second create fails with its message."""
    from skyform.errors import PermanentError

    task = sandbox.ops("Task").create({"name": "gt", "labels": LABELS, "images": images}).outputs
    jobs = sandbox.ops("Job")
    spec = {
        "type": "ground_truth",
        "task_id": task["id"],
        "frame_selection_method": "random_per_job",
        "frames_per_job_share": 0.5,
        "random_seed": 3,
    }
    first = jobs.create(spec)
    assert first.outputs["frame_count"] == 3
    with pytest.raises(PermanentError, match="A task can have only 1 ground truth job"):
        jobs.create(spec)


def test_project_label_added_in_place_but_removed_by_replace(sandbox) -> None:
    """Adding a label is an update; removing one is a replace, with the reason in the plan."""
    from skyform.testing.operations import changes_between

    projects = sandbox.ops("Project")
    spec = {"name": "grow", "labels": [{"name": "car"}]}
    record = projects.create(spec)
    grown = {"name": "grown", "labels": [{"name": "car"}, {"name": "truck", "color": "#00ff00"}]}
    assert projects.kind.plan_change(changes_between(spec, grown), record).action == "update"
    updated = projects.update(record, grown)
    assert set(updated.outputs["label_ids"]) == {"car", "truck"}
    assert projects.read(updated).observed == {"name": "grown", "labels": grown["labels"]}
    shrunk = {"name": "grown", "labels": [{"name": "truck", "color": "#00ff00"}]}
    plan = projects.kind.plan_change(changes_between(grown, shrunk), updated)
    assert plan.action == "replace" and "car" in (plan.note or "")


@pytest.mark.parametrize("version", ["2.73.0", "2.90.1"])
def test_a_server_outside_the_sdks_range_is_logged_not_refused(sandbox, caplog, version) -> None:
    """cvat-sdk 2.80 supports 2.80/2.81 servers; others work, with one INFO line saying so."""
    import logging

    sandbox.simulator.server_version = version
    with caplog.at_level(logging.INFO, logger="skyform.provider.cvat"):
        record = sandbox.ops("Project").create({"name": "old server", "labels": LABELS})
    assert record.status == "ready"
    assert f"CVAT server {version} is outside cvat-sdk 2.80.0's tested range; continuing" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_task_whose_data_request_expired_is_judged_by_its_frames(sandbox, images) -> None:
    """If CVAT forgot the data request, poll reads the task: with frames it is ready."""
    tasks = sandbox.ops("Task")
    record = tasks.create({"name": "expired", "labels": LABELS, "images": images[:2]})
    with sandbox.simulator.lock:
        sandbox.simulator.data["requests"].clear()
    running = tasks.record(
        tasks.kind._running(int(record.remote_id), record.private["rq_id"]), record.spec, tasks.context()
    )
    assert tasks.wait(running).status == "ready"


def test_a_dropped_connection_is_transient(sandbox) -> None:
    """A connection the server drops mid-request surfaces as a retryable TransientError."""
    ops = sandbox.ops("Project")
    record = ops.create({"name": "dropped", "labels": LABELS})
    sandbox.simulator.faults.replace([FaultRule(fault="drop", match=r"^GET /api/projects/\d+$", times=1)])
    with pytest.raises(TransientError, match="cannot reach the server"):
        ops.read(record)
    assert ops.read(record) is not None


def test_cancel_stops_a_queued_export_and_warns_about_a_started_one(sandbox, images) -> None:
    """lifecycle.timeout's cancel: a queued request is cancelled; a started one cannot be, and says so."""
    task = sandbox.ops("Task").create({"name": "c", "labels": LABELS, "images": images[:2]}).outputs
    exports = sandbox.ops("Export")
    sandbox.simulator.clock.factor = 0.001  # keep the request in the queue
    try:
        queued = exports.submit({"task_id": task["id"], "format": "COCO 1.0"})
        exports.kind.cancel(queued, exports.context())
        assert queued.remote_id not in sandbox.simulator.data["requests"]
    finally:
        sandbox.simulator.clock.factor = 20000.0
    sandbox.simulator.faults.replace([FaultRule(fault="job_stuck", match="^Export task")])
    started = exports.submit({"task_id": task["id"], "format": "YOLO 1.1"})
    time.sleep(0.01)
    warnings: list[str] = []
    ctx = exports.context()
    ctx.reporter.warn = warnings.append  # type: ignore[method-assign]
    exports.kind.cancel(started, ctx)
    assert len(warnings) == 1 and "it will run to its end" in warnings[0]
    assert "Only requests that have not yet been started can be cancelled" in warnings[0]
