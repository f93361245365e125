"""What a DroneBundle job is estimated to cost, from the prices the operator declares.

DroneBundle schedules and records flights; it quotes no price (the pilot's rate is in the
operator's contract). A job says how many flights it takes, but nothing of their length or
of an area (REFERENCE: a job has a point, dates, capture types; no duration, no polygon),
so prices are per flight: ``per_flight`` (a call-out) and/or ``per_flight_hour`` with the
``flight_hours`` the operator plans per flight. A one-time job is one flight; a recurring
job takes ``flights_per_occurrence`` flights on every occurrence of its window, counted
with the same rules DroneBundle (and the simulator) generates them by (:mod:`.schedule`).
A recurring job without an ``end_date``, or a ``flexible`` one (scheduled by hand on the
dashboard), has no countable window: no estimate, the plan says "cost unknown".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skyform.providers import Confidence, Cost
from skyform.spec.values import is_known

from .schedule import occurrences

#: the settings schema of ``prices`` (schemas.SETTINGS_SCHEMA)
PRICES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["currency"],
    "anyOf": [{"required": ["per_flight"]}, {"required": ["per_flight_hour"]}],
    "dependentRequired": {"per_flight_hour": ["flight_hours"], "flight_hours": ["per_flight_hour"]},
    "description": "Your contract's flight prices, for cost estimates in the plan (the API quotes none): "
    "per_flight and/or per_flight_hour with flight_hours.",
    "properties": {
        "per_flight": {"type": "number", "minimum": 0, "description": "The price of one flight (a call-out)."},
        "per_flight_hour": {"type": "number", "minimum": 0, "description": "The price of one flight hour."},
        "flight_hours": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "Hours one flight takes (a job does not say): what per_flight_hour is multiplied by.",
        },
        "currency": {"type": "string", "minLength": 1, "description": "Its currency, e.g. EUR or USD."},
    },
}

#: the job fields the estimate reads (a value known only after apply: no estimate yet)
_PRICED = (
    "job_pattern",
    "start_date",
    "end_date",
    "recurring_frequency",
    "recurring_interval",
    "selected_days_of_week",
    "week_of_month",
    "weeks_of_month",
    "flights_per_occurrence",
)


def per_flight(prices: Mapping[str, Any]) -> tuple[float, str]:
    """One flight's price and how it is made: ``600.00 EUR + 1.5 h x 200.00 EUR``."""
    currency = str(prices["currency"])
    amount, terms = 0.0, []
    if prices.get("per_flight") is not None:
        amount += float(prices["per_flight"])
        terms.append(f"{float(prices['per_flight']):,.2f} {currency}")
    if prices.get("per_flight_hour") is not None:
        hours, rate = float(prices["flight_hours"]), float(prices["per_flight_hour"])
        amount += hours * rate
        terms.append(f"{hours:g} h x {rate:,.2f} {currency}")
    return amount, " + ".join(terms)


def estimate(spec: Mapping[str, Any], settings: Mapping[str, Any]) -> Cost | None:
    """The job's flights over its whole window at the declared prices, or None (unknown)."""
    prices = settings.get("prices")
    if not isinstance(prices, Mapping) or not is_known([spec.get(k) for k in _PRICED]):
        return None
    price, how = per_flight(prices)
    currency = str(prices["currency"])
    if spec.get("job_pattern") != "recurring":
        return Cost(price, currency, f"1 flight x ({how})" if "+" in how else f"1 flight x {how}")
    if not spec.get("end_date") or spec.get("recurring_frequency") == "flexible":
        return None  # no window to count: open-ended, or scheduled by hand
    dates = occurrences(spec, count=None)
    if not dates:
        return None
    flights = int(spec.get("flights_per_occurrence") or 1)
    how = f"({how})" if "+" in how else how
    basis = (
        f"{flights} flight{'s' if flights != 1 else ''} x {how} per occurrence, "
        f"{len(dates)} occurrences from {dates[0]} to {dates[-1]}"
    )
    return Cost(price * flights * len(dates), currency, basis, Confidence.OPERATOR_PRICE, occurrences=len(dates))
