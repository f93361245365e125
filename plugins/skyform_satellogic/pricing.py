"""What a Satellogic task is estimated to cost, from the prices the operator declares.

The Tasking API quotes no price (prices are in the customer's contract), so the provider
setting ``prices: {per_capture, per_km2, currency}`` says what one capture and one square
kilometre of area coverage cost. A POI task (a Point: a fixed footprint) costs
``max_captures`` captures; a recurring POI task (``expected_age``) takes ``max_captures``
per period, for every period of its window, so the estimate is the whole window with its
``occurrences``. An AOI task (a Polygon, collected in strips) is priced by its area, one
coverage of the polygon, at ``per_km2`` (by captures when only ``per_capture`` is declared).
Without a price that applies, or with a spec still unknown at plan time, there is no
estimate: the plan says "cost unknown".
"""

from __future__ import annotations

import itertools
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
    "required": ["currency"],
    "anyOf": [{"required": ["per_capture"]}, {"required": ["per_km2"]}],
    "description": "Your contract's prices, for cost estimates in the plan (the API quotes none): "
    "per_capture (POI tasks) and/or per_km2 (AOI tasks).",
    "properties": {
        "per_capture": {"type": "number", "minimum": 0, "description": "The price of one capture (POI)."},
        "per_km2": {"type": "number", "minimum": 0, "description": "The price of one km2 of area coverage (AOI)."},
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


#: the WGS 84 equatorial radius GeoJSON areas are computed on (as turf and d3 do)
EARTH_RADIUS_M = 6378137.0


def ring_area_km2(ring: Any) -> float:
    """The area of one closed lon/lat ring on the sphere, in km2 (Chamberlain and Duquette)."""
    if not isinstance(ring, list) or len(ring) < 4:
        return 0.0
    total = 0.0
    for (lon1, lat1, *_), (lon2, lat2, *_) in itertools.pairwise(ring):
        total += math.radians(lon2 - lon1) * (2 + math.sin(math.radians(lat1)) + math.sin(math.radians(lat2)))
    return abs(total) * EARTH_RADIUS_M**2 / 2 / 1e6


def polygon_area_km2(coordinates: Any) -> float:
    """A GeoJSON Polygon's area: its outer ring less its holes."""
    if not isinstance(coordinates, list) or not coordinates:
        return 0.0
    return max(0.0, ring_area_km2(coordinates[0]) - sum(ring_area_km2(r) for r in coordinates[1:]))


def estimate(spec: Mapping[str, Any], settings: Mapping[str, Any]) -> Cost | None:
    """The task's cost over its whole window at the declared prices, or None (unknown)."""
    prices = settings.get("prices")
    priced = [spec.get(k) for k in ("max_captures", "expected_age", "start", "end", "target")]
    if not isinstance(prices, Mapping) or not is_known(priced):  # known after apply: no estimate yet
        return None
    captures = spec.get("max_captures", 1)
    if not isinstance(captures, int):
        return None
    currency = str(prices["currency"])
    target = spec.get("target") or {}
    if isinstance(target, Mapping) and target.get("type") == "Polygon" and prices.get("per_km2") is not None:
        area, rate = polygon_area_km2(target.get("coordinates")), float(prices["per_km2"])
        return Cost(
            round(area * rate, 2),
            currency,
            f"{area:,.2f} km2 (the polygon, one coverage) x {rate:,.2f} {currency}",
            Confidence.OPERATOR_PRICE,
        )
    if prices.get("per_capture") is None:
        return None  # a POI task is priced per capture, and none is declared
    price = float(prices["per_capture"])
    times = periods(spec)
    once = price * captures
    basis = f"{captures} capture{'s' if captures != 1 else ''} x {price:,.2f} {currency}"
    if times > 1:
        basis += f" per occurrence, {times} occurrences in the window"
    return Cost(once * times, currency, basis, Confidence.OPERATOR_PRICE, occurrences=times)
