"""CVAT cost estimates: the server's compute time at the operator's rate (issue 18 item 1).

A task's data processing (decoding, chunks, previews) is a few seconds an image; with
``prices: {per_compute_hour, currency}`` it is estimated as a rough figure. A project holds
labels only: known to cost nothing, which is not "unknown".
"""

from __future__ import annotations

from skyform.providers import Confidence
from skyform.spec.values import Unknown
from skyform_cvat.pricing import PROJECT, task_estimate

PRICES = {"prices": {"per_compute_hour": 6, "currency": "EUR"}}


def test_a_task_is_its_images_compute_time() -> None:
    cost = task_estimate({"name": "t", "images": [f"p/{i}.jpg" for i in range(600)]}, PRICES)
    assert cost is not None and cost.confidence is Confidence.ROUGH
    assert (cost.amount, cost.basis) == (3.0, "600 images x 0.05 min = 0.50 compute h x 6.00 EUR")
    one = task_estimate({"name": "t", "images": "p/one.jpg"}, PRICES)
    assert one is not None and one.basis.startswith("1 image x 0.05 min")


def test_unknown_images_or_no_prices_is_cost_unknown() -> None:
    assert task_estimate({"name": "t", "images": Unknown("resources.photos.outputs.paths")}, PRICES) is None
    assert task_estimate({"name": "t", "images": ["a.jpg"]}, {}) is None


def test_a_project_costs_nothing_and_is_not_unknown() -> None:
    assert PROJECT.is_free and PROJECT.amount == 0 and str(PROJECT).startswith("free")
