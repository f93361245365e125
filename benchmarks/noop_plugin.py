"""A provider whose operations do nothing, for measuring the engine alone (``bench.Noop``).

``benchmarks/run.py`` registers it with ``SKYFORM_PLUGIN_MODULES=noop_plugin`` so that the
whole ``skyform apply`` process can be timed against doit's tasks with empty actions: what
is left is the engine's own cost per node (loading, planning, scheduling, state).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from skyform import hookimpl
from skyform.providers import OperationContext, Provider, Record, ResourceKind, Result


class NoopKind(ResourceKind):
    """Creates, reads and deletes nothing."""

    name = "Noop"
    spec_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "additionalProperties": False,
    }

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        return Result(remote_id=ctx.address, observed=dict(spec))

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        return Result(remote_id=record.remote_id, observed=dict(record.spec))

    def delete(self, record: Record, ctx: OperationContext) -> None:
        return None


PROVIDER = Provider(
    name="bench",
    version="1",
    kinds=(NoopKind(),),
    connect=lambda settings: None,
    description="does nothing (benchmarks)",
)


@hookimpl
def skyform_providers() -> list[Provider]:
    return [PROVIDER]
