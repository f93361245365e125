"""What work costs: a :class:`Cost` with its basis and :class:`Confidence`.

A kind's ``estimate_cost`` returns one for the plan (what creating, replacing or updating a
resource will cost), and an operation's ``Result.cost`` carries what the service reports
the work cost, which the state records as spent. Both are re-exported by
``skyform.providers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Confidence(StrEnum):
    """How far a :class:`Cost` can be trusted: what it is computed from.

    ``quote`` and ``operator-price`` are firm (a ``lifecycle.max_cost`` below them blocks the
    action); a ``pre-estimate`` is checked again by the kind against the service's own figure
    before it submits; a ``rough`` estimate (compute hours from an image count) is shown and
    counted, never enforced per resource.
    """

    QUOTE = "quote"  # the service's own figure for this work (iTwin's estimatedCost)
    OPERATOR_PRICE = "operator-price"  # the operator's declared prices x the spec's quantities
    PRE_ESTIMATE = "pre-estimate"  # a documented formula; the service's figure decides at submission
    ROUGH = "rough"  # a model of the work (processing time from image count): low confidence

    @property
    def firm(self) -> bool:
        """A firm estimate above ``lifecycle.max_cost`` blocks the action at plan time."""
        return self in (Confidence.QUOTE, Confidence.OPERATOR_PRICE)


@dataclass(frozen=True)
class Cost:
    """A cost estimate (``estimate_cost``) or a reported actual cost (``Result.cost``).

    ``amount`` is the whole work: for recurring work (a task taking captures every period of
    its window) it covers every ``occurrences``; :attr:`per_occurrence` is one of them.
    ``basis`` says what it is computed from, in the plan's words ("2 captures x 150.00 EUR").
    """

    amount: float
    currency: str
    basis: str = ""
    confidence: Confidence = Confidence.OPERATOR_PRICE
    occurrences: int = 1  # how many times recurring work runs in its window (1: once)

    @property
    def firm(self) -> bool:
        return self.confidence.firm

    @property
    def per_occurrence(self) -> float:
        """What one occurrence costs (the amount itself for work done once)."""
        return self.amount / self.occurrences if self.occurrences > 1 else self.amount

    @classmethod
    def free(cls, basis: str) -> Cost:
        """Work that bills nothing (a project that only holds labels, files read locally).

        Known to cost nothing, which is not "unknown": it adds to no currency's total.
        """
        return cls(0.0, "", basis, Confidence.QUOTE)

    @property
    def figure(self) -> str:
        """The amount and its currency alone: ``1,350.00 EUR`` (``free`` for :meth:`free`)."""
        return "free" if self.is_free else f"{self.amount:,.2f} {self.currency}"

    def __str__(self) -> str:
        text = self.figure
        if self.occurrences > 1:
            text += f" for {self.occurrences} occurrences ({self.per_occurrence:,.2f} each)"
        notes = [n for n in (self.basis, "" if self.is_free else str(self.confidence)) if n]
        return text + (f" ({'; '.join(notes)})" if notes else "")

    @property
    def is_free(self) -> bool:
        """Known to bill nothing (:meth:`free`): counted in no total, and not unknown."""
        return self.amount == 0 and not self.currency

    def to_json(self) -> dict[str, Any]:
        """The cost as a plan and the state hold it (schemas/plan.schema.json, ``$defs.cost``)."""
        out: dict[str, Any] = {
            "amount": self.amount,
            "currency": self.currency,
            "basis": self.basis,
            "confidence": str(self.confidence),
            "firm": self.firm,
        }
        if self.occurrences > 1:
            out["occurrences"] = self.occurrences
            out["per_occurrence"] = self.per_occurrence
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cost:
        """The inverse of :meth:`to_json`; reads plans saved before ``basis``/``confidence``."""
        confidence = data.get("confidence")
        if confidence is None:  # an older plan: "detail" and "firm: false" for a pre-estimate
            confidence = Confidence.OPERATOR_PRICE if data.get("firm", True) else Confidence.PRE_ESTIMATE
        return cls(
            amount=float(data["amount"]),
            currency=str(data.get("currency", "")),
            basis=str(data.get("basis", data.get("detail", ""))),
            confidence=Confidence(confidence),
            occurrences=int(data.get("occurrences", 1)),
        )


def compute_prices_schema(unit: str, default_minutes: float, what: str) -> dict[str, Any]:
    """The settings schema of ``prices`` for a service billed by compute time.

    ``per_compute_hour`` and ``currency`` are the operator's rate; ``minutes_per_<unit>``
    is how long one unit (an image) takes at default options, ``default_minutes`` unless
    the operator measured their own.
    """
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["per_compute_hour", "currency"],
        "description": f"Your price of {what}, for rough cost estimates in the plan (the API quotes none).",
        "properties": {
            "per_compute_hour": {"type": "number", "minimum": 0, "description": "The price of one compute hour."},
            "currency": {"type": "string", "minLength": 1, "description": "Its currency, e.g. EUR or USD."},
            f"minutes_per_{unit}": {
                "type": "number",
                "exclusiveMinimum": 0,
                "default": default_minutes,
                "description": f"Compute minutes one {unit} takes at default options (default {default_minutes:g}).",
            },
        },
    }


def compute_time(
    prices: Mapping[str, Any], count: int, unit: str, default_minutes: float, factors: list[tuple[str, float]]
) -> Cost:
    """A rough Cost: ``count`` units x minutes each x the options' ``factors`` at the hourly rate.

    The basis spells every term out (``120 images x 0.5 min x 1.5 (feature-quality high)
    = 1.50 compute h x 40.00 EUR``) so a reader can redo it, and the confidence is ``rough``:
    processing time depends on the photos as much as on their number.
    """
    minutes = float(prices.get(f"minutes_per_{unit}", default_minutes))
    hours = count * minutes / 60
    for _, factor in factors:
        hours *= factor
    rate, currency = float(prices["per_compute_hour"]), str(prices["currency"])
    terms = "".join(f" x {factor:g} ({why})" for why, factor in factors)
    basis = (
        f"{count} {unit}{'s' if count != 1 else ''} x {minutes:g} min{terms} "
        f"= {hours:,.2f} compute h x {rate:,.2f} {currency}"
    )
    return Cost(round(hours * rate, 2), currency, basis, Confidence.ROUGH)
