"""An approval's binding to one plan: the plan's digest, recording it, and checking it at apply.

:func:`plan_digest` is a sha256 of the plan as saved (its canonical JSON, made-at time
included), so a re-plan - even one with the same actions - is another plan and needs its
own approval, as Terraform's saved plans do. :func:`authorize` is what ``apply PLANFILE``
calls under the mission's lock before anything is sent: each refusal names what changed.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import PlanRefused
from ..plan.irreversible import irreversible
from ..plan.model import Plan
from ..state.base import Approval, StateStore

#: what an estimate may differ by, again, before it counts as a new price (float sums)
CENT = 0.005


def plan_digest(plan: Plan) -> str:
    """``sha256:<hex>`` of the plan's canonical JSON: the same for a plan and its saved file."""
    text = json.dumps(plan.to_json(), sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def default_approver() -> str:
    """Who approves when ``--as`` is not given: the login name."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def state_serial(store: StateStore, mission: str) -> tuple[int, str]:
    """The state's serial and lineage for ``mission`` (0 and "" before its first write)."""
    state = store.mission(mission)
    return (state.serial, state.lineage) if state else (0, "")


def record(
    store: StateStore,
    plan: Plan,
    *,
    approver: str,
    expires_in: float,
    max_cost: float | None,
    now: float | None = None,
) -> Approval:
    """Record an approval of ``plan``; PlanRefused when the plan is already stale."""
    now = time.time() if now is None else now
    serial, lineage = state_serial(store, plan.mission)
    if serial != plan.serial or (plan.lineage and lineage != plan.lineage):
        raise PlanRefused(
            f"the plan is stale: it was made against state serial {plan.serial}, the state is now at serial {serial}; "
            "nothing was approved",
            hint="make it again with `skyform plan -o FILE` and approve that",
        )
    approval = Approval(
        id=uuid.uuid4().hex[:12],
        mission=plan.mission,
        plan_digest=plan_digest(plan),
        lineage=plan.lineage,
        serial=plan.serial,
        approver=approver,
        cost=dict(plan.cost().totals),
        max_cost=max_cost,
        irreversible=tuple(m.address for m in irreversible(plan.actions)),
        created_at=now,
        expires_at=now + expires_in,
    )
    store.add_approval(approval)
    return approval


def when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def problems(
    approval: Approval,
    plan: Plan,
    serial: int,
    lineage: str,
    now: float,
    fresh: Mapping[str, float] | None = None,
) -> list[str]:
    """Why ``approval`` cannot let ``plan`` through now (empty: it can).

    ``fresh`` is the plan's total computed again at apply, with today's prices: the cap
    holds against it as well as against the estimate that was approved.
    """
    out = []
    if approval.revoked_at is not None:
        out.append(f"it was revoked by {approval.revoked_by or 'unknown'} at {when(approval.revoked_at)}")
    if approval.used_at is not None:
        out.append(f"it was already used by an apply at {when(approval.used_at)} (an approval is usable once)")
    if approval.expires_at <= now:
        out.append(f"it expired at {when(approval.expires_at)}")
    if approval.serial != serial or (approval.lineage and approval.lineage != lineage):
        out.append(f"the state changed since: approved at serial {approval.serial}, the state is now at {serial}")
    if approval.max_cost is not None:
        over = {c: t for c, t in plan.cost().totals.items() if t > approval.max_cost}
        out += [
            f"the plan's estimated total {t:,.2f} {c} is above the approved cap {approval.max_cost:,.2f}"
            for c, t in over.items()
        ]
        fresh_over = {c: t for c, t in (fresh or {}).items() if t > approval.max_cost and c not in over}
        out += [
            f"the plan's total estimated again now, {t:,.2f} {c}, is above the approved cap "
            f"{approval.max_cost:,.2f} (the prices changed since the plan was made)"
            for c, t in fresh_over.items()
        ]
    risen = {c: t for c, t in (fresh or {}).items() if t > approval.cost.get(c, 0.0) + CENT}
    if risen and not out:
        out += [
            f"the plan's total estimated again now, {t:,.2f} {c}, is above the {approval.cost.get(c, 0.0):,.2f} "
            "that was approved (the prices changed since the plan was made)"
            for c, t in risen.items()
        ]
    return out


def authorize(
    store: StateStore,
    plan: Plan,
    *,
    now: float | None = None,
    fresh_cost: Callable[[], Mapping[str, float]] | None = None,
) -> list[Approval]:
    """The usable approvals of exactly ``plan`` (none when it has none); PlanRefused when it
    has approvals and none can be used, naming what voided each.

    ``fresh_cost`` estimates the plan again with today's prices; it is called only when the
    plan has approvals to hold it against (their cap, and the cost they approved).
    """
    now = time.time() if now is None else now
    digest = plan_digest(plan)
    serial, lineage = state_serial(store, plan.mission)
    mine = [a for a in store.approvals(plan.mission) if a.plan_digest == digest]
    fresh = fresh_cost() if fresh_cost is not None and mine else None
    found = {a.id: problems(a, plan, serial, lineage, now, fresh) for a in mine}
    usable = [a for a in mine if not found[a.id]]
    if mine and not usable:
        reasons = "; ".join(f"approval {a.id} by {a.approver}: " + ", ".join(found[a.id]) for a in mine)
        raise PlanRefused(
            f"the approval of this plan cannot be used: {reasons}; nothing was sent",
            hint="make the plan again (`skyform plan -o FILE`) and have it approved (`skyform approve FILE`)",
        )
    return usable


def missing(store: StateStore, plan: Plan) -> str:
    """What the refusal of an unapproved plan says about the mission's other approvals."""
    digest = plan_digest(plan)
    others = [
        a
        for a in store.approvals(plan.mission)
        if a.plan_digest != digest and a.used_at is None and a.revoked_at is None
    ]
    if not others:
        return "no approval of this plan exists"
    latest = others[-1]
    return (
        f"no approval of this plan exists; approval {latest.id} by {latest.approver} ({when(latest.created_at)}) "
        "is of another plan of this mission: the plan was made again since"
    )


def use(store: StateStore, approvals: Sequence[Approval], *, now: float | None = None) -> None:
    """Mark ``approvals`` used; PlanRefused when another apply used one first (a race)."""
    now = time.time() if now is None else now
    for approval in approvals:
        if not store.use_approval(approval.id, now):
            raise PlanRefused(
                f"approval {approval.id} by {approval.approver} was used by another apply (or revoked) a moment "
                "ago (an approval is usable once); nothing was sent"
            )


def summary(approval: Approval) -> dict[str, Any]:
    """The approval as ``approve --json`` and the plan's ``approval`` field show it."""
    return {
        "id": approval.id,
        "approver": approval.approver,
        "plan_digest": approval.plan_digest,
        "serial": approval.serial,
        "cost": approval.cost,
        "max_cost": approval.max_cost,
        "irreversible": list(approval.irreversible),
        "created_at": approval.created_at,
        "expires_at": approval.expires_at,
        "used_at": approval.used_at,
        "revoked_at": approval.revoked_at,
        "revoked_by": approval.revoked_by,
    }
