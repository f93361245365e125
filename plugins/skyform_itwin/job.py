"""Kind ``itwin.Job``: a ContextCapture job, created, cost-checked, submitted and followed.

Apply: ``POST /jobs`` (the spec is the documented creation body) makes an ``unsubmitted``
job; when costEstimationParameters are given, its ``estimatedCost`` is checked against
``lifecycle.max_cost`` and the provider ``budget`` and, above either, the job is left
unsubmitted and the apply stops with the estimate (``BudgetExceeded``). Otherwise
``PATCH {"state": "active"}`` submits it and progress is polled with the documented
backoff until ``success`` (outputs: the Reality Data id of each format) or ``failed``
(the job's executionInformation errors). A submitted job cannot change: a change is a
replace; before submission, settings are PATCHed.

When the job succeeds, the poll that sees it downloads each output's files from Reality
Management into the artifact store (:mod:`.results`; ``outputs.results``), like NodeODM's
all.zip; with ``--executor celery`` that poll runs on a worker. ``download_results: false``
in the provider settings keeps only the reality data ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from skyform.errors import AdoptError, BudgetExceeded, Issue, NotFound, PermanentError, RemoteError
from skyform.providers import (
    Change,
    ChangePlan,
    CheckContext,
    Confidence,
    Cost,
    Irreversibility,
    OperationContext,
    Record,
    ResourceKind,
    Result,
    Status,
)
from skyform.spec.values import is_known

from . import job_view as view
from . import results as downloads
from .client import ItwinClient
from .pricing import UNIT, basis, pre_estimate
from .schemas import JOB_OUTPUTS_SCHEMA, JOB_SPEC_SCHEMA

PATCHABLE = frozenset({"settings", "costEstimationParameters"})
#: a job's state -> the resource status (unsubmitted, cancelled and failed jobs are failed)
_STATUS_BY_STATE: dict[str, Status] = {"success": "ready", "active": "running"}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reported(job: Mapping[str, Any]) -> Cost | None:
    """What iTwin says the job costs: its ``estimatedCost`` quote, and once the job has
    finished the processing units it reports for it (``executionInformation.estimatedUnits``),
    which the state records as spent (a job without cost parameters has only the latter)."""
    units = (job.get("executionInformation") or {}).get("estimatedUnits")
    if view.state_of(job) == "success" and isinstance(units, (int, float)) and not isinstance(units, bool):
        return Cost(float(units), UNIT, "the processing units iTwin reports for the finished job", Confidence.QUOTE)
    cost = job.get("estimatedCost")
    return None if cost is None else Cost(float(cost), UNIT, "iTwin's estimatedCost", Confidence.QUOTE)


class JobKind(ResourceKind):
    """A Reality Modeling (ContextCapture) job: Full, Calibration or Reconstruction."""

    name = "Job"
    description = "A ContextCapture reconstruction job (meshes, 3D tiles, orthophotos from photos)."
    spec_schema = JOB_SPEC_SCHEMA
    outputs_schema = JOB_OUTPUTS_SCHEMA
    # an update PATCHes the settings of an unsubmitted job: the job and where it runs stay
    stable_outputs = frozenset({"id", "workspaceId", "iTwinId", "location"})
    immutable = frozenset({"type", "name", "workspaceId", "inputs"})
    long_running = True
    poll_on_workers = True  # the poll that sees the job succeed downloads its outputs
    poll_interval = 15.0
    max_poll_interval = 120.0
    delete_mode = "delete"
    delete_note = (
        "an unsubmitted job is deleted and a running one cancelled; a finished job cannot be "
        "deleted through the API (its reality data stays) and is only forgotten"
    )

    def irreversibility(
        self, action: str, spec: Mapping[str, Any] | None, record: Record | None, ctx: CheckContext
    ) -> Irreversibility:
        """A job once submitted bills processing units; cancelling refunds what it used."""
        if action in ("create", "replace"):
            return Irreversibility.irreversible("a submitted job bills processing units; cancelling refunds none used")
        return Irreversibility.reversible()

    # -- validate -----------------------------------------------------------------------
    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        """Rules the documented schema cannot state, which skyform relies on."""
        name = spec.get("name")
        if isinstance(name, str) and not name.strip():
            yield Issue(("name",), "must not be empty: jobs are found again by name after an interrupted apply")
        settings = spec.get("settings")
        outputs = settings.get("outputs") if isinstance(settings, dict) else None
        if isinstance(outputs, list):
            seen: set[Any] = set()
            for i, fmt in enumerate(outputs):
                if is_known(fmt) and isinstance(fmt, str) and fmt in seen:
                    yield Issue(
                        ("settings", "outputs", i), f"'{fmt}' is listed twice; each output format is produced once"
                    )
                seen.add(fmt)
        inputs = spec.get("inputs")
        if isinstance(inputs, list):
            ids: set[Any] = set()
            for i, item in enumerate(inputs):
                rid = item.get("id") if isinstance(item, dict) else None
                if isinstance(rid, str) and is_known(rid) and rid in ids:
                    yield Issue(("inputs", i, "id"), f"reality data '{rid}' is an input twice")
                ids.add(rid)
        params = spec.get("costEstimationParameters")
        if isinstance(params, dict):
            for key in ("gigaPixels", "megaPoints"):
                value = params.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                    yield Issue(("costEstimationParameters", key), f"{value} is negative; a volume is 0 or more")
            if is_known(params) and "gigaPixels" not in params and "megaPoints" not in params:
                yield Issue(
                    ("costEstimationParameters",),
                    "gives neither gigaPixels nor megaPoints, so no cost "
                    "can be estimated and max_cost cannot be checked",
                    severity="warning",
                )

    # -- plan ---------------------------------------------------------------------------
    def plan_check(self, spec: Mapping[str, Any], ctx: OperationContext) -> Iterable[Issue]:
        """The workspace must exist (when its id is known already)."""
        workspace_id = spec.get("workspaceId")
        client: ItwinClient = ctx.client
        if isinstance(workspace_id, str) and is_known(workspace_id) and client.get_workspace(workspace_id) is None:
            yield Issue(
                ("workspaceId",),
                f"workspace '{workspace_id}' does not exist in iTwin",
                hint="create it with an itwin.Workspace resource and reference its outputs.id",
            )

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """A pre-estimate from costEstimationParameters (the service's own one is checked at apply)."""
        params = spec.get("costEstimationParameters")
        if not isinstance(params, dict) or not is_known(params):
            return None
        amount = pre_estimate(params)
        if amount is None:
            return None
        return Cost(amount, UNIT, basis(params), Confidence.PRE_ESTIMATE)

    def estimate_update_cost(
        self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext
    ) -> Cost | None:
        """The whole estimate: only an unsubmitted job updates, and the update submits it."""
        cost = self.estimate_cost(spec, ctx)
        return replace(cost, basis=f"{cost.basis}; the update submits the job") if cost is not None else None

    def plan_change(self, changes: list[Change], record: Record) -> ChangePlan:
        """Before submission settings are PATCHed; a submitted job is immutable."""
        submitted = record.private.get("submitted", record.outputs.get("state") not in (None, "unsubmitted"))
        if not submitted and all(c.field in PATCHABLE for c in changes):
            return ChangePlan("update", "job not submitted yet: its settings are changed in place")
        if not submitted:
            return ChangePlan("replace", "type, name, workspaceId and inputs cannot change: a new job is made")
        return ChangePlan("replace", "a submitted job cannot change: a new job is made")

    # -- apply --------------------------------------------------------------------------
    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        """Create (or, on a retried call, find again) the job, then check its cost and submit it.

        The API takes no idempotency key, so a retried create first looks for the job an
        earlier attempt of this intent made; any failure after the job exists carries its id.
        """
        client: ItwinClient = ctx.client
        found = self.adopt(spec, ctx)
        if found is not None:
            return found
        job = client.create_job(spec)
        client.claim(str(job["id"]), ctx.address)
        try:
            return self._estimate_and_submit(job, spec, ctx)
        except RemoteError as exc:
            exc.remote_id = exc.remote_id or str(job["id"])
            raise

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        """Find the job an interrupted create made: same name and workspace, created after the intent."""
        client: ItwinClient = ctx.client
        since = _iso(ctx.intent_at)
        found = [
            j
            for j in client.list_jobs(f"name eq {_quote(str(spec['name']))} and createdDateTime ge {since}")
            if j.get("name") == spec["name"]
            and j.get("workspaceId") == spec["workspaceId"]
            and not client.claimed_by_other(str(j.get("id")), ctx.address)
        ]
        if not found:
            return None
        if len(found) > 1:
            ids = [str(j.get("id")) for j in found]
            raise AdoptError(
                f"{len(found)} jobs named '{spec['name']}' were created in workspace "
                f"{spec['workspaceId']} since the interrupted apply: {', '.join(ids)}",
                candidates=ids,
                provider="itwin",
                hint="cancel or delete the extra jobs in iTwin, then apply again",
            )
        return self._estimate_and_submit(found[0], spec, ctx)

    def _estimate_and_submit(self, job: dict[str, Any], spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        client: ItwinClient = ctx.client
        job_id = str(job["id"])
        if not client.claim(job_id, ctx.address):
            raise AdoptError(
                f"job {job_id} already belongs to {client.claims[job_id]} in this run",
                candidates=[job_id],
                provider="itwin",
                hint="give jobs in one workspace distinct names",
            )
        state = view.state_of(job)
        if state != "unsubmitted":  # adopted after submission: just follow it
            return self._result(job, ctx, {"submitted": True})
        params = spec.get("costEstimationParameters")
        cost = job.get("estimatedCost")
        if params and cost is None:
            cost = client.patch_job(job_id, {"costEstimationParameters": params}).get("estimatedCost")
        self._check_budget(job_id, cost, ctx)
        submitted = client.patch_job(job_id, {"state": "active"})
        return self._result(submitted, ctx, {"submitted": True})

    def _check_budget(self, job_id: str, cost: Any, ctx: OperationContext) -> None:
        client: ItwinClient = ctx.client
        limits = [
            (float(v), label)
            for v, label in (
                (ctx.lifecycle.get("max_cost"), "lifecycle.max_cost"),
                (client.budget, "the itwin provider budget"),
            )
            if v is not None
        ]
        if not limits:
            return
        if cost is None:
            ctx.reporter.warn(
                f"job {job_id} has no cost estimate (no costEstimationParameters); "
                f"{' and '.join(label for _, label in limits)} not checked"
            )
            return
        for limit, label in limits:
            if float(cost) > limit:
                raise BudgetExceeded(
                    f"iTwin estimates job {job_id} at {float(cost):,.2f} {UNIT}, above {label} "
                    f"({limit:,.2f}); the job was created but NOT submitted",
                    provider="itwin",
                    remote_id=job_id,
                    hint=f"raise {label} or lower the job's volume/quality, then apply again",
                )

    def _result(self, job: Mapping[str, Any], ctx: OperationContext, private: dict[str, Any]) -> Result:
        state = view.state_of(job)
        result = Result(remote_id=str(job["id"]), outputs=view.outputs_of(job), private=private, cost=reported(job))
        if state == "success":
            for line in view.messages((job.get("executionInformation") or {}).get("warnings")):
                ctx.reporter.warn(f"iTwin job {job['id']}: {line}")
            client: ItwinClient = ctx.client
            if client.reality is not None:
                result.outputs["results"] = downloads.store_outputs(
                    client, result.outputs.get("outputs") or {}, job.get("iTwinId"), ctx
                )
            result.status, result.progress = "ready", 1.0
        elif state == "failed":
            errors = view.messages((job.get("executionInformation") or {}).get("errors"))
            raise PermanentError(
                f"iTwin job {job['id']} failed: " + ("; ".join(errors) or "no error given"),
                provider="itwin",
                remote_id=str(job["id"]),
            )
        elif state == "cancelled":
            raise PermanentError(f"iTwin job {job['id']} was cancelled", provider="itwin", remote_id=str(job["id"]))
        else:
            result.status = "running"
            result.poll_after = ctx.client.backoff[0]
        return result

    def poll(self, record: Record, ctx: OperationContext) -> Result:
        """One progress look; the documented backoff restarts when the percentage moves."""
        client: ItwinClient = ctx.client
        job_id = str(record.remote_id)
        progress = client.progress(job_id)
        if progress is None or view.is_terminal(view.state_of(progress)):
            job = client.get_job(job_id)
            if job is None:
                raise NotFound(f"iTwin job {job_id} disappeared", provider="itwin")
            return self._result(job, ctx, {**record.private, "submitted": True})
        percentage = progress.get("percentage")
        delay, memory = view.next_poll(client.backoff, record.private.get("poll"), percentage)
        step = progress.get("step") or view.state_of(progress)
        fraction = float(percentage) / 100 if isinstance(percentage, (int, float)) else None
        return Result(
            remote_id=job_id,
            status="running",
            outputs={**record.outputs, "state": view.state_of(progress)},
            private={**record.private, "submitted": True, "poll": memory},
            message=f"{step} {percentage}%",
            progress=fraction,
            poll_after=delay,
        )

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        client: ItwinClient = ctx.client
        job = client.get_job(str(record.remote_id))
        if job is None:
            return None
        state = view.state_of(job)
        status = _STATUS_BY_STATE.get(state, "failed")
        message = {
            "unsubmitted": "the job was created but never submitted",
            "cancelled": "the job was cancelled",
            "failed": "the job failed",
        }.get(state)
        outputs = view.outputs_of(job)
        if state == "success" and record.outputs.get("results"):
            outputs["results"] = record.outputs["results"]  # what was stored stays referenced
        return Result(
            remote_id=str(job["id"]),
            status=status,
            outputs=outputs,
            observed=view.observed_of(job, record.spec),
            message=message,
            private={**record.private, "submitted": state != "unsubmitted"},
        )

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext) -> Result:
        """PATCH settings / costEstimationParameters of an unsubmitted job, then check cost and submit."""
        client: ItwinClient = ctx.client
        job_id = str(record.remote_id)
        body = {k: spec[k] for k in PATCHABLE if k in spec}
        job = client.patch_job(job_id, body)
        return self._estimate_and_submit(job, spec, ctx)

    def cancel(self, record: Record, ctx: OperationContext) -> None:
        """Stop a job on timeout: PATCH state cancelled unless it already ended."""
        client: ItwinClient = ctx.client
        job = client.get_job(str(record.remote_id))
        if job is not None and not view.is_terminal(view.state_of(job)):
            client.patch_job(str(record.remote_id), {"state": "cancelled"})

    def datasets(self, record: Record) -> list[Any]:
        return view.job_datasets(record)

    def delete(self, record: Record, ctx: OperationContext) -> None:
        """Delete an unsubmitted job, cancel a running one; a finished one is only forgotten."""
        client: ItwinClient = ctx.client
        if not record.remote_id:
            return
        job = client.get_job(record.remote_id)
        if job is None:
            return
        state = view.state_of(job)
        if state == "unsubmitted":
            client.delete_job(record.remote_id)
        elif state == "active":
            client.patch_job(record.remote_id, {"state": "cancelled"})
        else:
            ctx.reporter.warn(
                f"iTwin job {record.remote_id} is {state}: the API cannot delete a submitted job; "
                "it is forgotten and its reality data stays in iTwin"
            )
