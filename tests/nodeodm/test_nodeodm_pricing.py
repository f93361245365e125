"""NodeODM cost estimates: compute time at the operator's hourly rate (issue 18 item 1).

NodeODM quotes nothing; with ``prices: {per_compute_hour, currency}`` a task is estimated
from its image count and the options that change ODM's processing time, as a rough figure
whose basis spells every term out. Images known only after apply are no estimate.
"""

from __future__ import annotations

from skyform.providers import Confidence
from skyform.spec.values import Unknown
from skyform_nodeodm.pricing import estimate, factors

PRICES = {"prices": {"per_compute_hour": 40, "currency": "EUR"}}
IMAGES = [f"img/{i:03}.jpg" for i in range(120)]


def test_images_at_default_options_are_half_a_minute_each() -> None:
    cost = estimate({"images": IMAGES}, PRICES)
    assert cost is not None and cost.confidence is Confidence.ROUGH
    assert (cost.amount, cost.currency) == (40.0, "EUR")  # 120 x 0.5 min = 1 h
    assert cost.basis == "120 images x 0.5 min = 1.00 compute h x 40.00 EUR"


def test_options_multiply_the_time_and_are_named_in_the_basis() -> None:
    options = {"pc-quality": "high", "feature-quality": "ultra", "dsm": True}
    assert factors(options) == [("pc-quality high", 2.0), ("feature-quality ultra", 1.5), ("elevation models", 1.1)]
    cost = estimate({"images": IMAGES, "options": options}, PRICES)
    assert cost is not None and cost.amount == 132.0  # 1 h x 2 x 1.5 x 1.1
    assert "x 2 (pc-quality high) x 1.5 (feature-quality ultra) x 1.1 (elevation models)" in cost.basis
    fast = estimate({"images": IMAGES, "options": {"fast-orthophoto": True}}, PRICES)
    assert fast is not None and fast.amount == 12.0


def test_the_operator_measured_minutes_replace_the_default() -> None:
    prices = {"prices": {**PRICES["prices"], "minutes_per_image": 2}}
    cost = estimate({"images": IMAGES}, prices)
    assert cost is not None and cost.amount == 160.0


def test_unknown_images_or_no_prices_is_cost_unknown() -> None:
    assert estimate({"images": Unknown("resources.photos.outputs.paths")}, PRICES) is None
    assert estimate({"images": IMAGES, "options": {"dsm": Unknown("var")}}, PRICES) is None
    assert estimate({"images": IMAGES}, {}) is None
