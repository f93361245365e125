"""What a Satellogic task is estimated to cost, from the price the operator declares.

The Tasking API quotes no price (prices are in the customer's contract), so the provider
setting ``prices: {per_capture, currency}`` says what one capture costs. A one-off task
costs ``max_captures`` captures; a recurring POI task (``expected_age``) takes
``max_captures`` per period, for every period of its window, so the estimate is the whole
window and its detail names the cost of one occurrence. Without ``prices``, or with a
spec still unknown at plan time, there is no estimate: the plan says "cost unknown".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from skyform.providers import Confidence, Cost
from skyform.spec.values import is_known

from .temporal import parse_age, parse_instant

#: the settings schema of ``prices`` (schemas.SETTINGS_SCHEMA)
PRICES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["per_capture", "currency"],
    "description": "Your contract's price, for cost estimates in the plan (the API quotes none).",
    "properties": {
        "per_capture": {"type": "number", "minimum": 0, "description": "The price of one capture."},
        "currency": {"type": "string", "minLength": 1, "description": "Its currency, e.g. EUR or USD."},
    },
}


def periods(spec: Mapping[str, Any]) -> int:
    """How many times a task takes its captures: 1, or each ``expected_age`` period of its window."""
    period = parse_age(spec.get("expected_age"))
    start, end = parse_instant(spec.get("start")), parse_instant(spec.get("end"))
    if period is None or period.total_seconds() <= 0 or start is None or end is None or end <= start:
        return 1
    return max(1, math.ceil((end - start) / period))


def estimate(spec: Mapping[str, Any], settings: Mapping[str, Any]) -> Cost | None:
    """The task's cost over its whole window at the declared price, or None (unknown)."""
    prices = settings.get("prices")
    priced = [spec.get(k) for k in ("max_captures", "expected_age", "start", "end")]
    if not isinstance(prices, Mapping) or not is_known(priced):  # known after apply: no estimate yet
        return None
    captures = spec.get("max_captures", 1)
    if not isinstance(captures, int):
        return None
    price, currency = float(prices["per_capture"]), str(prices["currency"])
    times = periods(spec)
    once = price * captures
    basis = f"{captures} capture{'s' if captures != 1 else ''} x {price:,.2f} {currency}"
    if times > 1:
        basis += f" per occurrence, {times} occurrences in the window"
    return Cost(once * times, currency, basis, Confidence.OPERATOR_PRICE, occurrences=times)
