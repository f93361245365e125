"""Kind ``cvat.Project``: a named label set that tasks share.

The name changes in place; labels may be added (CVAT appends them) and recoloured in place,
while removing a label or changing its type or attributes is a replace, because CVAT would
delete that label's annotations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

from .adoption import created_after
from .errors import sdk_errors
from .labels import LABELS_SCHEMA, check_labels, label_names, label_requests, observed_labels, recolour, replace_reason
from .pricing import PROJECT

SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "A CVAT project: a name and the label set its tasks use.",
    "required": ["name", "labels"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 256, "description": "Project name."},
        "labels": LABELS_SCHEMA,
    },
}

OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "description": "Project id (use as a task's project_id)."},
        "url": {"type": "string", "description": "The project's page in CVAT's web UI."},
        "label_ids": {
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "Label name → label id.",
        },
    },
    "required": ["id", "url", "label_ids"],
}


class ProjectKind(ResourceKind):
    """A CVAT project with its labels."""

    name = "Project"
    description = "An annotation project: a name and a label set shared by its tasks."
    spec_schema = SPEC_SCHEMA
    outputs_schema = OUTPUTS_SCHEMA
    delete_note = "deleting a CVAT project deletes its tasks, jobs and annotations"
    # a rename or a recolour keeps the project and its labels: tasks using the id stay
    # (not ``url``: it is made of the provider's url setting, which may change)
    stable_outputs = frozenset({"id"})
    output_sources = {"label_ids": frozenset({"labels"})}

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """A project holds labels and no data: it costs nothing."""
        return PROJECT

    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        yield from check_labels(spec.get("labels"))

    def plan_change(self, changes: list[Change], record: Record) -> ChangePlan:
        for change in changes:
            if change.field != "labels":
                continue
            reason = replace_reason(change.before, change.after)
            if reason:
                return ChangePlan("replace", reason)
        return ChangePlan("update")

    def _result(self, ctx: OperationContext, project: Any, applied: Any) -> Result:
        conn = ctx.client
        with sdk_errors(f"reading the labels of project {project.id}"):
            labels = project.get_labels()
        return Result(
            remote_id=str(project.id),
            status="ready",
            outputs={
                "id": project.id,
                "url": f"{conn.url}/projects/{project.id}",
                "label_ids": {lb.name: lb.id for lb in labels},
            },
            observed={"name": project.name, "labels": observed_labels(labels, applied)},
        )

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        from cvat_sdk.api_client import models

        request = models.ProjectWriteRequest(name=spec["name"], labels=label_requests(spec["labels"]))
        with sdk_errors(f"creating project {spec['name']!r}"):
            project = ctx.client.sdk.projects.create(request)
        return self._result(ctx, project, spec["labels"])

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        with sdk_errors(f"looking for project {spec['name']!r}"):
            candidates = [p for p in ctx.client.sdk.projects.list(name=spec["name"]) if p.name == spec["name"]]
        found = created_after(candidates, ctx.intent_at, "project")
        return self._result(ctx, found, spec["labels"]) if found is not None else None

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        try:
            with sdk_errors(f"reading project {record.remote_id}"):
                project = ctx.client.sdk.projects.retrieve(int(record.remote_id or 0))
        except NotFound:
            return None
        return self._result(ctx, project, record.spec.get("labels"))

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext) -> Result:
        from cvat_sdk.api_client import models

        pid = int(record.remote_id or 0)
        fields: dict[str, Any] = {}
        if any(c.field == "name" for c in changes):
            fields["name"] = spec["name"]
        if any(c.field == "labels" for c in changes):
            known = label_names(record.spec.get("labels"))
            fresh = [lb for lb in spec["labels"] if lb["name"] not in known]
            if fresh:
                fields["labels"] = label_requests(fresh)
        with sdk_errors(f"updating project {pid}"):
            project = ctx.client.sdk.projects.retrieve(pid)
            if fields:
                project.update(models.PatchedProjectWriteRequest(**fields))
            if any(c.field == "labels" for c in changes):
                recolour(ctx.client.sdk, project.get_labels(), spec["labels"])
        return self._result(ctx, project, spec["labels"])

    def irreversibility(
        self, action: str, spec: Mapping[str, Any] | None, record: Record | None, ctx: CheckContext
    ) -> Irreversibility:
        """Deleting it (a delete, or a replace's delete) deletes every task of the project and its annotations."""
        if action in ("delete", "replace") and record is not None and record.remote_id:
            return Irreversibility.irreversible(
                "deleting it deletes every task of the project and its annotations; "
                "they cannot be recovered (export them first)"
            )
        return Irreversibility.reversible()

    def delete(self, record: Record, ctx: OperationContext) -> None:
        try:
            with sdk_errors(f"deleting project {record.remote_id}"):
                ctx.client.sdk.api_client.projects_api.destroy(int(record.remote_id or 0))
        except NotFound:
            pass  # already gone: deleting it is done
