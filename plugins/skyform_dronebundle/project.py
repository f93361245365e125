"""``dronebundle.Project``: the project that holds jobs (POST/GET/PATCH /projects).

The project pages document create, get, update and a cursor-paginated list (filters
``status`` and ``archived``); the project's own fields beyond ``name``, the shared status
enum and ``archived`` are not spelled out, so this kind keeps to those plus
``description`` and ``other_status_reason`` (worded like the job's). Because projects can
be listed, an interrupted create is looked for by name and creation time (and
reported, never guessed: a project carries no client-chosen key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from skyform.errors import AdoptError, Issue, NotFound, PermanentError, RemoteError
from skyform.providers import CheckContext, Cost, OperationContext, Record, ResourceKind, Result
from skyform.spec.values import is_known

from . import vocabulary as v
from .client import certainly_not_created
from .dates import parse_iso, timestamp

PROJECT_FIELDS = ("name", "description", "status", "other_status_reason", "archived")
#: seconds of clock skew allowed between our intent timestamp and the service's `created`
ADOPT_SKEW = 300.0

PROJECT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "dronebundle.Project",
    "description": "A DroneBundle project: POST /projects.",
    "type": "object",
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "errorMessage": v.NAME_LENGTH,
            "description": "Project name. 1 to 100 characters.",
        },
        "description": {
            "type": "string",
            "maxLength": 1000,
            "errorMessage": v.DESCRIPTION_LENGTH,
            "description": "Project description. Max 1000 characters.",
        },
        "status": {
            "enum": list(v.STATUSES),
            "errorMessage": v.STATUS_ENUM,
            "description": "Project status (the job status values).",
        },
        "other_status_reason": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "errorMessage": v.OTHER_REASON_LENGTH,
            "description": "Required when status is other. 1 to 200 characters.",
        },
        "archived": {"type": "boolean", "description": "Archived projects are listed only with archived=true."},
    },
    "required": ["name"],
    "additionalProperties": False,
}

PROJECT_OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "The project id (use it as a job's project_id)."},
        "name": {"type": "string"},
        "status": {"type": ["string", "null"]},
        "created": {"type": ["string", "null"], "description": "ISO 8601 UTC timestamp."},
        "updated": {"type": ["string", "null"], "description": "ISO 8601 UTC timestamp."},
    },
    "required": ["id"],
    "additionalProperties": False,
}


def _result(remote: Mapping[str, Any], spec: Mapping[str, Any]) -> Result:
    return Result(
        remote_id=str(remote["id"]),
        status="ready",
        outputs={
            "id": str(remote["id"]),
            "name": remote.get("name"),
            "status": remote.get("status"),
            "created": timestamp(remote.get("created")),
            "updated": timestamp(remote.get("updated")),
        },
        observed={k: remote.get(k) for k in spec if k in PROJECT_FIELDS},
    )


class ProjectKind(ResourceKind):
    """A DroneBundle project."""

    name = "Project"
    description = "A DroneBundle project, the container of jobs."
    spec_schema = PROJECT_SCHEMA
    outputs_schema = PROJECT_OUTPUTS_SCHEMA
    stable_outputs = frozenset({"id", "created"})
    output_sources = {"name": frozenset({"name"}), "status": frozenset({"status"})}
    delete_mode = "manual"
    delete_note = (
        "the DroneBundle API documents no project delete (set archived: true, or remove it "
        "on the dashboard); skyform forgets it only with --forget"
    )

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """A project is a folder for jobs: it costs nothing (its jobs' flights do)."""
        return Cost.free("a project is a folder for jobs; their flights are priced on the jobs")

    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        """The documented name rule and status other needing its reason."""
        name = spec.get("name")
        if is_known(name) and not (isinstance(name, str) and 1 <= len(name) <= 100):
            yield Issue(("name",) if "name" in spec else (), v.NAME_LENGTH)
        if spec.get("status") == "other" and spec.get("other_status_reason") is None:
            yield Issue(("status",), v.OTHER_REASON_REQUIRED, hint="add other_status_reason (1 to 200 characters)")

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        """POST the project, then GET it for the outputs."""
        body = {k: val for k, val in spec.items() if val is not None}
        try:
            project_id = ctx.client.create_project(body)
        except RemoteError as exc:
            if certainly_not_created(exc):
                ctx.client.outcomes.record(ctx.idempotency_key, None)
            raise
        ctx.client.outcomes.record(ctx.idempotency_key, project_id)
        remote = ctx.client.get_project(project_id) or {**body, "id": project_id}
        return _result(remote, spec)

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        """None when no project of this name was created since the intent; otherwise AdoptError
        listing the candidates: a project carries no client-chosen key, so a name match could be
        someone else's project and skyform does not guess."""
        known, project_id = ctx.client.outcomes.recall(ctx.idempotency_key)
        if known:  # an earlier attempt of this run: refused (None) or made this project
            remote = ctx.client.get_project(project_id) if project_id else None
            return _result(remote, spec) if remote is not None else None
        since_ms = (ctx.intent_at - ADOPT_SKEW) * 1000.0
        found = [
            p
            for p in ctx.client.list_projects(archived=bool(spec.get("archived")))
            if p.get("name") == spec.get("name") and _millis(p.get("created")) >= since_ms
        ]
        if not found:
            return None
        ids = [str(p["id"]) for p in found]
        raise AdoptError(
            f"possible orphan: {len(found)} project(s) named {spec.get('name')!r} created since the "
            f"interrupted apply ({', '.join(ids)}); check the DroneBundle dashboard, then run "
            f"`skyform import {ctx.address} <project id>` or `skyform state rm {ctx.address}` to create anew",
            candidates=ids,
            provider="dronebundle",
        )

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        """GET the project; None when the service answers 404."""
        remote = ctx.client.get_project(str(record.remote_id))
        return None if remote is None else _result(remote, record.spec)

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Any], ctx: OperationContext) -> Result:
        """PATCH the changed fields, then GET the project."""
        body: dict[str, Any] = {}
        for field in {c.field for c in changes} & set(PROJECT_FIELDS):
            if field in spec:
                body[field] = spec[field]
            elif field == "archived":
                body[field] = False
            elif field != "status":
                body[field] = None
        if spec.get("status") == "other" and "status" in body:
            body["other_status_reason"] = spec.get("other_status_reason")
        if body:
            ctx.client.update_project(str(record.remote_id), body)
        remote = ctx.client.get_project(str(record.remote_id))
        if remote is None:
            raise NotFound(f"dronebundle: project {record.remote_id} disappeared during update", provider="dronebundle")
        return _result(remote, spec)

    def delete(self, record: Record, ctx: OperationContext) -> None:
        """Never called for a manual-delete kind; explains if it is."""
        raise PermanentError(f"dronebundle: {self.delete_note}", provider="dronebundle")


def _millis(value: Any) -> float:
    """Epoch milliseconds from the API's ``created`` (milliseconds, or an ISO string)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    parsed = parse_iso(str(value)) if value is not None else None
    if isinstance(parsed, datetime):
        return parsed.timestamp() * 1000.0
    if isinstance(parsed, date):
        return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC).timestamp() * 1000.0
    return 0.0
