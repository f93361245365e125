"""skyform's pre-estimate of a job's cost from its costEstimationParameters.

Bentley does not publish the formula behind ``estimatedCost``; the binding number is the
one the service returns for a created job, and that is what ``lifecycle.max_cost`` and the
provider ``budget`` are checked against before submission. This rough table lets ``plan``
show an amount before any job exists; the sandbox simulator uses the same table so plans
and applies agree there. Units are the service's (``estimatedCost`` has no currency).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNIT = "units"
#: cost per gigapixel of photos, by mesh quality
PER_GIGAPIXEL = {"Draft": 0.5, "Medium": 1.0, "Extra": 1.5}
#: cost per megapoint of point cloud input
PER_MEGAPOINT = 0.25


def pre_estimate(parameters: Mapping[str, Any]) -> float | None:
    """The pre-estimate for documented costEstimationParameters, None without any volume."""
    giga = parameters.get("gigaPixels")
    mega = parameters.get("megaPoints")
    if not isinstance(giga, (int, float)) and not isinstance(mega, (int, float)):
        return None
    quality = parameters.get("meshQuality") or "Medium"
    rate = PER_GIGAPIXEL.get(str(quality), PER_GIGAPIXEL["Medium"])
    amount = float(giga or 0.0) * rate + float(mega or 0.0) * PER_MEGAPOINT
    return round(amount, 2)


def basis(parameters: Mapping[str, Any]) -> str:
    """What :func:`pre_estimate` is computed from, in the plan's words."""
    quality = str(parameters.get("meshQuality") or "Medium")
    parts = []
    giga, mega = parameters.get("gigaPixels"), parameters.get("megaPoints")
    if isinstance(giga, (int, float)) and (giga or not isinstance(mega, (int, float)) or not mega):
        rate = PER_GIGAPIXEL.get(quality, PER_GIGAPIXEL["Medium"])
        parts.append(f"{giga:g} gigapixels x {rate:g} {UNIT} ({quality})")
    if isinstance(mega, (int, float)) and mega:
        parts.append(f"{mega:g} megapoints x {PER_MEGAPOINT:g} {UNIT}")
    return " + ".join(parts) + "; iTwin's estimatedCost is checked before submission"
