"""What the walk does with a provider call's answer: record it, wait, retry, or fail.

A result is folded into the record and written; a job still running waits for its next
poll; a transient error is retried with backoff (a create retried adopts first, because the
failed request may have reached the service); anything else fails the node at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .. import redact
from ..errors import RemoteError, SkyformError, TransientError
from ..events import EventKind
from ..plan.model import ActionKind
from ..providers.base import Result
from ..state.base import Removal, ResourceState
from .calls import Completion
from .failure import describe, fail
from .node import Node, NodeState, Outcome, Step, Wake
from .records import absorb, kept_lifecycle
from .retry import backoff
from .steps import create, wait
from .walk import Walk

log = logging.getLogger("skyform.apply")


def on_completion(walk: Walk, node: Node, done: Completion) -> None:
    """Act on the end of ``node``'s provider call."""
    if done.error is not None:
        return on_error(walk, node, done.error)
    outcome = done.outcome
    if outcome in (Outcome.CREATED, Outcome.ADOPTED, Outcome.UPDATED, Outcome.POLLED):
        assert outcome is not None
        return on_result(walk, node, outcome, done.result)
    if outcome in (Outcome.DELETED, Outcome.DELETED_THEN_CREATE):
        walk.journal.put(Removal(node.address))
        walk.journal.transition(node.address, node.action.type, "deleting", "deleted", {})
        if outcome == Outcome.DELETED_THEN_CREATE:  # the old object is gone: make the new one
            # what it was paid for goes to the mission's ledger with its record (state.spend)
            node.record = None
            return create(walk, node, spent=None)
        walk.outputs.pop(node.address, None)
        walk.finish(node, NodeState.DONE)
    elif outcome == Outcome.CANCELLED:
        fail(walk, node, node.error or "cancelled")


def on_result(walk: Walk, node: Node, outcome: Outcome, result: Result | None) -> None:
    """Record what a create, adoption, update or poll returned, then finish or wait."""
    rec = node.record
    assert rec is not None
    before = rec.status
    if result is None:
        return fail(walk, node, "the remote object disappeared while waiting for it")
    previous = rec.outputs
    kept = recorded_fields(rec) if outcome == Outcome.POLLED else None
    written_at = rec.updated_at
    detail = absorb(rec, outcome, result, node.spec, kept_lifecycle(walk.mission, node.address), node.action.cost)
    if kept is not None and recorded_fields(rec) == kept:
        # a poll that saw nothing recorded move (a job still queued, or only its progress
        # advanced): nothing to journal, and the record keeps its objects - so the next
        # poll reuses the provider's view of it (steps.provider_view) and no row is encoded again
        restore(rec, kept, written_at)
    else:
        walk.journal.put(rec)
    moved = moved_stable_outputs(walk, node, previous, rec.outputs) if outcome == Outcome.UPDATED else []
    if moved:
        # the plan showed dependents these values: carrying on with them would apply
        # something the plan did not show (state above already records the update)
        walk.outputs[node.address] = rec.outputs
        return fail(
            walk,
            node,
            f"the update changed output(s) {', '.join(moved)}, which {node.action.type} "
            "declares stable across updates (a provider bug); what uses them was planned "
            "with the old values and is not applied: run plan again",
            write=False,
        )
    if before != rec.status or outcome != Outcome.POLLED:
        walk.journal.transition(node.address, node.action.type, before, rec.status, detail)
    elif (result.progress is not None or result.message) and node.shown != (result.progress, result.message):
        # progress is shown when it moved, not once per poll (2,000 queued jobs said "queued
        # 0%" every few seconds each)
        node.shown = (result.progress, result.message)
        walk.emit(
            {
                "event": EventKind.PROGRESS,
                "address": node.address,
                "fraction": result.progress,
                "message": redact.redact(result.message or ""),
            }
        )
    node.poll_failures = 0
    if rec.status == "ready":
        walk.outputs[node.address] = rec.outputs
        walk.finish(node, NodeState.DONE)
    elif rec.status == "failed":
        fail(walk, node, result.message or "the remote job failed", write=False, announced=True)
    else:
        wait(walk, node, poll_after=result.poll_after)


#: What a poll may change in a record, all but ``updated_at`` (which it always touches).
Dict = dict[str, Any]
RecordedFields = tuple[str, str | None, str | None, float, Dict, Dict, Dict, Dict]


def recorded_fields(rec: ResourceState) -> RecordedFields:
    """The fields of ``rec`` a poll may move: when none did, the row is not written again."""
    return (rec.status, rec.remote_id, rec.error, rec.intent_at, rec.spec, rec.outputs, rec.observed, rec.private)


def restore(rec: ResourceState, kept: RecordedFields, updated_at: float) -> None:
    """Put back the objects ``rec`` held before an unchanged poll (equal values, same identity)
    and its ``updated_at``: the record stays exactly what the state holds."""
    rec.spec, rec.outputs, rec.observed, rec.private = kept[4], kept[5], kept[6], kept[7]
    rec.updated_at = updated_at


def moved_stable_outputs(walk: Walk, node: Node, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Outputs the plan kept across this update (``ResourceKind.kept_outputs``) that it changed."""
    _, kind = walk.runtime.kind(node.action.type)
    kept = kind.kept_outputs(before, node.action.changes + node.action.drift)
    return sorted(name for name, value in kept.items() if name in after and after[name] != value)


def on_error(walk: Walk, node: Node, exc: BaseException) -> None:
    """Retry a transient error within the resource's budget; fail the node on anything else."""
    if not isinstance(exc, Exception):
        raise exc
    retries = retries_of(walk, node)
    if isinstance(exc, TransientError):
        if node.step == Step.POLL:
            node.poll_failures += 1
            if node.poll_failures <= max(retries, 5):
                announce_retry(walk, node, exc, node.poll_failures)
                node.state = NodeState.WAITING
                walk.timer(backoff(node.poll_failures, exc.retry_after), node.address, Wake.POLL)
                return
            # the service kept failing the look, not the job: the record stays running, so the
            # next apply polls the same job again instead of replacing (resubmitting) paid work
            return fail(
                walk, node, describe(exc) + " (the job was not seen to fail: the next apply polls it again)", keep=True
            )
        elif node.attempts < retries:
            node.attempts += 1
            announce_retry(walk, node, exc, node.attempts)
            retry_step(walk, node, backoff(node.attempts, exc.retry_after))
            return
    if isinstance(exc, RemoteError) and exc.remote_id and node.record is not None and not node.record.remote_id:
        node.record.remote_id = exc.remote_id
    prefix = ""
    if isinstance(exc, RemoteError) and exc.field:
        # a service named the offending field: point at it in the mission file
        path = [int(p) if p.isdigit() else p for p in str(exc.field).split(".")]
        where = walk.mission.locate("resources", node.address, "spec", *path)
        if where is not None:
            prefix = f"{where}: resources.{node.address}.spec.{exc.field}: "
    if not isinstance(exc, SkyformError):
        # a provider bug, or an answer the provider did not expect: the resource fails
        # with a one-line message; the traceback goes to the debug log (-vv)
        log.debug("%s: %s failed", node.address, node.step, exc_info=exc)
        fail(
            walk,
            node,
            prefix + f"{node.action.type} failed unexpectedly: {type(exc).__name__}: "
            f"{redact.redact(str(exc))[:300]} (a provider bug or an unexpected answer from the "
            "service; -vv shows the traceback)",
        )
        return
    fail(walk, node, prefix + describe(exc))


def retry_step(walk: Walk, node: Node, delay: float) -> None:
    """Start the failed step again after ``delay`` (a cancel repeats only the cancel)."""
    step = node.step
    if step == Step.CANCEL:  # repeat the cancel itself; the job must not be submitted again
        node.state = NodeState.WAITING
        walk.timer(delay, node.address, Wake.CANCEL)
        return
    if step == Step.CREATE:
        node.action.adopt_first = True
        node.state = NodeState.RETRY
        walk.timer(delay, node.address, Wake.RETRY)
        node.action.action = (
            ActionKind.CREATE if node.action.action != ActionKind.REPLACE or node.record is None else ActionKind.REPLACE
        )
    else:
        node.state = NodeState.RETRY
        walk.timer(delay, node.address, Wake.RETRY)
    # "retry" timers put the node back to pending; its step starts again from the record
    if step == Step.DELETE and node.record is not None:
        node.record.status = "ready"


def retries_of(walk: Walk, node: Node) -> int:
    """How many times a transient failure of this resource is retried (lifecycle.retries)."""
    resource = walk.mission.resources.get(node.address)
    return resource.lifecycle.retries if resource else 3


def announce_retry(walk: Walk, node: Node, exc: TransientError, attempt: int) -> None:
    walk.emit(
        {
            "event": EventKind.RETRY,
            "address": node.address,
            "attempt": attempt,
            "retry_after": exc.retry_after,
            "message": redact.redact(str(exc)),
        }
    )
