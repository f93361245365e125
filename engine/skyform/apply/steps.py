"""One step per action kind: how a node starts, and how it waits for a remote job.

Each function starts one planned action on one node: it resolves the spec against the
outputs recorded so far, writes the intent to the journal and hands the provider call to
the walk (which sends it once the intent is durable). The answers come back through
:mod:`.outcomes`.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from ..errors import Diagnostic, PermanentError, SkyformError, SpecError
from ..plan.model import ActionKind
from ..providers.base import CheckContext, Record
from ..spec.values import is_known
from ..state.base import Removal
from ..state.records import LIFECYCLE_KEY, to_record
from ..state.spend import SPENT_KEY
from ..validate.checks import issue_diagnostics, kind_validator, schema_diagnostics
from ..validate.scope import Scope
from .calls import Call
from .failure import describe, fail
from .node import Node, NodeState, Step, Wake
from .records import intent, kept_lifecycle, new_key
from .walk import Walk

#: The shortest poll interval against the sandbox, whose clock runs faster than real time.
MIN_SANDBOX_POLL = 0.05


def start(walk: Walk, node: Node) -> None:
    """Start the planned action of ``node``."""
    a = node.action
    node.started = time.monotonic()
    if a.blocked:
        return fail(walk, node, a.blocked)
    if a.action == ActionKind.NOOP:
        return noop(walk, node)
    if a.action in (ActionKind.DELETE, ActionKind.FORGET):
        return delete(walk, node)
    if a.action == ActionKind.RESUME:
        return resume(walk, node)
    if a.action == ActionKind.REPLACE and node.record is not None and node.record.remote_id:
        return replace(walk, node)
    if a.action in (ActionKind.CREATE, ActionKind.REPLACE):
        return create(walk, node)
    if a.action == ActionKind.UPDATE:
        return update(walk, node)


def noop(walk: Walk, node: Node) -> None:
    """Nothing remote; a state-only change (the kept lifecycle options) is written."""
    if node.action.state_only and node.record is not None:
        node.record.private = {**node.record.private, LIFECYCLE_KEY: kept_lifecycle(walk.mission, node.address)}
        walk.journal.put(node.record)
    walk.finish(node, NodeState.DONE)


def create(walk: Walk, node: Node, spent: Any = None) -> None:
    """Write the create intent, then create (adopting first where a create may have run).

    ``spent``: what the object it replaces cost, kept on the new record (``state.spend``).
    """
    a = node.action
    try:
        node.spec = resolve(walk, node)
    except SkyformError as exc:
        return fail(walk, node, describe(exc))
    rec = node.record
    resume_intent = rec is not None and (rec.status == "creating" or a.adopt_first) and rec.remote_id is None
    key = rec.idempotency_key if resume_intent and rec else new_key()
    intent_at = rec.intent_at if resume_intent and rec else time.time()
    if spent is None and rec is not None:
        spent = rec.private.get(SPENT_KEY)
    node.record = intent(walk.mission, a, status="creating", key=key, intent_at=intent_at, spec=node.spec, spent=spent)
    walk.journal.put(node.record)
    walk.journal.transition(a.address, a.type, rec.status if rec else None, "creating", {"idempotency_key": key})
    walk.submit(
        node,
        call(
            walk,
            node,
            Step.CREATE,
            spec=node.spec,
            adopt_first=resume_intent or node.attempts > 0,
            recheck=node.recheck,
        ),
    )


def update(walk: Walk, node: Node) -> None:
    """Change the live object in place."""
    try:
        node.spec = resolve(walk, node)
    except SkyformError as exc:
        return fail(walk, node, describe(exc))
    assert node.record is not None  # updates are planned only for recorded resources
    changes = tuple(node.action.changes + node.action.drift)
    record = to_record(node.record)
    walk.journal.transition(node.address, node.action.type, "ready", "updating", {})
    walk.submit(node, call(walk, node, Step.UPDATE, record=record, spec=node.spec, changes=changes))


def replace(walk: Walk, node: Node) -> None:
    """Delete the recorded object, then create the new one (:func:`.outcomes.on_result`)."""
    delete(walk, node, then_create=True)


def delete(walk: Walk, node: Node, then_create: bool = False) -> None:
    """Delete the recorded object (``forget``: drop it from state without a remote call)."""
    rec = node.record
    if rec is None:
        return walk.finish(node, NodeState.DONE)
    if node.action.action == ActionKind.FORGET:
        walk.journal.put(Removal(rec.address))
        walk.journal.transition(node.address, node.action.type, rec.status, "forgotten", {})
        return walk.finish(node, NodeState.DONE)
    rec.status = "deleting"
    rec.updated_at = time.time()
    walk.journal.put(rec)
    walk.journal.transition(node.address, node.action.type, "ready", "deleting", {})
    # the recorded object is deleted through its own kind and provider (a replace may change the type)
    walk.submit(node, call(walk, node, Step.DELETE, type=rec.type, record=to_record(rec), then_create=then_create))


def resume(walk: Walk, node: Node) -> None:
    """The remote job is still running: poll it at once, then wait for it."""
    node.spec = to_record(node.record).spec if node.record else None
    wait(walk, node, immediately=True)


def wait(walk: Walk, node: Node, immediately: bool = False, poll_after: float | None = None) -> None:
    """Wait for a running job with a timer (never a sleeping thread); back off up to the kind's cap."""
    _, kind = walk.runtime.kind(node.action.type)
    resource = walk.mission.resources.get(node.address)
    if node.deadline is None and resource is not None and resource.lifecycle.timeout:
        since = node.record.intent_at if node.record else time.time()
        # lifecycle.timeout is service time: against the sandbox's accelerated clock a 6h
        # timeout passes in 6 s (at 3600x), as the jobs it limits do (docs/sandbox.md)
        limit = resource.lifecycle.timeout * walk.time_scale
        node.deadline = time.monotonic() + max(0.0, limit - (time.time() - since))
    if walk.detach:
        return walk.finish(node, NodeState.DETACHED)
    node.state = NodeState.WAITING
    if not node.interval:
        node.interval = kind.poll_interval
    delay = 0.0 if immediately else (poll_after if poll_after is not None else node.interval)
    if walk.time_scale != 1.0 and delay:
        delay = max(delay * walk.time_scale, MIN_SANDBOX_POLL)
    if node.deadline is not None:
        delay = min(delay, max(0.0, node.deadline - time.monotonic()))
    walk.timer(delay, node.address, Wake.POLL)
    if poll_after is None and not immediately:
        node.interval = min(node.interval * 1.5, kind.max_poll_interval)


def poll(walk: Walk, node: Node, now: float) -> None:
    """A poll timer fired at ``now``: one look at the job, or its cancel once past its deadline."""
    if node.deadline is not None and now >= node.deadline and node.polled:
        return cancel_for_timeout(walk, node)  # only once a poll has seen it still running
    node.polled = True
    assert node.record is not None  # polls follow a create, an update or a recorded running job
    node.state = NodeState.INFLIGHT
    walk.submit(node, call(walk, node, Step.POLL, record=provider_view(node)))


def provider_view(node: Node) -> Record:
    """The provider's view of ``node``'s record, made again only when the record moved.

    ``to_record`` copies the spec; a job polled every few seconds for hours would copy it
    on every poll although an unchanged poll keeps the record's very objects
    (:func:`.outcomes.restore`): the view is reused while they are the same objects.
    """
    rec = node.record
    assert rec is not None  # polls follow a create, an update or a recorded running job
    objects = (rec, rec.spec, rec.outputs, rec.observed, rec.private)
    scalars = (rec.status, rec.remote_id, rec.error, rec.intent_at, rec.idempotency_key)
    if node.view is not None:
        (seen_objects, seen_scalars), view = node.view
        if seen_scalars == scalars and all(a is b for a, b in zip(seen_objects, objects, strict=True)):
            return view
    view = to_record(rec)
    node.view = ((objects, scalars), view)
    return view


def cancel_for_timeout(walk: Walk, node: Node) -> None:
    """Cancel a job that ran past its ``lifecycle.timeout``; the node then fails."""
    assert node.record is not None  # only a job that was submitted (and recorded) times out
    resource = walk.mission.resources.get(node.address)
    limit = resource.lifecycle.timeout if resource else None
    node.error = f"timed out after {duration(limit or 0)}; the remote job was cancelled"
    walk.submit(node, call(walk, node, Step.CANCEL, record=to_record(node.record)))


def call(walk: Walk, node: Node, step: Step, **data: Any) -> Call:
    """The provider call of ``step`` for ``node``, stamped with its record's key and intent time."""
    rec = node.record
    resource = walk.mission.resources.get(node.address)
    data.setdefault("type", node.action.type)
    return Call(
        address=node.address,
        step=step,
        idempotency_key=rec.idempotency_key if rec else "",
        intent_at=rec.intent_at if rec else time.time(),
        lifecycle=resource.lifecycle.as_dict() if resource else {},
        **data,
    )


def resolve(walk: Walk, node: Node) -> Any:
    """The node's spec resolved against the outputs recorded so far, checked again if needed."""
    mission = walk.mission
    resource = mission.resources[node.address]
    problems: list[Diagnostic] = []
    scope = Scope(mission, walk.runtime.secrets, walk.outputs, require_secrets=True, registry=walk.runtime.registry)
    spec = scope.resolve_at(resource.spec, ("resources", resource.id, "spec"), problems, resource.type)
    if problems:
        raise SpecError(problems)
    if not is_known(spec):
        raise PermanentError(f"{resource.id}: a value is still unknown after its dependencies were applied")
    if node.recheck:
        _, kind = walk.runtime.kind(resource.type)
        base = ("resources", resource.id, "spec")
        found = schema_diagnostics(kind_validator(kind), spec, mission.document, base, resource.type)
        found += issue_diagnostics(
            kind.check(spec, CheckContext(date.today(), mission.directory, resource.id)),
            mission.document,
            base,
            resource.type,
        )
        if [d for d in found if d.severity == "error"]:
            raise SpecError(found, message=f"{resource.id}: resolved values are invalid")
    return spec


def duration(seconds: float) -> str:
    """``5400`` → ``1h30m``."""
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s or not (h or m) else "")
