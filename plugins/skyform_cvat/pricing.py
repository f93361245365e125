"""What CVAT work is estimated to cost: the server's compute time at the operator's rate.

CVAT quotes no price (app.cvat.ai bills seats, a self-hosted server bills its machines).
With the provider setting ``prices: {per_compute_hour, currency}`` a task is estimated from
its image count: CVAT decodes each image, writes its compressed and original chunks and a
preview, a few seconds each (``minutes_per_image`` takes the operator's own measure), so the
estimate is rough (``confidence: rough``) and its basis spells the figures out. A project
only holds labels and costs nothing. Images known only after apply mean no estimate: the
plan says "cost unknown" until they are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skyform.providers import Cost
from skyform.providers.cost import compute_prices_schema, compute_time
from skyform.spec.values import is_known

#: compute minutes CVAT spends per image of a new task (chunks and a preview: ~3 s)
MINUTES_PER_IMAGE = 0.05

PRICES_SCHEMA = compute_prices_schema("image", MINUTES_PER_IMAGE, "the CVAT server's compute time")

#: what a project's create or update costs: it holds labels, no data
PROJECT = Cost.free("a project holds labels and no data: nothing to process")


def task_estimate(spec: Mapping[str, Any], settings: Mapping[str, Any]) -> Cost | None:
    """Compute time for the task's images at the declared rate, or None (unknown)."""
    prices, images = settings.get("prices"), spec.get("images")
    listed = [images] if isinstance(images, str) else images
    if not isinstance(prices, Mapping) or not isinstance(listed, list) or not is_known(listed):
        return None
    return compute_time(prices, len(listed), "image", MINUTES_PER_IMAGE, [])
