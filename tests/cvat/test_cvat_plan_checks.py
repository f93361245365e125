"""Plan-time checks against the server: usernames, frames within the task, the job picked, formats."""

from __future__ import annotations

import pytest

from skyform.errors import PermanentError


def _issues(sandbox, kind: str, spec: dict) -> list[tuple[tuple, str, str | None]]:
    ops = sandbox.ops(kind)
    try:
        return [(i.path, i.message, i.hint) for i in ops.kind.plan_check(spec, ops.context())]
    finally:
        ops.close()


@pytest.fixture
def task(sandbox, images) -> dict:
    """A ready task of six frames in three jobs of two."""
    return (
        sandbox.ops("Task")
        .create({"name": "plan", "labels": [{"name": "car"}], "images": images, "segment_size": 2})
        .outputs
    )


@pytest.mark.parametrize(
    "username, expected",
    [
        ("alcie", "no CVAT user 'alcie'; did you mean 'alice'?"),
        ("Bob", "no CVAT user 'Bob'; did you mean 'bob'?"),
        ("zed", "no CVAT user 'zed'"),
    ],
)
def test_unknown_assignee_is_a_plan_error_with_suggestions(sandbox, task, username, expected) -> None:
    """An assignee that is not a CVAT username fails the plan, suggesting the nearest usernames."""
    issues = _issues(sandbox, "Job", {"task_id": task["id"], "index": 0, "assignee": username})
    assert [(path, message) for path, message, _ in issues] == [(("assignee",), expected)]


def test_known_assignee_and_null_pass(sandbox, task) -> None:
    """A real username, or null (unassign), raises nothing."""
    assert _issues(sandbox, "Job", {"task_id": task["id"], "index": 2, "assignee": "carol"}) == []
    assert _issues(sandbox, "Job", {"task_id": task["id"], "index": 2, "assignee": None}) == []


def test_unknown_assignee_at_apply_fails_with_the_same_message(sandbox, task) -> None:
    """If the plan check was skipped (an unknown value), create refuses the name the same way."""
    with pytest.raises(PermanentError, match=r"no CVAT user 'carl'; did you mean 'carol'\?"):
        sandbox.ops("Job").create({"task_id": task["id"], "index": 0, "assignee": "carl"})


@pytest.mark.parametrize(
    "spec, path, message",
    [
        (
            {"frame_selection_method": "manual", "frames": [0, 6, 9]},
            ("frames",),
            "frame(s) [6, 9] are outside the task, which has frames 0-5",
        ),
        (
            {"frame_selection_method": "random_uniform", "frame_count": 7},
            ("frame_count",),
            "frame_count 7 is more than the task's 6 frames",
        ),
        (
            {"frame_selection_method": "random_per_job", "frames_per_job_count": 3},
            ("frames_per_job_count",),
            "frames_per_job_count 3 is more than the 2 frames of a job",
        ),
    ],
)
def test_ground_truth_frames_must_fit_the_task(sandbox, task, spec, path, message) -> None:
    """Frame numbers and counts are checked against the task's size and segment size at plan time."""
    issues = _issues(sandbox, "Job", {"type": "ground_truth", "task_id": task["id"], **spec})
    assert [(p, m) for p, m, _ in issues] == [(path, message)]


def test_annotation_job_selection_must_exist(sandbox, task) -> None:
    """index and start_frame must pick an existing annotation job."""
    assert [(p, m) for p, m, _ in _issues(sandbox, "Job", {"task_id": task["id"], "index": 3})] == [
        (("index",), "the task has 3 annotation job(s); index 3 does not exist (0-2)")
    ]
    assert [(p, m) for p, m, _ in _issues(sandbox, "Job", {"task_id": task["id"], "start_frame": 6})] == [
        (("start_frame",), "frame 6 is outside the task, which has frames 0-5")
    ]
    assert [
        (p, m) for p, m, _ in _issues(sandbox, "Job", {"task_id": task["id"], "start_frame": 1, "stop_frame": 2})
    ] == [(("stop_frame",), "no annotation job spans frames 1-2; the jobs span 0-1, 2-3, 4-5")]
    assert _issues(sandbox, "Job", {"task_id": task["id"], "start_frame": 2, "stop_frame": 3}) == []


def test_a_job_picked_by_its_exact_frame_range(sandbox, task) -> None:
    """start_frame + stop_frame pick the job spanning exactly that range."""
    record = sandbox.ops("Job").create({"task_id": task["id"], "start_frame": 4, "stop_frame": 5, "assignee": "bob"})
    assert record.remote_id == str(task["jobs"][2]["id"])


def test_missing_task_is_a_plan_error(sandbox) -> None:
    """A task_id CVAT does not know fails the plan."""
    issues = _issues(sandbox, "Job", {"task_id": 999, "index": 0})
    assert [(p, m) for p, m, _ in issues] == [(("task_id",), "no CVAT task with id 999")]


def test_missing_project_is_a_plan_error(sandbox, images) -> None:
    issues = _issues(sandbox, "Task", {"name": "t", "project_id": 42, "images": images})
    assert [(p, m) for p, m, _ in issues] == [(("project_id",), "no CVAT project with id 42")]


def test_unknown_formats_are_plan_errors_with_suggestions(sandbox, task) -> None:
    """Import and export formats are checked against /api/server/annotation/formats."""
    ((path, message, hint),) = _issues(sandbox, "Export", {"task_id": task["id"], "format": "COCO 1"})
    assert path == ("format",) and message.startswith("the CVAT server has no export format 'COCO 1'; it offers:")
    assert hint == "did you mean 'COCO 1.0'?"
    ((path, message, hint),) = _issues(
        sandbox, "Annotations", {"task_id": task["id"], "format": "CVAT 1.0", "file": "x.xml"}
    )
    assert path == ("format",) and "no import format 'CVAT 1.0'" in message and "'CVAT 1.1'" in (hint or "")


def test_server_rejects_an_inconsistent_ground_truth_request(sandbox, task) -> None:
    """If a rule slipped past the checks, CVAT's own 400 reaches the user as a readable error."""
    with pytest.raises(PermanentError, match="Only 1 of the following fields can be used: frame_count, frame_share"):
        sandbox.ops("Job").create(
            {
                "type": "ground_truth",
                "task_id": task["id"],
                "frame_selection_method": "random_uniform",
                "frame_count": 2,
                "frame_share": 0.5,
            }
        )
