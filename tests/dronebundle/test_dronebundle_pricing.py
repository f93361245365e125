"""DroneBundle cost estimates from the prices the operator declares (issue 18 item 1).

A job has no duration and no area, so ``prices`` are per flight (``per_flight`` and/or
``per_flight_hour`` x ``flight_hours``); a recurring job is estimated per occurrence and
for every occurrence of its window, counted with the rules the simulator generates them by
(checked against a real job created on it). No window (no end_date, flexible) or a value
known only after apply is no estimate, never a zero.
"""

from __future__ import annotations

from typing import Any

import pytest

from skyform.providers import Confidence, Cost
from skyform.spec.values import Unknown
from skyform_dronebundle.pricing import estimate

PRICES = {"prices": {"per_flight": 600, "per_flight_hour": 180, "flight_hours": 1.5, "currency": "EUR"}}
ONCE = {"project_id": "p", "name": "deck", "type": "drone_inspection", "job_pattern": "one_time"}
WEEKLY = {  # Mondays and Thursdays, 2 flights each, 1-28 March 2027: 8 occurrences
    **ONCE,
    "job_pattern": "recurring",
    "start_date": "2027-03-01",
    "end_date": "2027-03-28",
    "recurring_frequency": "weekly",
    "selected_days_of_week": [1, 4],
    "flights_per_occurrence": 2,
}


def test_a_one_time_job_is_one_flight() -> None:
    cost = estimate({**ONCE, "start_date": "2027-03-01"}, PRICES)
    assert cost == Cost(870.0, "EUR", "1 flight x (600.00 EUR + 1.5 h x 180.00 EUR)", Confidence.OPERATOR_PRICE)
    only_call_out = estimate({**ONCE, "start_date": "2027-03-01"}, {"prices": {"per_flight": 600, "currency": "EUR"}})
    assert only_call_out == Cost(600.0, "EUR", "1 flight x 600.00 EUR")


def test_a_recurring_job_is_priced_per_occurrence_and_for_its_window() -> None:
    cost = estimate(WEEKLY, PRICES)
    assert cost is not None
    assert (cost.amount, cost.occurrences, cost.per_occurrence) == (8 * 2 * 870.0, 8, 1740.0)
    assert cost.basis == (
        "2 flights x (600.00 EUR + 1.5 h x 180.00 EUR) per occurrence, 8 occurrences from 2027-03-01 to 2027-03-25"
    )


@pytest.mark.parametrize(
    "spec",
    [
        {**WEEKLY, "end_date": None},  # open-ended: no window to count
        {**WEEKLY, "recurring_frequency": "flexible"},  # scheduled by hand
        {**WEEKLY, "end_date": Unknown("resources.x.outputs.end")},  # known after apply
    ],
    ids=["no-end-date", "flexible", "unknown"],
)
def test_no_window_is_cost_unknown(spec: dict[str, Any]) -> None:
    assert estimate(spec, PRICES) is None


def test_no_prices_is_cost_unknown() -> None:
    assert estimate(WEEKLY, {}) is None


def test_the_estimate_counts_the_occurrences_the_service_generates(job_kind, make_ctx, project_id, sandbox) -> None:
    """A recurring job created on the simulator: its occurrence dates are the estimate's count."""
    spec = {**WEEKLY, "project_id": project_id, "start_date": "2027-03-01", "end_date": "2027-03-24"}
    result = job_kind.create(spec, make_ctx())
    generated = sandbox.simulator.data["occurrences"][result.remote_id]["dates"]
    cost = estimate(spec, PRICES)
    assert cost is not None and cost.occurrences == len(generated) == 7
    assert cost.basis.endswith(f"from {generated[0]} to {generated[-1]}")


def test_the_kind_estimates_from_the_provider_settings(job_kind, project_kind, make_ctx) -> None:
    ctx = make_ctx()
    ctx.settings = PRICES
    assert job_kind.estimate_cost({**ONCE, "start_date": "2027-03-01"}, ctx).amount == 870.0
    assert project_kind.estimate_cost({"name": "Bridge A12"}, ctx).is_free


def test_an_update_costs_the_flights_it_adds_not_a_new_job(job_kind, make_ctx) -> None:
    """An in-place update of a booked job is priced by the change: more flights per occurrence
    add their flights, a rename adds nothing, fewer flights refund nothing (never below zero)."""
    from skyform.providers import Change, Record

    ctx = make_ctx()
    ctx.settings = PRICES
    record = Record("flight", "dronebundle.Job", "j1", "ready", dict(WEEKLY), {}, {}, {}, "k", 0.0)
    more = {**WEEKLY, "flights_per_occurrence": 3}  # 8 occurrences: 8 flights more at 870.00
    added = job_kind.estimate_update_cost(record, more, [Change(("flights_per_occurrence",), 2, 3)], ctx)
    assert added == Cost(6960.0, "EUR", "flights added: 20,880.00 EUR now, 13,920.00 EUR booked")
    renamed = job_kind.estimate_update_cost(record, {**WEEKLY, "name": "deck 2"}, [Change(("name",), "d", "e")], ctx)
    assert renamed is not None and renamed.is_free
    fewer = {**WEEKLY, "flights_per_occurrence": 1}
    assert job_kind.estimate_update_cost(record, fewer, [], ctx).is_free
    unknown = {**WEEKLY, "end_date": Unknown("resources.x.outputs.end")}
    assert job_kind.estimate_update_cost(record, unknown, [], ctx) is None
