"""How a node fails or is skipped: what its record keeps, what the output is told.

A failed update keeps the object ready with its old applied spec (the next plan proposes
the update again instead of replacing a healthy object); a failed delete leaves the object
recorded as it was; any other failure records the resource as failed. Every message is
redacted before it is stored or shown.
"""

from __future__ import annotations

import time

from .. import redact
from ..errors import SpecError
from ..events import EventKind
from ..plan.model import ActionKind
from .node import Node, NodeState, Step
from .walk import Walk


def fail(walk: Walk, node: Node, message: str, write: bool = True, announced: bool = False, keep: bool = False) -> None:
    """Fail ``node`` with ``message``; ``write``: record it; ``announced``: already shown;
    ``keep``: the remote object was not seen to fail (its polls did): its status stays."""
    message = redact.redact(message)
    node.error = message
    rec = node.record
    if write and rec is not None and keep:
        rec.error = message
        rec.updated_at = time.time()
        walk.journal.put(rec)
        walk.journal.transition(node.address, node.action.type, rec.status, "failed", {"error": message})
    elif write and rec is not None and node.step == Step.UPDATE:
        # the object itself is fine: keep it ready with its old applied spec, so the next
        # plan proposes the update again instead of replacing a healthy object
        rec.status = "ready"
        rec.error = message
        rec.updated_at = time.time()
        walk.journal.put(rec)
        walk.journal.transition(node.address, node.action.type, "updating", "failed", {"error": message})
    elif write and rec is not None and node.action.action not in (ActionKind.DELETE, ActionKind.FORGET):
        before = rec.status
        rec.status = "failed"
        rec.error = message
        rec.updated_at = time.time()
        walk.journal.put(rec)
        walk.journal.transition(node.address, node.action.type, before, "failed", {"error": message})
    elif write and rec is not None:
        rec.status = "ready" if rec.status == "deleting" else rec.status
        walk.journal.put(rec)
        walk.emit(
            {
                "event": EventKind.TRANSITION,
                "address": node.address,
                "before": "deleting",
                "after": "failed",
                "error": message,
            }
        )
    elif not announced:
        walk.emit(
            {
                "event": EventKind.TRANSITION,
                "address": node.address,
                "before": None,
                "after": "failed",
                "error": message,
            }
        )
    walk.finish(node, NodeState.FAILED)
    if walk.fail_fast:
        walk.interrupted = True


def skip(walk: Walk, node: Node, why: str) -> None:
    """Skip ``node``: a dependency did not finish."""
    node.error = why
    walk.emit({"event": EventKind.SKIPPED, "address": node.address, "reason": why})
    walk.finish(node, NodeState.SKIPPED)


def describe(exc: BaseException) -> str:
    """The one-line, redacted message of an error that fails a node."""
    if isinstance(exc, SpecError):
        return "; ".join(str(d) for d in exc.diagnostics)
    text = str(exc) if str(exc) else type(exc).__name__
    hint = getattr(exc, "hint", None)
    return redact.redact(text + (f" ({hint})" if hint else ""))
