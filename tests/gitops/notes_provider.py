"""A tiny provider for the gitops tests: ``notes.Note`` objects kept as JSON files.

The "service" is a directory named by ``SKYFORM_TEST_NOTES_DIR`` (outside the checkout),
so a test can change an object behind skyform's back (drift) and see plans estimate a cost.
``SKYFORM_TEST_NOTES_DELAY`` (seconds) makes create slow, after leaving a ``<text>.creating``
marker.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import skyform
from skyform import hookimpl
from skyform.providers import (
    CheckContext,
    Cost,
    Irreversibility,
    OperationContext,
    Provider,
    Record,
    ResourceKind,
    Result,
)


class Note(ResourceKind):
    name = "Note"
    spec_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "description": "The note."},
            "irreversible": {"type": "string", "description": "Set: creating it cannot be undone, and why."},
            "delete_loses": {"type": "string", "description": "Set: deleting it loses data for good, which."},
        },
    }
    outputs_schema = {"type": "object", "properties": {"text": {"type": "string"}}}

    def _file(self, ctx: OperationContext, remote_id: str) -> Path:
        return Path(ctx.client) / f"{remote_id}.json"

    def irreversibility(
        self, action: str, spec: Mapping[str, Any] | None, record: Record | None, ctx: CheckContext
    ) -> Irreversibility:
        if action == "delete":
            lost = (record.spec if record is not None else {}).get("delete_loses")
            return Irreversibility.irreversible(f"deleting it loses {lost}") if lost else Irreversibility.reversible()
        why = (spec or {}).get("irreversible")
        return Irreversibility.irreversible(str(why)) if why and action == "create" else Irreversibility.reversible()

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        return Cost(1.5, "EUR", "one note")

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        remote_id = ctx.idempotency_key
        delay = float(os.environ.get("SKYFORM_TEST_NOTES_DELAY", "0"))
        if delay:  # a slow service: the test signals the runner while this call is in flight
            (Path(ctx.client) / f"{spec['text']}.creating").touch()
            time.sleep(delay)
        self._file(ctx, remote_id).write_text(json.dumps({"text": spec["text"]}))
        return Result(remote_id=remote_id, outputs={"text": spec["text"]}, observed={"text": spec["text"]})

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        path = self._file(ctx, str(record.remote_id))
        if not path.exists():
            return None
        text = json.loads(path.read_text())["text"]
        return Result(remote_id=record.remote_id, outputs={"text": text}, observed={"text": text})

    def update(self, record: Record, spec: Mapping[str, Any], changes: Any, ctx: OperationContext) -> Result:
        self._file(ctx, str(record.remote_id)).write_text(json.dumps({"text": spec["text"]}))
        return Result(remote_id=record.remote_id, outputs={"text": spec["text"]}, observed={"text": spec["text"]})

    def delete(self, record: Record, ctx: OperationContext) -> None:
        self._file(ctx, str(record.remote_id)).unlink(missing_ok=True)


PROVIDER = Provider(
    name="notes",
    version=skyform.__version__,
    kinds=(Note(),),
    connect=lambda settings: os.environ["SKYFORM_TEST_NOTES_DIR"],
)


@hookimpl
def skyform_providers() -> list[Provider]:
    return [PROVIDER]
