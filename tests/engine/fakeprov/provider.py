"""The fake provider's kinds over skyform.http.ServiceClient."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Mapping
from typing import Any

from skyform.errors import AdoptError, Issue, NotFound, PermanentError
from skyform.http import ServiceClient, StaticToken
from skyform.providers import (
    ALL_FIELDS,
    ChangePlan,
    CheckContext,
    Cost,
    Irreversibility,
    OperationContext,
    Provider,
    Record,
    ResourceKind,
    Result,
)

from .simulator import FakeSimulator

BASE_SPEC = {
    "name": {"type": "string", "minLength": 1, "maxLength": 50},
    "value": {"description": "anything; changes are updates"},
    "create_error": {"type": "integer"},
    "cost": {"type": "number", "minimum": 0},
    "irreversible": {"type": "string", "description": "set: creating it (and deleting it) cannot be undone, why"},
    "chatter": {"type": "integer", "minimum": 0, "description": "progress reports and log lines during the create"},
    "chatter_every": {"type": "number", "minimum": 0, "description": "seconds between two of them (default 0.002)"},
}


class Thing(ResourceKind):
    name = "Thing"
    spec_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {**BASE_SPEC, "immutable_field": {"type": "string"}, "even": {"type": "integer"}},
    }
    outputs_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "value": {}},
    }
    immutable = frozenset({"immutable_field", "name"})
    kind = "thing"

    def check(self, spec: Mapping[str, Any], ctx: Any) -> Iterable[Issue]:
        even = spec.get("even")
        if isinstance(even, int) and even % 2:
            yield Issue(("even",), f"{even} is odd; an even number is required")

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        return Cost(float(spec["cost"]), "EUR") if isinstance(spec.get("cost"), (int, float)) else None

    def irreversibility(
        self, action: str, spec: Mapping[str, Any] | None, record: Record | None, ctx: CheckContext
    ) -> Irreversibility:
        why = (spec or {}).get("irreversible") if action != "delete" else (record and record.spec.get("irreversible"))
        if why and action != "update":
            return Irreversibility.irreversible(str(why))
        return Irreversibility.reversible()

    def _body(self, spec: Mapping[str, Any], ctx: OperationContext) -> dict[str, Any]:
        return {"kind": self.kind, "key": ctx.idempotency_key, **spec}

    def _result(self, obj: dict[str, Any]) -> Result:
        status = {"ready": "ready", "done": "ready", "running": "running"}.get(obj["state"], "failed")
        return Result(
            remote_id=obj["id"],
            status=status,  # type: ignore[arg-type]
            outputs={"id": obj["id"], "name": obj["name"], "value": obj.get("value")},
            observed={"value": obj.get("value")},
            progress=obj.get("progress"),
            message=f"remote job {obj['state']}" if status == "failed" else None,
        )

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        # the distributed tests: an operation that kills its worker, and slow creates (an
        # upload before the object exists, or after: FAKE_CREATE_PAUSE=before:5 / after:5)
        if spec["name"] in os.environ.get("FAKE_KILL_WORKER_ON", "").split(","):
            os.kill(os.getpid(), signal.SIGKILL)
        # one pause for every create, or per name: FAKE_CREATE_PAUSE=slow=before:5,hard=stubborn:30
        pause = os.environ.get("FAKE_CREATE_PAUSE", "")
        if "=" in pause:
            pause = dict(p.split("=", 1) for p in pause.split(",")).get(spec["name"], "")
        phase, _, seconds = pause.partition(":")
        if phase == "before":
            _pause(float(seconds))
        elif phase == "stubborn":  # a provider that swallows Celery's soft time limit
            deadline = time.monotonic() + float(seconds)
            while time.monotonic() < deadline:
                try:
                    time.sleep(0.05)
                except BaseException:  # the point: it keeps going
                    pass
        _chatter(spec, ctx)
        created = self._result(ctx.client.post("/objects", json=self._body(spec, ctx)))
        if phase == "after":
            _pause(float(seconds))
        return created

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        found = ctx.client.get("/objects", params={"key": ctx.idempotency_key})["results"]
        if len(found) > 1:  # never guess which one the crashed run made
            raise AdoptError(
                f"{len(found)} objects carry the idempotency key {ctx.idempotency_key}: "
                f"{', '.join(sorted(o['id'] for o in found))}",
                candidates=sorted(o["id"] for o in found),
                provider="fake",
            )
        return self._result(found[0]) if found else None

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        try:
            return self._result(ctx.client.get(f"/objects/{record.remote_id}"))
        except NotFound:
            return None

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Any], ctx: OperationContext) -> Result:
        return self._result(ctx.client.patch(f"/objects/{record.remote_id}", json={"value": spec.get("value")}))

    def delete(self, record: Record, ctx: OperationContext) -> None:
        try:
            ctx.client.delete(f"/objects/{record.remote_id}")
        except NotFound:
            pass


class Job(Thing):
    name = "Job"
    kind = "job"
    long_running = True
    poll_interval = 0.05
    max_poll_interval = 0.2
    spec_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            **BASE_SPEC,
            "duration": {"type": "number", "minimum": 0},
            "fail": {"type": "boolean"},
            "stuck": {"type": "boolean"},
        },
    }
    outputs_schema = Thing.outputs_schema
    immutable = ALL_FIELDS

    def plan_change(self, changes: list[Any], record: Record) -> ChangePlan:
        return ChangePlan("replace", note="a job cannot change once submitted")

    def poll(self, record: Record, ctx: OperationContext) -> Result:
        result = self.read(record, ctx)
        if result is None:
            raise PermanentError("job vanished")
        if result.status == "running":
            ctx.reporter.progress(result.progress, "processing")
        return result

    def cancel(self, record: Record, ctx: OperationContext) -> None:
        ctx.client.post(f"/objects/{record.remote_id}/cancel")


def connect(settings: Mapping[str, Any]) -> ServiceClient:
    return ServiceClient(
        settings.get("url", "http://127.0.0.1:9"),
        provider="fake",
        auth=StaticToken(settings.get("token", "")),
        secrets=[settings.get("token", "")],
    )


PROVIDER = Provider(
    name="fake",
    version="0.0.1",
    kinds=(Thing(), Job()),
    connect=connect,
    settings_schema={
        "type": "object",
        "properties": {"url": {"type": "string"}, "token": {"type": "string"}},
        "additionalProperties": False,
    },
    secret_settings=frozenset({"token"}),
    simulator=lambda options: FakeSimulator(options),
    parallelism=8,
)


def _pause(seconds: float) -> None:
    """Sleep up to ``seconds``; sooner once the file named by FAKE_CREATE_RELEASE exists.

    A test that has seen what it waited for releases the operation instead of sitting out a
    window made long enough for a loaded machine.
    """
    release = os.environ.get("FAKE_CREATE_RELEASE")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if release and os.path.exists(release):
            return
        time.sleep(min(left, 0.05))


def _chatter(spec: Mapping[str, Any], ctx: OperationContext) -> None:
    """The live log's tests: ``chatter`` progress reports and provider log lines during one
    create, each log line naming the provider's token (the live log must mask it)."""
    lines = int(spec.get("chatter") or 0)
    every = float(spec.get("chatter_every", 0.002))
    for i in range(1, lines + 1):
        ctx.reporter.progress(i / lines, f"step {i} of {lines}")
        ctx.log.info("fake: step %d of %d with token %s", i, lines, ctx.settings.get("token"))
        time.sleep(every)
