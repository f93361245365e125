"""A provider for the ``--jobs`` tests: ``meet.Point`` objects whose creation waits for others.

``meets``: the points that must have *started* being created before this one finishes (a
rendezvous: only missions running side by side get past it); ``after``: the points that
must have *finished* first (so a test decides the order missions complete in). A wait that
is not met within ``WAIT_S`` fails the create, which fails that mission. Objects live in
this process (the tests run gitops in-process).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import skyform
from skyform import hookimpl
from skyform.errors import PermanentError
from skyform.providers import OperationContext, Provider, Record, ResourceKind, Result

WAIT_S = 30.0
started: defaultdict[str, threading.Event] = defaultdict(threading.Event)
finished: defaultdict[str, threading.Event] = defaultdict(threading.Event)
objects: dict[str, dict[str, Any]] = {}
order: list[str] = []  # names in the order their creation finished


def reset() -> None:
    started.clear()
    finished.clear()
    objects.clear()
    order.clear()


class Point(ResourceKind):
    name = "Point"
    spec_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "description": "This point's name."},
            "meets": {"type": "array", "items": {"type": "string"}, "description": "Points started first."},
            "after": {"type": "array", "items": {"type": "string"}, "description": "Points finished first."},
        },
    }
    outputs_schema = {"type": "object", "properties": {"name": {"type": "string"}}}

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        name = spec["name"]
        started[name].set()
        for other, events in [
            *((o, started) for o in spec.get("meets", [])),
            *((o, finished) for o in spec.get("after", [])),
        ]:
            if not events[other].wait(WAIT_S):
                raise PermanentError(f"{name}: {other} did not get there within {WAIT_S} s")
        objects[ctx.idempotency_key] = dict(spec)
        order.append(name)
        finished[name].set()
        return Result(remote_id=ctx.idempotency_key, outputs={"name": name}, observed=dict(spec))

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        spec = objects.get(str(record.remote_id))
        if spec is None:
            return None
        return Result(remote_id=record.remote_id, outputs={"name": spec["name"]}, observed=dict(spec))

    def delete(self, record: Record, ctx: OperationContext) -> None:
        objects.pop(str(record.remote_id), None)


PROVIDER = Provider(name="meet", version=skyform.__version__, kinds=(Point(),), connect=lambda settings: None)


@hookimpl
def skyform_providers() -> list[Provider]:
    return [PROVIDER]
