"""A mission's budget: ``budget: {max: 2500, currency: EUR}`` beside its resources.

Kept apart from :mod:`.mission` because the plan carries it too (``Plan.mission_budget``,
saved in the plan file), and the plan must not import the loader to read it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: the envelope schema of the ``budget`` key (spec/envelope.py), kept with what reads it
BUDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["max", "currency"],
    "description": "The most the whole mission's planned work may cost: plan exits 8 with "
    "--detailed-exitcode above it, and apply refuses before the first request.",
    "properties": {
        "max": {
            "type": "number",
            "minimum": 0,
            "maximum": 1e15,
            "description": "The largest total of the plan's cost estimates in this currency.",
        },
        "currency": {
            "type": "string",
            "minLength": 1,
            "maxLength": 16,
            "pattern": r"^\S+$",
            "description": "The currency of the estimates counted against it, as the providers "
            "name it: EUR, USD, or a unit such as iTwin's 'units'.",
        },
    },
}


@dataclass(frozen=True)
class MissionBudget:
    """The ceiling on the sum of a plan's estimates in one currency.

    One currency only: estimates in others are shown in the total but cannot be counted
    against it (skyform converts no money), which the plan says as a warning.
    """

    max: float
    currency: str

    @classmethod
    def from_spec(cls, data: Any) -> MissionBudget | None:
        """The budget of an envelope-valid ``budget`` mapping (None when absent)."""
        if not isinstance(data, dict):
            return None
        return cls(max=float(data["max"]), currency=str(data["currency"]))

    def to_json(self) -> dict[str, Any]:
        return {"max": self.max, "currency": self.currency}

    @classmethod
    def from_json(cls, data: Any) -> MissionBudget | None:
        return None if data is None else cls(max=float(data["max"]), currency=str(data["currency"]))
