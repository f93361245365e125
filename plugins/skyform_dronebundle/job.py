"""``dronebundle.Job``: a one-time or recurring job inside a DroneBundle project.

A job is a scheduling record: it is "ready" once created, and its ``status`` is desired
state like any other field (a status changed on the dashboard shows as drift and is set
back by the next apply). The API documents create, get and update only, so an interrupted
create cannot be matched (no list-jobs endpoint) and a job cannot be deleted through skyform.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from skyform.errors import AdoptError, Issue, NotFound, PermanentError, RemoteError
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

from . import vocabulary as v
from .client import certainly_not_created
from .dates import day, timestamp
from .identity import derived_external_id
from .job_rules import job_issues
from .pricing import estimate
from .schemas import JOB_OUTPUTS_SCHEMA, JOB_SCHEMA

_DATE_FIELDS = ("start_date", "end_date")
#: the documented job statuses once a pilot is booked for it (planned: scheduled with a pilot)
BOOKED = frozenset({"planned", "in_progress", "completed", "weather_delayed", "technical_issues", "on_hold"})
_REGENERATING = frozenset({"job_pattern", *v.RECURRING_FIELDS})
_PAIRS = (("latitude", "longitude"),)


def job_outputs(remote: Mapping[str, Any]) -> dict[str, Any]:
    """The declared outputs from a GET job answer, dates normalised."""
    return {
        "id": remote.get("id"),
        "project_id": remote.get("project_id"),
        "status": remote.get("status"),
        "external_id": remote.get("external_id"),
        "start_date": day(remote.get("start_date")),
        "end_date": day(remote.get("end_date")),
        "created": timestamp(remote.get("created")),
        "updated": timestamp(remote.get("updated")),
    }


def job_observed(remote: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The remote values of the fields the spec sets (what drift is judged on).

    With no spec (``skyform import``) it is the job as a spec would state it: fields that are
    set, without documented defaults or a skyform-derived external_id, so that importing a
    job that matches the mission plans no change.
    """
    if not spec:
        spec = {
            f: None
            for f in v.JOB_FIELDS
            if remote.get(f) is not None
            and remote.get(f) != v.JOB_DEFAULTS.get(f)
            and not (f == "external_id" and str(remote.get(f)).startswith("skyform:"))
        }
    observed: dict[str, Any] = {}
    for field in spec:
        if field not in v.JOB_FIELDS:
            continue
        value = remote.get(field)
        if field in _DATE_FIELDS and value is not None:
            wanted = spec.get(field)
            # the same day in another form (timestamp vs date) is not drift
            value = wanted if isinstance(wanted, str) and day(wanted) == day(value) else day(value)
        observed[field] = value
    return observed


def split_remote_id(remote_id: str) -> tuple[str | None, str]:
    """(project id, job id) from ``<project id>/<job id>`` (what `skyform import` takes: a job
    is only reachable through its project) or a bare job id."""
    project_id, _, job_id = remote_id.rpartition("/")
    return (project_id or None), job_id


class JobKind(ResourceKind):
    """A DroneBundle job (POST/GET/PATCH /projects/{project_id}/jobs)."""

    name = "Job"
    description = "A drone-operations job (inspection, survey, thermal scan), one-time or recurring."
    spec_schema = JOB_SCHEMA
    outputs_schema = JOB_OUTPUTS_SCHEMA
    stable_outputs = frozenset({"id", "project_id", "created"})
    output_sources = {
        "external_id": frozenset({"external_id"}),
        "start_date": frozenset({"start_date"}),
        "end_date": frozenset({"end_date"}),
    }
    immutable = frozenset({"project_id"})
    delete_mode = "manual"
    delete_note = (
        "the DroneBundle API documents no job delete (remove the job on the dashboard); "
        "skyform forgets it only with --forget"
    )

    # -- validate --------------------------------------------------------------------------
    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        """The rules of :mod:`.job_rules`, relative to ``ctx.today``."""
        return job_issues(spec, ctx.today)

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """Its flights, over the whole recurrence window, at the declared ``prices`` (pricing.py)."""
        return estimate(spec, ctx.settings)

    def estimate_update_cost(
        self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext
    ) -> Cost | None:
        """The flights the change adds (the job is the same booking): new minus recorded, never
        below zero; unknown when either side cannot be priced."""
        new, old = estimate(spec, ctx.settings), estimate(record.spec, ctx.settings)
        if new is None or old is None:
            return None
        if new.currency != old.currency:  # the price list changed currency: count it whole
            return new
        added = new.amount - old.amount
        if added <= 0:
            return Cost.free("no flight added: the job is changed in place")
        return Cost(added, new.currency, f"flights added: {new.figure} now, {old.figure} booked", new.confidence)

    def irreversibility(
        self, action: str, spec: Mapping[str, Any] | None, record: Record | None, ctx: CheckContext
    ) -> Irreversibility:
        """A job is cancellable until its pilot is booked (status ``planned``); after that the
        booking stands whatever becomes of the job."""
        status = str(record.outputs.get("status") or "") if record else ""
        if action in ("delete", "replace") and status in BOOKED:
            return Irreversibility.irreversible(
                f"its pilot is booked (status {status}): dropping the job does not give the booking back"
            )
        if action in ("create", "replace"):
            return Irreversibility.cancellable(
                "its pilot is booked (job status planned)", "setting status: cancelled before then costs nothing"
            )
        return Irreversibility.reversible()

    def plan_change(self, changes: list[Change], record: Record) -> ChangePlan:
        """project_id replaces the job; a pattern or recurring change regenerates occurrences."""
        fields = {c.field for c in changes}
        if "project_id" in fields:
            return ChangePlan(
                "replace",
                note="a job cannot move to another project; the old job stays on the dashboard (no documented delete)",
            )
        touched = sorted(fields & _REGENERATING)
        if touched:
            return ChangePlan("update", note=f"{', '.join(touched)} changed: occurrences will be regenerated")
        return ChangePlan("update")

    # -- apply -----------------------------------------------------------------------------
    def _external_id(self, spec: Mapping[str, Any], ctx: OperationContext) -> str:
        given = spec.get("external_id")
        return str(given) if given else derived_external_id(ctx.mission, ctx.address, ctx.idempotency_key)

    def _result(self, remote: Mapping[str, Any], spec: Mapping[str, Any], external_id: str) -> Result:
        return Result(
            remote_id=str(remote["id"]),
            status="ready",
            outputs=job_outputs(remote),
            observed=job_observed(remote, spec),
            private={"project_id": remote.get("project_id"), "external_id": external_id},
        )

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        """POST the job (with its external_id), then GET it for the outputs."""
        body = {k: val for k, val in spec.items() if k != "project_id" and val is not None}
        body["external_id"] = self._external_id(spec, ctx)
        project_id = str(spec["project_id"])
        try:
            job_id = ctx.client.create_job(project_id, body)
        except RemoteError as exc:
            if certainly_not_created(exc):
                ctx.client.outcomes.record(ctx.idempotency_key, None)
            raise
        ctx.client.outcomes.record(ctx.idempotency_key, job_id)
        remote = ctx.client.get_job(project_id, job_id)
        if remote is None:  # created but not readable yet: keep the id, outputs from the spec
            remote = {
                **body,
                "id": job_id,
                "project_id": project_id,
                "status": body.get("status", v.JOB_DEFAULTS["status"]),
            }
        return self._result(remote, spec, body["external_id"])

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        """Within one run, what the earlier attempt did is known (a refused POST made nothing; a
        POST that answered made that job). Otherwise there is no documented way to find a job by
        external_id: report a possible orphan."""
        external_id = self._external_id(spec, ctx)
        known, job_id = ctx.client.outcomes.recall(ctx.idempotency_key)
        if known and job_id is None:
            return None
        if known and job_id is not None:
            remote = ctx.client.get_job(str(spec["project_id"]), job_id)
            if remote is not None:
                return self._result(remote, spec, external_id)
        raise AdoptError(
            f"possible orphan: a job may have been created with external_id={external_id}; "
            f"check the DroneBundle dashboard (project {spec.get('project_id')}), then run "
            f"`skyform import {ctx.address} {spec.get('project_id')}/<job id>` or "
            f"`skyform state rm {ctx.address}` to create anew",
            provider="dronebundle",
            hint="the DroneBundle API documents no list-jobs endpoint, so skyform cannot look",
        )

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        """GET the job; None when the service answers 404."""
        given_project, job_id = split_remote_id(str(record.remote_id))
        project_id = record.private.get("project_id") or record.spec.get("project_id") or given_project
        if not project_id:
            raise PermanentError(
                f"dronebundle: job {job_id}: the project is unknown; import a job as <project id>/<job id>",
                provider="dronebundle",
            )
        remote = ctx.client.get_job(str(project_id), job_id)
        if remote is None:
            return None
        external_id = record.private.get("external_id") or remote.get("external_id") or ""
        return self._result(remote, record.spec, str(external_id))

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext) -> Result:
        """PATCH the changed fields, then GET the job."""
        body = patch_body(spec, {c.field for c in changes}, record)
        if "external_id" in body and not spec.get("external_id"):  # back to skyform's own
            body["external_id"] = derived_external_id(ctx.mission, record.address, record.idempotency_key)
        project_id = str(record.private.get("project_id") or spec["project_id"])
        if body:
            ctx.client.update_job(project_id, str(record.remote_id), body)
        remote = ctx.client.get_job(project_id, str(record.remote_id))
        if remote is None:
            raise NotFound(f"dronebundle: job {record.remote_id} disappeared during update", provider="dronebundle")
        external_id = body.get("external_id") or record.private.get("external_id") or ""
        return self._result(remote, spec, str(external_id))

    def delete(self, record: Record, ctx: OperationContext) -> None:
        """Never called for a manual-delete kind; explains if it is."""
        raise PermanentError(f"dronebundle: {self.delete_note}", provider="dronebundle")


def patch_body(spec: Mapping[str, Any], changed: set[str], record: Record) -> dict[str, Any]:
    """The PATCH body: changed fields only; a removed nullable field is cleared with null,
    a removed defaulted field goes back to its documented default."""
    fields = {f for f in changed if f in v.JOB_FIELDS} - {"project_id"}
    for pair in _PAIRS:  # sent together: the API checks them as a pair
        if fields & set(pair):
            fields |= set(pair)
    if "status" in fields and spec.get("status") == "other":
        fields.add("other_status_reason")
    body: dict[str, Any] = {}
    for field in sorted(fields, key=v.JOB_FIELDS.index):
        if field in spec and spec[field] is not None:
            body[field] = spec[field]
        elif field == "external_id":
            body[field] = record.private.get("external_id")
        elif field in v.JOB_DEFAULTS:
            body[field] = v.JOB_DEFAULTS[field]
        elif field in v.NULLABLE_JOB_FIELDS:
            body[field] = None
    return body
