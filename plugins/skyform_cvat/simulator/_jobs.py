"""Jobs: segments of a task made at task creation, ground-truth jobs made by ``POST /api/jobs``.

``PATCH`` accepts ``assignee`` (a user id or null), ``stage`` and ``state``; only
ground-truth jobs can be deleted. Ground-truth frame selection follows CVAT's three methods:
``random_uniform`` (frame_count | frame_share), ``random_per_job`` (frames_per_job_count |
frames_per_job_share) and ``manual`` (frames), seeded by ``random_seed``.
"""

from __future__ import annotations

import random
from typing import Any

from werkzeug.wrappers import Request, Response

from ._auth import Auth
from ._common import (
    ApiError,
    Handler,
    Site,
    api_response,
    bad_request,
    choice_error,
    int_arg,
    json_body,
    now,
    paginate,
    require_int,
)
from ._views import Views

STAGES = ("annotation", "validation", "acceptance")
STATES = ("new", "in progress", "completed", "rejected")
JOB_TYPES = ("annotation", "ground_truth", "replica")
METHODS = ("random_uniform", "random_per_job", "manual")


class Jobs(Handler):
    """Job list/get/patch/create(ground truth)/delete and segment creation."""

    def __init__(self, site: Site, auth: Auth, views: Views) -> None:
        super().__init__(site)
        self.auth = auth
        self.views = views

    def make_segments(self, task: dict[str, Any]) -> None:
        """Split a task's frames into annotation jobs, as CVAT does when data is attached."""
        size = task["media"]["size"]
        segment_size = task["segment_size"] or size
        if segment_size > size:
            segment_size = size
        overlap = min(task["overlap"] or 0, segment_size // 2)
        step = max(segment_size - overlap, 1)
        task["segment_size"], task["overlap"] = segment_size, overlap
        for start in range(0, max(size - overlap, 1), step):
            stop = min(start + segment_size - 1, size - 1)
            self.add_job(task["id"], "annotation", start, stop, stop - start + 1)

    def add_job(
        self, task_id: int, kind: str, start: int, stop: int, count: int, frames: list[int] | None = None
    ) -> dict[str, Any]:
        """Store a new job of a task."""
        jid = self.site.next_id("job")
        job = {
            "id": jid,
            "task_id": task_id,
            "type": kind,
            "start_frame": start,
            "stop_frame": stop,
            "frame_count": count,
            "frames": frames,
            "assignee": None,
            "assignee_updated": None,
            "stage": "annotation",
            "state": "new",
            "created": now(),
            "updated": now(),
        }
        self.data["jobs"][str(jid)] = job
        return job

    def list_jobs(self, request: Request) -> Response:
        """GET ``/api/jobs``: visible jobs, filtered (task, project, type, stage, state, assignee), newest first."""
        user = self.auth.caller(request)
        scope = self.auth.org_scope(request)
        items = []
        for job in self.data["jobs"].values():
            task = self.data["tasks"][str(job["task_id"])]
            if self.auth.can_see(user, "job", job) and self.auth.in_scope(scope, task):
                items.append((job, task))
        for name in ("task_id", "project_id"):
            wanted = int_arg(request, name)
            if wanted is not None:
                items = [(j, t) for j, t in items if (j["task_id"] if name == "task_id" else t["project_id"]) == wanted]
        for name in ("type", "stage", "state"):
            if request.args.get(name):
                items = [(j, t) for j, t in items if j[name] == request.args[name]]
        if request.args.get("assignee"):
            who = self.auth.user_by_name(request.args["assignee"])
            items = [(j, t) for j, t in items if who is not None and j["assignee"] == who["id"]]
        if request.args.get("task_name"):
            items = [(j, t) for j, t in items if t["name"] == request.args["task_name"]]
        sort = request.args.get("sort") or "-id"
        key = sort.lstrip("-")
        if key not in ("id", "start_frame", "stop_frame", "state", "stage", "type", "task_id"):
            key = "id"
        jobs = sorted((j for j, _ in items), key=lambda j: (j[key], j["id"]), reverse=sort.startswith("-"))
        base = request.host_url.rstrip("/")
        return paginate(request, jobs, lambda j: self.views.job_view(base, j))

    def get_job(self, request: Request, id: int) -> Response:
        """GET ``/api/jobs/{id}``."""
        user = self.auth.caller(request)
        job = self.auth.fetch(user, "job", id)
        return api_response(self.views.job_view(request.host_url.rstrip("/"), job))

    def patch_job(self, request: Request, id: int) -> Response:
        """PATCH ``/api/jobs/{id}``: assignee, stage, state."""
        user = self.auth.caller(request)
        job = self.auth.fetch(user, "job", id)
        body = json_body(request)
        self.apply_workflow(job, body)
        return api_response(self.views.job_view(request.host_url.rstrip("/"), job))

    def apply_workflow(self, job: dict[str, Any], body: dict[str, Any]) -> None:
        """assignee/stage/state, validated all at once, then applied (a new stage resets state)."""
        errors: dict[str, list[str]] = {}
        if body.get("stage") is not None and body["stage"] not in STAGES:
            errors["stage"] = [choice_error(body["stage"])]
        if body.get("state") is not None and body["state"] not in STATES:
            errors["state"] = [choice_error(body["state"])]
        if "assignee" in body and body["assignee"] is not None:
            if isinstance(body["assignee"], bool) or not isinstance(body["assignee"], int):
                errors["assignee"] = [f"Incorrect type. Expected pk value, received {type(body['assignee']).__name__}."]
            elif str(body["assignee"]) not in self.data["users"]:
                errors["assignee"] = [f'Invalid pk "{body["assignee"]}" - object does not exist.']
        if errors:
            raise ApiError(400, errors)
        if "assignee" in body and body["assignee"] != job["assignee"]:
            job["assignee"], job["assignee_updated"] = body["assignee"], now()
        if body.get("stage") is not None and body["stage"] != job["stage"]:
            job["stage"] = body["stage"]
            job["state"] = "new"
        if body.get("state") is not None:
            job["state"] = body["state"]
        job["updated"] = now()

    def delete_job(self, request: Request, id: int) -> Response:
        """DELETE ``/api/jobs/{id}``: ground-truth jobs only."""
        user = self.auth.caller(request)
        job = self.auth.fetch(user, "job", id)
        if job["type"] != "ground_truth":
            raise ApiError(400, ["Only ground truth jobs can be removed"])
        del self.data["jobs"][str(job["id"])]
        self.data["annotations"].pop(f"job:{job['id']}", None)
        return Response(status=204)

    def create_job(self, request: Request) -> Response:
        """POST ``/api/jobs``: a ground-truth job (one per task)."""
        user = self.auth.caller(request)
        body = json_body(request)
        kind = body.get("type")
        if kind is None:
            raise bad_request("type", "This field is required.")
        if kind not in JOB_TYPES:
            raise bad_request("type", choice_error(kind))
        if kind != "ground_truth":
            raise bad_request("type", f'Unexpected job type "{kind}"')
        task_id = require_int(body, "task_id", required=True)
        task = self.data["tasks"].get(str(task_id))
        if task is None or not self.auth.can_see(user, "task", task):
            raise bad_request("task_id", f'Invalid pk "{task_id}" - object does not exist.')
        if not task.get("media"):
            raise bad_request("task_id", "The task has no media data yet")
        if any(j["type"] == "ground_truth" for j in self.data["jobs"].values() if j["task_id"] == task["id"]):
            raise ApiError(400, ["A task can have only 1 ground truth job"])
        frames = self.select_frames(task, body)
        self.apply_workflow({"assignee": None, "stage": "annotation", "state": "new"}, body)  # validates
        job = self.add_job(task["id"], "ground_truth", 0, task["media"]["size"] - 1, len(frames), frames)
        self.apply_workflow(job, {k: body[k] for k in ("assignee", "stage", "state") if k in body})
        return api_response(self.views.job_view(request.host_url.rstrip("/"), job), 201)

    def select_frames(self, task: dict[str, Any], body: dict[str, Any]) -> list[int]:
        """The ground-truth frames for a request body, or CVAT's 400 for an inconsistent one."""
        size = task["media"]["size"]
        method = body.get("frame_selection_method", "random_uniform")
        if method not in METHODS:
            raise bad_request("frame_selection_method", choice_error(method))
        seed = require_int(body, "random_seed", minimum=0)
        rng = random.Random(seed)
        if method == "manual":
            frames = body.get("frames")
            if not frames:
                raise bad_request("frames", "The list of frames must be specified for the 'manual' method")
            bad = [f for f in frames if not isinstance(f, int) or isinstance(f, bool) or not 0 <= f < size]
            if bad:
                raise bad_request("frames", f"Unknown frames {bad} requested; the task has frames 0-{size - 1}")
            if len(set(frames)) != len(frames):
                raise bad_request("frames", "Frames must be unique")
            return sorted(frames)
        if method == "random_uniform":
            count = _count_or_share(body, "frame_count", "frame_share", size, method)
            return sorted(rng.sample(range(size), count))
        segments = sorted(
            (j for j in self.data["jobs"].values() if j["task_id"] == task["id"] and j["type"] == "annotation"),
            key=lambda j: j["start_frame"],
        )
        per_job = _count_or_share(body, "frames_per_job_count", "frames_per_job_share", task["segment_size"], method)
        chosen: set[int] = set()
        for seg in segments:
            span = range(seg["start_frame"], seg["stop_frame"] + 1)
            chosen.update(rng.sample(span, min(per_job, len(span))))
        return sorted(chosen)


def _count_or_share(body: dict[str, Any], count_field: str, share_field: str, limit: int, method: str) -> int:
    """Exactly one of an absolute count (1..limit) or a share (0..1] of ``limit`` frames."""
    has_count = body.get(count_field) is not None
    has_share = body.get(share_field) is not None
    if has_count and has_share:
        raise ApiError(
            400, {"non_field_errors": [f"Only 1 of the following fields can be used: {count_field}, {share_field}"]}
        )
    if not has_count and not has_share:
        raise ApiError(
            400,
            {
                "non_field_errors": [
                    f"One of the following fields is required for the '{method}' method: {count_field}, {share_field}"
                ]
            },
        )
    if has_count:
        count = require_int(body, count_field, minimum=1) or 1
        if count > limit:
            raise bad_request(count_field, f"Ensure this value is less than or equal to {limit}.")
        return count
    share = body[share_field]
    if isinstance(share, bool) or not isinstance(share, (int, float)):
        raise bad_request(share_field, "A valid number is required.")
    if not 0 < share <= 1:
        raise bad_request(share_field, "Ensure this value is in the range (0; 1].")
    return max(1, min(limit, round(share * limit)))
