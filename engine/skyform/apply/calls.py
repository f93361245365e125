"""Provider calls as values: what a step asks for, how it is carried out, how it ended.

A step of the walk never calls a provider itself: it describes the call as a :class:`Call`
(everything the call needs, by value) and hands it to the executor, which runs
:func:`perform` somewhere - a thread of the local pool by default - and reports a
:class:`Completion`. That is the seam where another executor (a task queue) plugs in.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import PermanentError
from ..providers.base import Change, OperationContext, Record, Reporter, ResourceKind, Result
from ..providers.cost import Cost
from ..runtime import Runtime
from ..spec.mission import Mission
from ..validate.checks import issue_diagnostics
from . import providerlog
from .node import Outcome, Step

log = logging.getLogger("skyform.apply")


@dataclass(frozen=True)
class Call:
    """One provider call for one resource, with everything it needs."""

    address: str
    type: str
    step: Step
    idempotency_key: str
    intent_at: float
    lifecycle: Mapping[str, Any]
    record: Record | None = None  # update, delete, poll, cancel: the recorded resource
    spec: Any = None  # create, update: the resolved desired spec
    changes: tuple[Change, ...] = ()  # update: the fields that changed
    adopt_first: bool = False  # create: an earlier create may have reached the service
    recheck: bool = False  # create: run the plan-time checks again on resolved values
    then_create: bool = False  # delete: the first half of a replace


@dataclass(frozen=True)
class Completion:
    """How a call ended: an outcome and its result, or the exception it raised."""

    address: str
    outcome: Outcome | None = None
    result: Result | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class Progress:
    """A running call's progress report (uploads, downloads)."""

    address: str
    fraction: float | None
    message: str


@dataclass(frozen=True)
class Phased:
    """A running call entered a phase (uploading, downloading)."""

    address: str
    phase: str


@dataclass(frozen=True)
class Logged:
    """A line of a provider's log during a call."""

    address: str
    level: str
    message: str


@dataclass(frozen=True)
class Warned:
    """A running call's warning for its resource."""

    address: str
    message: str


def perform(call: Call, runtime: Runtime, reporter: Reporter) -> Completion:
    """Carry out ``call`` (in whatever thread or process the executor chose)."""
    try:
        ctx = runtime.context(
            call.address,
            call.type,
            idempotency_key=call.idempotency_key,
            intent_at=call.intent_at,
            lifecycle=call.lifecycle,
            reporter=reporter,
        )
        _, kind = runtime.kind(call.type)
        token = providerlog.CURRENT.set(reporter)  # the provider's log lines of this call go to its resource
        try:
            outcome, result = OPERATIONS[call.step](kind, call, ctx, runtime.mission)
        finally:
            providerlog.CURRENT.reset(token)
        return Completion(call.address, outcome, result)
    except BaseException as exc:  # handed to the walk, which decides
        return Completion(call.address, error=exc)


Operation = Callable[[ResourceKind, Call, OperationContext, Mission], "tuple[Outcome, Result | None]"]


def create(kind: ResourceKind, call: Call, ctx: OperationContext, mission: Mission) -> tuple[Outcome, Result | None]:
    """Create the object, or adopt the one an earlier attempt made for the same key."""
    if call.recheck:
        issues = [i for i in kind.plan_check(call.spec, ctx) if i.severity == "error"]
        if issues:
            found = issue_diagnostics(issues, mission.document, ("resources", call.address, "spec"), call.type)
            raise PermanentError("; ".join(str(d) for d in found))
    if call.adopt_first:
        adopted = kind.adopt(call.spec, ctx)
        if adopted is not None:
            return Outcome.ADOPTED, adopted
    result = kind.create(call.spec, ctx)
    if call.recheck and result.cost is None:  # the plan's estimate lacked values known only now
        result.cost = estimate_now(kind, call, ctx)
    return Outcome.CREATED, result


def estimate_now(kind: ResourceKind, call: Call, ctx: OperationContext) -> Cost | None:
    """The kind's estimate on the resolved spec, recorded as spent (never fails the create)."""
    try:
        return kind.estimate_cost(call.spec, ctx)
    except Exception:  # an estimate is a figure to show, not a reason to fail paid work
        log.debug("estimate of %s at apply failed", call.address, exc_info=True)
        return None


def update(kind: ResourceKind, call: Call, ctx: OperationContext, mission: Mission) -> tuple[Outcome, Result | None]:
    """Change the live object in place."""
    assert call.record is not None  # updates are planned only for recorded resources
    return Outcome.UPDATED, kind.update(call.record, call.spec, list(call.changes), ctx)


def delete(kind: ResourceKind, call: Call, ctx: OperationContext, mission: Mission) -> tuple[Outcome, Result | None]:
    """Delete the object; kinds that cannot be deleted remotely are only dropped from state."""
    assert call.record is not None  # only recorded resources are deleted
    target = call.record
    # kinds whose objects go with their parent, or that the API cannot delete (the plan
    # only gets here with --forget), are dropped from state without a remote call
    remote_delete = kind.delete_mode == "delete"
    if remote_delete and target.remote_id is None and target.idempotency_key:
        # an interrupted create may have made the object: find it before forgetting
        found = kind.adopt(target.spec, ctx)
        if found is not None and found.remote_id:
            target = dataclasses.replace(target, remote_id=found.remote_id, private=found.private)
    if remote_delete and target.remote_id is not None:
        kind.delete(target, ctx)
    return (Outcome.DELETED_THEN_CREATE if call.then_create else Outcome.DELETED), None


def poll(kind: ResourceKind, call: Call, ctx: OperationContext, mission: Mission) -> tuple[Outcome, Result | None]:
    """One look at a running job."""
    assert call.record is not None  # polls follow a create, an update or a recorded running job
    return Outcome.POLLED, kind.poll(call.record, ctx)


def cancel(kind: ResourceKind, call: Call, ctx: OperationContext, mission: Mission) -> tuple[Outcome, Result | None]:
    """Stop a running job (its lifecycle.timeout passed)."""
    assert call.record is not None  # only a job that was submitted (and recorded) is cancelled
    kind.cancel(call.record, ctx)
    return Outcome.CANCELLED, None


OPERATIONS: dict[Step, Operation] = {
    Step.CREATE: create,
    Step.UPDATE: update,
    Step.DELETE: delete,
    Step.POLL: poll,
    Step.CANCEL: cancel,
}
