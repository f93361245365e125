"""What a NodeODM task is estimated to cost: compute time at the operator's hourly rate.

NodeODM is software on the operator's own machines: it quotes nothing. With the provider
setting ``prices: {per_compute_hour, currency}`` a task is estimated from what drives ODM's
processing time, its image count and the options that multiply it (point cloud and feature
quality, a fast orthophoto). The figures are rough on purpose (``confidence: rough``): the
basis spells them out, and ``minutes_per_image`` lets an operator put in their own measured
minutes. Images known only after apply (``${{ resources.photos.outputs.paths }}`` before
the photos exist) mean no estimate: the plan says "cost unknown" until they are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skyform.providers import Cost
from skyform.providers.cost import compute_prices_schema, compute_time
from skyform.spec.values import is_known

#: compute minutes per image at ODM's default options (a few hundred 12 MP photos on an
#: 8-core node take roughly half a minute each); minutes_per_image overrides it
MINUTES_PER_IMAGE = 0.5

PRICES_SCHEMA = compute_prices_schema("image", MINUTES_PER_IMAGE, "processing on your NodeODM nodes")

#: ODM's quality levels (defaults: pc-quality medium, feature-quality high) and how much
#: longer (or shorter) than the default each one takes, roughly
_PC_QUALITY = {"ultra": 4.0, "high": 2.0, "medium": 1.0, "low": 0.5, "lowest": 0.25}
_FEATURE_QUALITY = {"ultra": 1.5, "high": 1.0, "medium": 0.75, "low": 0.5, "lowest": 0.4}


def factors(options: Mapping[str, Any]) -> list[tuple[str, float]]:
    """The options that change processing time, each with its factor against the defaults."""
    out: list[tuple[str, float]] = []
    if options.get("fast-orthophoto") is True:  # no dense point cloud, no mesh
        out.append(("fast-orthophoto", 0.3))
    pc = options.get("pc-quality")
    if isinstance(pc, str) and _PC_QUALITY.get(pc, 1.0) != 1.0:
        out.append((f"pc-quality {pc}", _PC_QUALITY[pc]))
    feature = options.get("feature-quality")
    if isinstance(feature, str) and _FEATURE_QUALITY.get(feature, 1.0) != 1.0:
        out.append((f"feature-quality {feature}", _FEATURE_QUALITY[feature]))
    if options.get("dsm") is True or options.get("dtm") is True:
        out.append(("elevation models", 1.1))
    return out


def estimate(spec: Mapping[str, Any], settings: Mapping[str, Any]) -> Cost | None:
    """Compute time for the task's images and options at the declared rate, or None (unknown)."""
    prices, images, options = settings.get("prices"), spec.get("images"), spec.get("options") or {}
    if not isinstance(prices, Mapping) or not isinstance(images, list) or not is_known([images, options]):
        return None
    return compute_time(prices, len(images), "image", MINUTES_PER_IMAGE, factors(options))
