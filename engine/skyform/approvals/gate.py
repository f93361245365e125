"""The one gate every apply passes: budget, irreversible actions, approvals and policy.

The CLI, gitops (its own runs, its pruning and its workers) and the Python API all let a
plan through here, :func:`admit`, called by :meth:`skyform.api.Session.admit` under the
mission's lock before any request; nothing that costs money or cannot be undone starts
without it. It fails closed: a caller that says nothing (``acknowledged=False``, no
approval) gets an irreversible plan refused, exit 7, the same message ``skyform apply``
prints.

What may let a plan through is said explicitly by the caller:

- ``acknowledged=True``: the operator's ``--ack-irreversible`` (stands in for one approval
  of irreversible actions, never for what a policy asks);
- :class:`StoredApprovals`: the approvals ``skyform approve`` recorded for exactly this
  saved plan in the state database (checked and used once here,
  :func:`skyform.approvals.binding.authorize`);
- :class:`CommittedApproval`: a GitOps ``approvals/<mission>.json`` in the checkout of the
  commit applied (:func:`skyform.approvals.gitops_file.missing`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PlanRefused
from ..plan.approval import refuse_unapproved
from ..plan.budget import refuse_over_budget
from ..plan.irreversible import refuse_unacknowledged

if TYPE_CHECKING:
    from ..plan.model import Plan
    from ..state.base import Approval, StateStore


@dataclass(frozen=True)
class StoredApprovals:
    """Offer the approvals ``skyform approve`` recorded for exactly this saved plan."""


@dataclass(frozen=True)
class CommittedApproval:
    """Offer the GitOps approval file in ``root``, the checkout of the commit applied.

    ``root`` None is a worker (``--executor``), which has only the mission's directory: a
    plan that needs an approval fails closed there.
    """

    root: Path | None


ApprovalSource = StoredApprovals | CommittedApproval


@dataclass(frozen=True)
class Admission:
    """A plan the gate let through, and the stored approvals it used (marked used already)."""

    plan: Plan
    approvals: tuple[Approval, ...] = ()


def admit(
    plan: Plan,
    store: StateStore | None,
    *,
    acknowledged: bool = False,
    approval: ApprovalSource | None = None,
    sandbox: bool = False,
    fresh_cost: Callable[[], Mapping[str, float]] | None = None,
    now: float | None = None,
) -> Admission:
    """Let ``plan`` through or raise PlanRefused (exit 7) naming why; nothing was sent then.

    Checks, in order: the mission's budget (before anything else: there is nothing to
    approve), then what the plan needs approved (:meth:`Plan.approval`) against the ack and
    the approval offered. ``fresh_cost`` computes the plan's estimated total with today's
    prices; an approval's ``--max-cost`` is checked against it as well as against the
    plan's own estimate. Stored approvals that let the plan through are marked used before
    returning: usable once, even if the apply then fails.
    """
    refuse_over_budget(plan.budget)
    need = plan.approval()
    if isinstance(approval, CommittedApproval):
        _committed(plan, approval.root, need, sandbox=sandbox)
        return Admission(plan)
    used: list[Approval] = []
    detail = ""
    if isinstance(approval, StoredApprovals) and store is not None:
        from .binding import authorize, missing

        used = authorize(store, plan, now=now, fresh_cost=fresh_cost)
        if need["needed"] and not used:  # say what the mission's approvals lack
            detail = missing(store, plan)
    approvers = {a.approver for a in used}
    if need["ack"]:  # irreversible actions only: the operator's ack or one approval will do
        refuse_unacknowledged(
            plan.actions, acknowledged=acknowledged or bool(approvers), sandbox=sandbox, detail=detail
        )
    else:  # the policy's approvals, which no flag stands in for
        refuse_unapproved(need, approvers=approvers, sandbox=sandbox, detail=detail)
    if used and store is not None:
        from .binding import use

        use(store, used, now=now)  # before the first request: usable once
    return Admission(plan, tuple(used))


def _committed(plan: Plan, root: Path | None, need: Mapping[str, object], *, sandbox: bool) -> None:
    """A GitOps approval file: the plan passes when it needs none or the file matches it."""
    if sandbox or not need.get("needed"):
        return
    from .gitops_file import missing

    why = missing(root, plan.to_json())
    if why is not None:
        raise PlanRefused(
            f"mission {plan.mission!r} needs an approval: {why}; nothing was sent",
            hint="commit the approval with the change (`skyform gitops approve`), then run again",
        )
