"""Kind ``cvat.Job``: a ground-truth job skyform creates, or an annotation job it manages.

Both carry the desired workflow: ``assignee`` (a username, resolved to a user id at plan time,
with "did you mean" for typos), ``stage`` and ``state``, which change in place. Ground-truth
jobs are created with ``POST /api/jobs`` and deleted with ``DELETE``; annotation jobs come with
their task, so skyform only picks one (by index or frame) and sets its workflow - deleting
the resource drops the record and leaves the job to its task.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from skyform.errors import Issue, NotFound, PermanentError
from skyform.providers import Change, CheckContext, OperationContext, Record, ResourceKind, Result
from skyform.spec.values import is_known

from .errors import sdk_errors
from .job_rules import OUTPUTS_SCHEMA, SPEC_SCHEMA, check_against_task, check_job, describe_ranges, is_ground_truth
from .sdk_fields import field
from .suggestions import unknown_user_message

WORKFLOW = ("assignee", "stage", "state")


#: what a ground-truth job is made with; fixed at creation, never reported back by CVAT
CREATION_FIELDS = (
    "index",
    "start_frame",
    "stop_frame",
    "frame_selection_method",
    "frame_count",
    "frame_share",
    "frames_per_job_count",
    "frames_per_job_share",
    "frames",
    "random_seed",
)


class JobKind(ResourceKind):
    """A ground-truth job (created) or an annotation job (managed) of a CVAT task."""

    name = "Job"
    description = "A CVAT job: a ground-truth job, or an annotation job's assignee, stage and state."
    spec_schema = SPEC_SCHEMA
    outputs_schema = OUTPUTS_SCHEMA
    # an update moves the job through the workflow; its frames stay
    stable_outputs = frozenset({"id", "task_id", "type", "start_frame", "stop_frame", "frame_count"})
    output_sources = {name: frozenset(WORKFLOW) for name in WORKFLOW}
    immutable = frozenset({"task_id", "type", *CREATION_FIELDS})
    delete_note = (
        "ground-truth jobs are deleted with their annotations; annotation jobs cannot be deleted "
        "(they go with their task): only skyform's record of them is dropped"
    )

    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        yield from check_job(spec)

    def plan_check(self, spec: Mapping[str, Any], ctx: OperationContext) -> Iterable[Issue]:
        conn = ctx.client
        assignee = spec.get("assignee")
        if isinstance(assignee, str) and is_known(assignee):
            users = conn.user_ids()
            if assignee not in users:
                yield Issue(
                    ("assignee",),
                    unknown_user_message(assignee, users),
                    hint="assignee is a CVAT username; `GET /api/users` lists them",
                )
        task_id = spec.get("task_id")
        if not isinstance(task_id, int) or not is_known(task_id):
            return
        try:
            with sdk_errors(f"reading task {task_id}"):
                task = conn.sdk.tasks.retrieve(task_id)
                ranges = sorted((j.start_frame, j.stop_frame) for j in task.get_jobs() if str(j.type) == "annotation")
        except NotFound:
            yield Issue(("task_id",), f"no CVAT task with id {task_id}")
            return
        if not field(task, "size"):
            return  # its data is still being processed; checked again at apply
        yield from check_against_task(spec, int(task.size), int(task.segment_size or task.size), ranges)

    # -- helpers -------------------------------------------------------------------------------
    def _workflow(self, spec: Mapping[str, Any], ctx: OperationContext) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if "assignee" in spec:
            fields["assignee"] = None if spec["assignee"] is None else ctx.client.user_id(spec["assignee"])
        for key in ("stage", "state"):
            if spec.get(key) is not None:
                fields[key] = spec[key]
        return fields

    def _result(self, ctx: OperationContext, job: Any, applied: Mapping[str, Any]) -> Result:
        assignee = job.assignee.username if field(job, "assignee") else None
        kind = str(job.type)
        observed: dict[str, Any] = {
            "task_id": job.task_id,
            "assignee": assignee,
            "stage": str(job.stage),
            "state": str(job.state),
        }
        if "type" in applied:
            observed["type"] = kind
        for key in CREATION_FIELDS:
            if key in applied:  # fixed at creation; CVAT does not report the selection parameters back
                observed[key] = applied[key]
        if "frames" in applied and isinstance(applied["frames"], list) and job.frame_count != len(applied["frames"]):
            observed["frames"] = f"{job.frame_count} frames in CVAT"
        observed = {k: v for k, v in observed.items() if k in applied or k == "task_id"}
        return Result(
            remote_id=str(job.id),
            status="ready",
            observed=observed,
            private={"type": kind},
            outputs={
                "id": job.id,
                "task_id": job.task_id,
                "type": kind,
                "start_frame": job.start_frame,
                "stop_frame": job.stop_frame,
                "frame_count": job.frame_count,
                "assignee": assignee,
                "stage": str(job.stage),
                "state": str(job.state),
                "url": f"{ctx.client.url}/tasks/{job.task_id}/jobs/{job.id}",
            },
        )

    def _pick(self, spec: Mapping[str, Any], ctx: OperationContext) -> Any:
        """The annotation job the spec selects (by index or by a frame it contains)."""
        task_id = spec["task_id"]
        with sdk_errors(f"listing the jobs of task {task_id}"):
            jobs = sorted(ctx.client.sdk.jobs.list(task_id=task_id, type="annotation"), key=lambda j: j.start_frame)
        if "index" in spec:
            if spec["index"] >= len(jobs):
                raise PermanentError(
                    f"CVAT: task {task_id} has {len(jobs)} annotation job(s); index {spec['index']} does not exist",
                    provider="cvat",
                    field="index",
                )
            return jobs[spec["index"]]
        start, stop = spec["start_frame"], spec.get("stop_frame")
        for job in jobs:
            if (job.start_frame, job.stop_frame) == (start, stop) or (
                stop is None and job.start_frame <= start <= job.stop_frame
            ):
                return job
        if stop is not None:
            spans = describe_ranges([(j.start_frame, j.stop_frame) for j in jobs])
            raise PermanentError(
                f"CVAT: no annotation job of task {task_id} spans frames {start}-{stop}; the jobs span {spans}",
                provider="cvat",
                field="stop_frame",
            )
        raise PermanentError(
            f"CVAT: no annotation job of task {task_id} contains frame {spec['start_frame']}",
            provider="cvat",
            field="start_frame",
        )

    # -- operations ----------------------------------------------------------------------------
    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        from cvat_sdk.api_client import models

        workflow = self._workflow(spec, ctx)
        if not is_ground_truth(spec):
            job = self._pick(spec, ctx)
            if workflow:
                with sdk_errors(f"setting assignee/stage/state of job {job.id}"):
                    job.update(models.PatchedJobWriteRequest(**workflow))
            return self._result(ctx, job, spec)
        fields = {
            k: spec[k]
            for k in (
                "task_id",
                "frame_selection_method",
                "frame_count",
                "frame_share",
                "frames_per_job_count",
                "frames_per_job_share",
                "frames",
                "random_seed",
            )
            if spec.get(k) is not None
        }
        with sdk_errors(f"creating a ground-truth job in task {spec['task_id']}"):
            created, _ = ctx.client.sdk.api_client.jobs_api.create(
                models.JobWriteRequest(type="ground_truth", **fields, **workflow)
            )
            job = ctx.client.sdk.jobs.retrieve(created.id)
        return self._result(ctx, job, spec)

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        if not is_ground_truth(spec):
            return None  # managing an annotation job is repeatable: the engine simply does it again
        with sdk_errors(f"looking for the ground-truth job of task {spec['task_id']}"):
            found = ctx.client.sdk.jobs.list(task_id=spec["task_id"], type="ground_truth")
        fresh = [j for j in found if j.created_date.timestamp() >= ctx.intent_at]
        return self._result(ctx, fresh[0], spec) if fresh else None  # CVAT allows one per task

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        try:
            with sdk_errors(f"reading job {record.remote_id}"):
                job = ctx.client.sdk.jobs.retrieve(int(record.remote_id or 0))
        except NotFound:
            return None
        return self._result(ctx, job, record.spec)

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext) -> Result:
        from cvat_sdk.api_client import models

        # all three together: CVAT resets the state when the stage alone changes
        workflow = self._workflow(spec, ctx) if any(c.field in WORKFLOW for c in changes) else {}
        with sdk_errors(f"updating job {record.remote_id}"):
            job = ctx.client.sdk.jobs.retrieve(int(record.remote_id or 0))
            if workflow:
                job.update(models.PatchedJobWriteRequest(**workflow))
        return self._result(ctx, job, spec)

    def delete(self, record: Record, ctx: OperationContext) -> None:
        if record.private.get("type", record.spec.get("type", "annotation")) != "ground_truth":
            ctx.reporter.warn(f"annotation job {record.remote_id} stays with its task; only the record is dropped")
            return
        try:
            with sdk_errors(f"deleting ground-truth job {record.remote_id}"):
                ctx.client.sdk.api_client.jobs_api.destroy(int(record.remote_id or 0))
        except NotFound:
            pass
