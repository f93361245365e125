"""Kind ``itwin.Workspace``: the ContextCapture workspace that holds a mission's jobs.

Created with ``POST /workspaces`` and removed with ``DELETE``; the API documents no update
and no way to list workspaces, so every change is a replace and an interrupted create
cannot be matched afterwards: adopt refuses (``AdoptError``) rather than guess, naming
what to look for in iTwin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skyform.errors import AdoptError
from skyform.providers import ALL_FIELDS, Cost, OperationContext, Record, ResourceKind, Result

from .client import ItwinClient
from .schemas import WORKSPACE_OUTPUTS_SCHEMA, WORKSPACE_SPEC_SCHEMA

_OUTPUT_KEYS = ("id", "name", "iTwinId", "createdDateTime", "contextCaptureVersion")


def _result(workspace: Mapping[str, Any]) -> Result:
    observed = {k: workspace[k] for k in ("name", "iTwinId", "contextCaptureVersion") if workspace.get(k) is not None}
    return Result(
        remote_id=str(workspace["id"]),
        status="ready",
        outputs={k: workspace.get(k) for k in _OUTPUT_KEYS},
        observed=observed,
    )


class WorkspaceKind(ResourceKind):
    """A ContextCapture workspace (its id is a job's workspaceId)."""

    name = "Workspace"
    description = "A ContextCapture workspace, the container of reality modeling jobs."
    spec_schema = WORKSPACE_SPEC_SCHEMA
    outputs_schema = WORKSPACE_OUTPUTS_SCHEMA
    immutable = ALL_FIELDS
    delete_mode = "delete"

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """A workspace bills nothing: iTwin bills the processing units of its jobs."""
        return Cost.free("a workspace bills nothing; its jobs bill processing units")

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        client: ItwinClient = ctx.client
        return _result(client.create_workspace(spec))

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        """The API cannot list workspaces, so a crashed create cannot be matched: refuse."""
        raise AdoptError(
            f"an earlier apply was interrupted while creating workspace '{spec.get('name')}', and "
            "the ContextCapture API offers no way to list workspaces to find it again",
            provider="itwin",
            hint=f"look in iTwin for a workspace of that name created at the interrupted apply, then run "
            f"`skyform import {ctx.address} <workspace id>` to keep it, or delete it in iTwin and run "
            f"`skyform state rm {ctx.address}` to create anew",
        )

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        client: ItwinClient = ctx.client
        workspace = client.get_workspace(str(record.remote_id))
        return None if workspace is None else _result(workspace)

    def delete(self, record: Record, ctx: OperationContext) -> None:
        client: ItwinClient = ctx.client
        if record.remote_id:
            client.delete_workspace(record.remote_id)
