"""What apply writes into a resource's record: the intent, a call's result, the lifecycle.

The create intent (status ``creating`` with its idempotency key) is written before the
create request leaves; a result is folded into the record when the call returns. Outputs
and observed values are sealed (secrets become digests) before they are kept.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from typing import Any

from .. import redact
from ..plan.model import Action
from ..providers.base import Result
from ..providers.cost import Cost
from ..spec.mission import Mission
from ..spec.values import sealed, to_storable
from ..state import spend
from ..state.base import ResourceState
from ..state.records import LIFECYCLE_KEY
from .node import Outcome

# Idempotency keys must be unique, not secret: one seed from the OS per process, then a
# fast generator (os.urandom per key is measurably slow on some virtual machines).
_KEYS = random.Random(os.urandom(32))


def new_key() -> str:
    """A random UUID4 string for an idempotency key."""
    return str(uuid.UUID(int=_KEYS.getrandbits(128), version=4))


def kept_lifecycle(mission: Mission, address: str) -> dict[str, Any]:
    """The lifecycle options the state keeps (they decide on deletes after the spec is gone)."""
    resource = mission.resources.get(address)
    return {"prevent_destroy": bool(resource and resource.lifecycle.prevent_destroy)}


def intent(
    mission: Mission,
    action: Action,
    *,
    status: str,
    key: str,
    intent_at: float,
    spec: Any,
    spent: Any = None,
) -> ResourceState:
    """A fresh record for ``action`` (the create intent: no remote id, no outputs yet).

    ``spent``: the spend entries of the record it follows (a replaced object was paid for).
    """
    now = time.time()
    private: dict[str, Any] = {LIFECYCLE_KEY: kept_lifecycle(mission, action.address)}
    if spent:
        private[spend.SPENT_KEY] = spent
    return ResourceState(
        address=action.address,
        type=action.type,
        status=status,
        idempotency_key=key,
        intent_at=intent_at,
        remote_id=None,
        spec=to_storable(spec),
        outputs={},
        observed={},
        private=private,
        depends_on=list(action.depends_on),
        created_at=now,
        updated_at=now,
    )


def absorb(
    rec: ResourceState,
    outcome: Outcome,
    result: Result,
    spec: Any,
    lifecycle: dict[str, Any],
    estimate: Cost | None = None,
) -> dict[str, Any]:
    """Fold a call's ``result`` into ``rec``; return the detail of the transition to show.

    ``estimate`` is the plan's for this action: what the record counts as spent when the
    service reports no figure of its own (:mod:`skyform.state.spend`).
    """
    rec.remote_id = result.remote_id or rec.remote_id
    # a create or update just sent the spec, whose secrets this run knows: they seal what
    # comes back, and a field the spec no longer fills from a secret is plain again; a poll
    # may answer for an earlier run (a secret rotated since), so it goes by the record
    applied = to_storable(spec) if outcome in (Outcome.CREATED, Outcome.ADOPTED, Outcome.UPDATED) else None
    if result.outputs or outcome != Outcome.POLLED:
        rec.outputs = (
            sealed(result.outputs, like=None if applied is not None else rec.outputs) if result.outputs else rec.outputs
        )
    if result.observed is not None:
        rec.observed = sealed(result.observed, like=applied if isinstance(applied, dict) else rec.observed)
    rec.private = {**rec.private, **result.private, LIFECYCLE_KEY: lifecycle}
    new_run = outcome in (Outcome.CREATED, Outcome.ADOPTED, Outcome.UPDATED)
    runs = spend.recorded(rec.private, new_run=new_run, estimate=estimate, reported=result.cost)
    if runs:
        rec.private[spend.SPENT_KEY] = runs
    if (outcome == Outcome.CREATED and rec.status != "ready") or (
        outcome == Outcome.UPDATED and result.status == "running"
    ):
        # a job's clock (lifecycle.timeout) starts when it is submitted, or submitted again
        # by an update (a restart), not at an old intent
        rec.intent_at = time.time()
    if outcome in (Outcome.CREATED, Outcome.ADOPTED, Outcome.UPDATED):
        rec.spec = to_storable(spec)
    rec.status = "running" if result.status == "running" else ("failed" if result.status == "failed" else "ready")
    rec.error = result.message if result.status == "failed" else None
    rec.updated_at = time.time()
    detail: dict[str, Any] = {"outcome": str(outcome)}
    if rec.remote_id:
        detail["remote_id"] = rec.remote_id
    if result.cost:
        detail["cost"] = str(result.cost)
    if result.progress is not None:
        detail["progress"] = result.progress
    if result.message and result.status != "failed":
        detail["message"] = redact.redact(result.message)
    if rec.status == "failed":
        detail["error"] = redact.redact(result.message or "the remote job failed")
    return detail
