"""A mission's approval policy: ``policy:`` says when a plan needs people to approve it.

Where ``budget`` is a ceiling (above it nothing starts), a policy is a gate: a plan above
``max_total`` or with an action above ``max_per_action`` (estimates in ``currency``) needs
an approval, and a plan with irreversible actions needs ``irreversible_approvals`` of them,
from distinct approvers (Spacelift's approval policies, Atlantis's apply requirements).
Once a policy asks for approvals, ``--ack-irreversible`` cannot stand in for them: only
``skyform approve`` (or a GitOps approval file) can. Kept apart from :mod:`.mission` since
the saved plan carries it and the plan must not import the loader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_AMOUNT = {"type": "number", "minimum": 0, "maximum": 1e15}

#: the envelope schema of the ``policy`` key (spec/envelope.py), kept with what reads it
POLICY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "When a plan needs an approval (skyform approve, approvals/<mission>.json) before apply.",
    "properties": {
        "max_total": {
            **_AMOUNT,
            "description": "A plan whose estimated total in `currency` is above this needs an approval.",
        },
        "max_per_action": {
            **_AMOUNT,
            "description": "A plan with one action estimated above this (in `currency`) needs an approval.",
        },
        "currency": {
            "type": "string",
            "minLength": 1,
            "maxLength": 16,
            "pattern": r"^\S+$",
            "description": "The currency of max_total and max_per_action, as the providers name it.",
        },
        "irreversible_approvals": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10,
            "description": "How many distinct approvers a plan with irreversible actions needs.",
        },
    },
    "dependentRequired": {"max_total": ["currency"], "max_per_action": ["currency"]},
}


@dataclass(frozen=True)
class MissionPolicy:
    """The rules of ``policy:`` (None where unset)."""

    max_total: float | None = None
    max_per_action: float | None = None
    currency: str | None = None
    irreversible_approvals: int | None = None

    @classmethod
    def from_spec(cls, data: Any) -> MissionPolicy | None:
        """The policy of an envelope-valid ``policy`` mapping (None when absent)."""
        return cls.from_json(data) if isinstance(data, dict) else None

    def stricter(self, other: MissionPolicy | None) -> MissionPolicy:
        """Both policies at once (a repository's and a mission's): the lower limit, the more approvers."""
        if other is None:
            return self
        approvers = max(self.irreversible_approvals or 0, other.irreversible_approvals or 0) or None
        if self.currency and other.currency and self.currency != other.currency:
            # amounts in two currencies cannot be compared: this one's limits stand
            return MissionPolicy(self.max_total, self.max_per_action, self.currency, approvers)
        return MissionPolicy(
            _least(self.max_total, other.max_total),
            _least(self.max_per_action, other.max_per_action),
            self.currency or other.currency,
            approvers,
        )

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: Any) -> MissionPolicy | None:
        if data is None:
            return None
        return cls(
            max_total=None if data.get("max_total") is None else float(data["max_total"]),
            max_per_action=None if data.get("max_per_action") is None else float(data["max_per_action"]),
            currency=None if data.get("currency") is None else str(data["currency"]),
            irreversible_approvals=None
            if data.get("irreversible_approvals") is None
            else int(data["irreversible_approvals"]),
        )


def _least(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)
