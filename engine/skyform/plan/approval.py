"""What a plan needs approved before apply, and the digest an approval of its changes names.

A plan needs an approval when it has an irreversible action (``--ack-irreversible`` may
stand in for it, outside gitops) or when the mission's ``policy:`` says so: its total or
one action above the policy's limit, or more approvers for irreversible actions; what a
policy asks for only approvals can give (:func:`refuse_unapproved`). The plan's JSON
carries the answer as ``approval`` and the text plan says it under the total.

:func:`change_digest` is a sha256 of what the plan would do - the mission, the state serial
it was made against, the spec digest, the actions - without the moment it was made, so the
plan gitops makes in CI matches the one a reviewer approved in the pull request as long as
nothing changed; a saved plan's own approval (``skyform approve``) binds to the whole file
instead (:func:`skyform.approvals.binding.plan_digest`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from ..errors import PlanRefused
from .budget import SPENDING

#: the parts of a plan's JSON an approval of its changes covers
COVERED = ("mission", "spec_digest", "lineage", "serial", "mode", "targets", "excludes", "actions")
ACK_FLAG = "--ack-irreversible"


def change_digest(plan_json: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of what the plan does, from its JSON (without when it was made)."""
    covered = {k: plan_json.get(k) for k in COVERED}
    text = json.dumps(covered, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def policy_findings(plan_json: Mapping[str, Any]) -> list[str]:
    """Where the plan goes past the limits of its ``policy`` (each needs an approval)."""
    policy = plan_json.get("policy") or {}
    currency = policy.get("currency")
    found = []
    if policy.get("max_total") is not None:
        total = float(((plan_json.get("cost") or {}).get("total") or {}).get(currency, 0.0))
        if total > policy["max_total"]:
            found.append(
                f"policy.max_total: the estimated total {total:,.2f} {currency} is above {policy['max_total']:,.2f}"
            )
    if policy.get("max_per_action") is not None:
        for a in plan_json.get("actions", []):
            cost = a.get("cost")
            over = cost and cost.get("currency") == currency and cost["amount"] > policy["max_per_action"]
            if a.get("action") in SPENDING and over:
                found.append(
                    f"policy.max_per_action: {a['address']} {cost['amount']:,.2f} {currency} "
                    f"is above {policy['max_per_action']:,.2f}"
                )
    return found


def requirement(plan_json: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's ``approval`` field: whether apply needs one, why, from how many, the digest.

    ``ack`` says whether ``--ack-irreversible`` may stand in: only for irreversible actions
    no policy speaks about.
    """
    policy = plan_json.get("policy") or {}
    final = [m for m in plan_json.get("irreversible", []) if m.get("class") == "irreversible"]
    by_policy = policy_findings(plan_json)
    why = [f"irreversible: {m['address']} ({m['action']})" for m in final] + by_policy
    approvers = 1 if why else 0
    if final and policy.get("irreversible_approvals"):
        approvers = max(approvers, int(policy["irreversible_approvals"]))
    ack = bool(final) and not by_policy and not policy.get("irreversible_approvals")
    return {"needed": bool(why), "why": why, "approvers": approvers, "ack": ack, "digest": change_digest(plan_json)}


def lines(need: Mapping[str, Any], policy: Mapping[str, Any] | None, *, sandbox: bool) -> list[str]:
    """The text plan's lines on its policy and the approval it needs."""
    out = []
    if policy:
        rules = [f"{k} {v:,.2f} {policy.get('currency', '')}" for k, v in policy.items() if k.startswith("max_")]
        if policy.get("irreversible_approvals"):
            rules.append(f"{policy['irreversible_approvals']} approvers for irreversible actions")
        out.append(f"Policy: {', '.join(rules) or 'no rules'}.")
    if not need.get("needed"):
        return out
    why = "; ".join(need["why"])
    asks = (
        f"{ACK_FLAG} or an approval of this plan (skyform approve PLANFILE)"
        if need.get("ack")
        else f"{need['approvers']} approval(s) of this plan (skyform plan -o FILE, skyform approve FILE)"
    )
    if sandbox:
        out.append(f"Approval: ({why}) --sandbox: nothing is billed; against the real services apply needs {asks}.")
    else:
        out.append(f"Approval needed: {why}; apply needs {asks}.")
    return out


def refuse_unapproved(need: Mapping[str, Any], *, approvers: Collection[str], sandbox: bool, detail: str = "") -> None:
    """PlanRefused (exit 7) when the policy asks for more approvers than the plan has; before
    any request. (What ``--ack-irreversible`` may stand in for is
    :func:`skyform.plan.irreversible.refuse_unacknowledged`.)"""
    if not need.get("needed") or sandbox or len(set(approvers)) >= int(need.get("approvers") or 1):
        return
    note = f" ({detail})" if detail else ""
    have = len(set(approvers))
    raise PlanRefused(
        f"the mission's policy needs {need['approvers']} approval(s) of this plan and it has {have}{note}; "
        "nothing was sent: " + "; ".join(need["why"]),
        hint="save it (`skyform plan -o FILE`), have it approved (`skyform approve FILE --as NAME`, by distinct "
        f"people), then `skyform apply FILE`; {ACK_FLAG} cannot stand in for a policy",
    )
