"""Kind ``cvat.Task``: images to annotate, split by CVAT into annotation jobs.

Creating a task is two calls and a wait: ``POST /api/tasks``, the image upload, then CVAT's
background request, which the engine polls. Only ``name`` and ``subset`` change in place;
the data and its segmentation are immutable, so changing them replaces the task.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from skyform.errors import Issue, NotFound
from skyform.providers import (
    Change,
    ChangePlan,
    CheckContext,
    Cost,
    Irreversibility,
    OperationContext,
    Record,
    ResourceKind,
    Result,
)
from skyform.spec.values import is_known

from .adoption import created_after
from .background import cancel, find_requests, look
from .errors import sdk_errors
from .labels import LABELS_SCHEMA, check_labels, label_names, label_requests, observed_labels, recolour, replace_reason
from .pricing import task_estimate
from .sdk_fields import field

PATH_LIST = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "A CVAT task: images uploaded from local paths, in a project or with its own labels.",
    "required": ["name", "images"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 256, "description": "Task name."},
        "project_id": {"type": "integer", "minimum": 1, "description": "The project whose labels the task uses."},
        "labels": LABELS_SCHEMA,
        "images": {
            "anyOf": [{"type": "string", "minLength": 1}, PATH_LIST],
            "description": "Local image paths (one, or a list such as a local.Files resource's paths).",
        },
        "segment_size": {
            "type": "integer",
            "minimum": 0,
            "description": "Frames per annotation job; 0 or absent: one job for the whole task.",
        },
        "overlap": {"type": "integer", "minimum": 0, "description": "Frames shared by neighbouring jobs."},
        "image_quality": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
            "description": "Quality of the compressed frames annotators see (default 70).",
        },
        "sorting_method": {
            "enum": ["lexicographical", "natural", "predefined", "random"],
            "description": "Frame order (default lexicographical by file name).",
        },
        "chunk_size": {"type": "integer", "minimum": 1, "description": "Frames per data chunk."},
        "subset": {"type": "string", "maxLength": 64, "description": "Dataset subset, e.g. Train, Test."},
    },
    "oneOf": [
        {"required": ["project_id"], "not": {"required": ["labels"]}},
        {"required": ["labels"], "not": {"required": ["project_id"]}},
    ],
}

OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "description": "Task id."},
        "url": {"type": "string", "description": "The task's page in CVAT's web UI."},
        "size": {"type": "integer", "description": "Number of frames."},
        "project_id": {"type": ["integer", "null"]},
        "jobs": {
            "type": "array",
            "description": "Annotation jobs by first frame.",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "start_frame": {"type": "integer"},
                    "stop_frame": {"type": "integer"},
                },
            },
        },
    },
    "required": ["id", "url", "size", "jobs"],
}


class TaskKind(ResourceKind):
    """A CVAT task with its uploaded images."""

    name = "Task"
    description = "An annotation task: images uploaded from local paths and split into jobs."
    spec_schema = SPEC_SCHEMA
    outputs_schema = OUTPUTS_SCHEMA
    # an update only renames the task or moves it to another subset: its data and jobs stay
    stable_outputs = frozenset({"id", "size", "project_id", "jobs"})  # not url: see Project
    immutable = frozenset(
        {"project_id", "labels", "images", "segment_size", "overlap", "image_quality", "sorting_method", "chunk_size"}
    )
    long_running = True
    poll_interval = 2.0
    delete_note = "deleting a CVAT task deletes its jobs and annotations"

    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        yield from check_labels(spec.get("labels"))
        size, overlap = spec.get("segment_size"), spec.get("overlap")
        if isinstance(size, int) and isinstance(overlap, int) and size > 0 and overlap >= size:
            yield Issue(("overlap",), f"overlap {overlap} must be smaller than segment_size {size}")
        images = spec.get("images")
        listed = [images] if isinstance(images, str) else images if isinstance(images, list) else []
        for i, image in enumerate(listed):
            if isinstance(image, str) and is_known(image):
                path = Path(image) if Path(image).is_absolute() else ctx.mission_dir / image
                if not path.is_file():
                    yield Issue(("images",) if isinstance(images, str) else ("images", i), f"no such file: {image}")

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """The server's compute time for the images at the declared ``prices`` (pricing.py)."""
        return task_estimate(spec, ctx.settings)

    def estimate_update_cost(
        self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext
    ) -> Cost | None:
        """Free: a name, subset or labels change in place; the images are not taken in again."""
        return Cost.free("changed in place: the images are not taken in again")

    def plan_check(self, spec: Mapping[str, Any], ctx: OperationContext) -> Iterable[Issue]:
        project_id = spec.get("project_id")
        if isinstance(project_id, int) and is_known(project_id):
            try:
                with sdk_errors(f"reading project {project_id}"):
                    ctx.client.sdk.api_client.projects_api.retrieve(project_id)
            except NotFound:
                yield Issue(("project_id",), f"no CVAT project with id {project_id}")

    # -- results -------------------------------------------------------------------------------
    def _ready(self, ctx: OperationContext, task: Any, applied: Mapping[str, Any]) -> Result:
        with sdk_errors(f"reading the jobs of task {task.id}"):
            jobs = sorted((j for j in task.get_jobs() if str(j.type) == "annotation"), key=lambda j: j.start_frame)
            labels = task.get_labels() if applied.get("labels") else []
        size = int(field(task, "size") or 0)
        images = applied.get("images")
        count = 1 if isinstance(images, str) else len(images or [])
        observed: dict[str, Any] = {"name": task.name, "images": images if size == count else f"{size} frames in CVAT"}
        for key in ("project_id", "subset", "overlap", "image_quality"):
            if key in applied:
                observed[key] = field(task, key)
        if applied.get("segment_size"):
            observed["segment_size"] = task.segment_size
        if "labels" in applied:
            observed["labels"] = observed_labels(labels, applied["labels"])
        return Result(
            remote_id=str(task.id),
            status="ready",
            observed=observed,
            progress=1.0,
            outputs={
                "id": task.id,
                "url": f"{ctx.client.url}/tasks/{task.id}",
                "size": size,
                "project_id": field(task, "project_id"),
                "jobs": [{"id": j.id, "start_frame": j.start_frame, "stop_frame": j.stop_frame} for j in jobs],
            },
        )

    def _running(self, task_id: int, rq_id: str, progress: float | None = None) -> Result:
        return Result(
            remote_id=str(task_id),
            status="running",
            private={"rq_id": rq_id},
            progress=progress,
            message="CVAT is processing the images",
        )

    # -- operations ----------------------------------------------------------------------------
    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        from cvat_sdk.api_client import models

        from .media import upload_images

        fields: dict[str, Any] = {"name": spec["name"]}
        if spec.get("project_id") is not None:
            fields["project_id"] = spec["project_id"]
        else:
            fields["labels"] = label_requests(spec["labels"])
        for key in ("segment_size", "overlap", "subset"):
            if spec.get(key) is not None:
                fields[key] = spec[key]
        with sdk_errors(f"creating task {spec['name']!r}"):
            task = ctx.client.sdk.tasks.create(models.TaskWriteRequest(**fields))
        return self._running(task.id, upload_images(ctx, task.id, spec))

    def poll(self, record: Record, ctx: OperationContext) -> Result:
        rq_id = record.private.get("rq_id")
        task_id = int(record.remote_id or 0)
        if record.private.get("upload_pending") and not rq_id:
            rq_id = self._resume_upload(ctx, task_id, record.spec)
            return Result(
                remote_id=str(task_id),
                status="running",
                private={"rq_id": rq_id, "upload_pending": False},
                message="CVAT is processing the images",
            )
        if rq_id:
            try:
                state = look(ctx.client, rq_id)
            except NotFound:  # CVAT expired the request: the task itself says whether its data arrived
                return self._after_lost_request(ctx, task_id, record)
            if state.running:
                return self._running(task_id, rq_id, state.progress)
            if state.status == "failed":
                return Result(
                    remote_id=str(task_id),
                    status="failed",
                    private={"rq_id": rq_id},
                    message=f"CVAT could not process the task's images: {state.message}",
                )
        with sdk_errors(f"reading task {task_id}", remote_id=str(task_id)):
            task = ctx.client.sdk.tasks.retrieve(task_id)
        return self._ready(ctx, task, record.spec)

    def cancel(self, record: Record, ctx: OperationContext) -> None:
        """Stop the data request if CVAT has not started it (the task itself stays, to be deleted)."""
        if record.private.get("rq_id"):
            cancel(ctx.client, record.private["rq_id"], ctx.reporter.warn)

    def _after_lost_request(self, ctx: OperationContext, task_id: int, record: Record) -> Result:
        with sdk_errors(f"reading task {task_id}", remote_id=str(task_id)):
            task = ctx.client.sdk.tasks.retrieve(task_id)
        if field(task, "size"):
            return self._ready(ctx, task, record.spec)
        return Result(
            remote_id=str(task_id),
            status="failed",
            message="CVAT no longer knows the task's data request and the task has no images",
        )

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        filters: dict[str, Any] = {"name": spec["name"]}
        if spec.get("project_id") is not None:
            filters["project_id"] = spec["project_id"]
        with sdk_errors(f"looking for task {spec['name']!r}"):
            candidates = [
                t
                for t in ctx.client.sdk.tasks.list(**filters)
                if t.name == spec["name"] and field(t, "project_id") == spec.get("project_id")
            ]
        task = created_after(candidates, ctx.intent_at, "task")
        if task is None:
            return None
        if field(task, "size"):
            return self._ready(ctx, task, spec)
        # adopt must not change anything (the planner calls it too): a task without data is
        # resumed by poll, which finds CVAT's data request or uploads the images then
        return Result(
            remote_id=str(task.id),
            status="running",
            private={"upload_pending": True},
            message="the interrupted create left the task without its images",
        )

    def _resume_upload(self, ctx: OperationContext, task_id: int, spec: Mapping[str, Any]) -> str:
        """The data request of a task an interrupted create left behind: CVAT's, or a new upload."""
        for rq_id, state in find_requests(ctx.client, action="create", target="task", task_id=task_id):
            if state.status != "failed":
                return rq_id
        from .media import upload_images

        return upload_images(ctx, task_id, spec)

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        try:
            with sdk_errors(f"reading task {record.remote_id}"):
                task = ctx.client.sdk.tasks.retrieve(int(record.remote_id or 0))
        except NotFound:
            return None
        if not field(task, "size"):
            rq_id = record.private.get("rq_id")
            if (rq_id and look(ctx.client, rq_id).running) or (not rq_id and record.private.get("upload_pending")):
                return Result(remote_id=str(task.id), status="running", message="the task's images are pending")
        return self._ready(ctx, task, record.spec)

    def plan_change(self, changes: list[Change], record: Record) -> ChangePlan:
        """A task's own labels may be recoloured in place; any other label change replaces it."""
        for change in changes:
            if change.field != "labels":
                continue
            reason = replace_reason(change.before, change.after)
            added = [n for n in label_names(change.after) if n not in label_names(change.before)]
            if reason or added:
                return ChangePlan(
                    "replace",
                    reason
                    or f"labels {', '.join(added)} cannot be added to a task in "
                    "place (a project's can): a new task is made",
                )
        return super().plan_change([c for c in changes if c.field != "labels"], record)

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext) -> Result:
        from cvat_sdk.api_client import models

        task_id = int(record.remote_id or 0)
        fields = {c.field: spec.get(c.field) for c in changes if c.field in ("name", "subset")}
        with sdk_errors(f"updating task {task_id}"):
            task = ctx.client.sdk.tasks.retrieve(task_id)
            if fields:
                task.update(models.PatchedTaskWriteRequest(**fields))
            if spec.get("labels") and any(c.field == "labels" for c in changes):
                recolour(ctx.client.sdk, task.get_labels(), spec["labels"])
        return self._ready(ctx, task, spec)

    def irreversibility(
        self, action: str, spec: Mapping[str, Any] | None, record: Record | None, ctx: CheckContext
    ) -> Irreversibility:
        """Deleting it (a delete, or the delete half of a replace) deletes the task's annotations for good."""
        if action in ("delete", "replace") and record is not None and record.remote_id:
            return Irreversibility.irreversible(
                "deleting it deletes the task's annotations; they cannot be recovered (export them first)"
            )
        return Irreversibility.reversible()

    def delete(self, record: Record, ctx: OperationContext) -> None:
        try:
            with sdk_errors(f"deleting task {record.remote_id}"):
                ctx.client.sdk.api_client.tasks_api.destroy(int(record.remote_id or 0))
        except NotFound:
            pass
