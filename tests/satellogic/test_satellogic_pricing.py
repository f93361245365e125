"""Satellogic cost estimates from the price the operator declares (issue 18 item 1, one provider).

The Tasking API quotes no price, so ``prices: {per_capture, currency}`` in the provider
settings prices each capture; a recurring task is estimated for every period of its window.
Planned over real HTTP against the simulator, the plan's total and budget use the figures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satellogic_support import Sandbox  # type: ignore[import-not-found]

from skyform.providers import Cost
from skyform.spec.values import Unknown
from skyform.testing.runner import run_cli
from skyform_satellogic.pricing import estimate, periods, polygon_area_km2
from skyform_satellogic.provider import PROVIDER

PRICES = {"prices": {"per_capture": 450, "currency": "EUR"}}
WEEKLY = {
    "start": "2027-03-01T00:00:00Z",
    "end": "2027-03-29T00:00:00Z",
    "expected_age": "7 days, 00:00:00",
    "max_captures": 2,
}


def test_a_one_off_task_costs_its_captures() -> None:
    assert estimate({"max_captures": 3}, PRICES) == Cost(1350.0, "EUR", "3 captures x 450.00 EUR")
    assert estimate({}, PRICES) == Cost(450.0, "EUR", "1 capture x 450.00 EUR")


def test_a_recurring_task_costs_every_period_of_its_window() -> None:
    assert periods(WEEKLY) == 4
    assert periods({**WEEKLY, "end": "2027-03-29T00:00:01Z"}) == 5  # a started period is a period
    cost = estimate(WEEKLY, PRICES)
    assert cost == Cost(
        3600.0, "EUR", "2 captures x 450.00 EUR per occurrence, 4 occurrences in the window", occurrences=4
    )
    assert cost is not None and cost.per_occurrence == 900.0
    assert str(cost) == (
        "3,600.00 EUR for 4 occurrences (900.00 each) "
        "(2 captures x 450.00 EUR per occurrence, 4 occurrences in the window; operator-price)"
    )


#: a 0.1 x 0.1 degree square at the equator: about 11.13 km x 11.06 km
SQUARE = [[[0.0, 0.0], [0.1, 0.0], [0.1, 0.1], [0.0, 0.1], [0.0, 0.0]]]


def test_an_aoi_polygon_is_priced_by_its_area() -> None:
    area = polygon_area_km2(SQUARE)
    assert 123.0 < area < 124.0  # 111.32 km per degree at the equator, squared, x 0.01
    hole = [[0.02, 0.02], [0.04, 0.02], [0.04, 0.04], [0.02, 0.04], [0.02, 0.02]]
    assert polygon_area_km2([SQUARE[0], hole]) < area
    spec = {"max_captures": 1, "target": {"type": "Polygon", "coordinates": SQUARE}}
    cost = estimate(spec, {"prices": {"per_km2": 10, "currency": "EUR"}})
    assert cost is not None and cost.amount == round(area * 10, 2)
    assert cost.basis == f"{area:,.2f} km2 (the polygon, one coverage) x 10.00 EUR"


def test_a_poi_with_only_an_area_price_is_cost_unknown() -> None:
    point = {"max_captures": 1, "target": {"type": "Point", "coordinates": [12.5, 55.6]}}
    assert estimate(point, {"prices": {"per_km2": 10, "currency": "EUR"}}) is None
    polygon = {"max_captures": 2, "target": {"type": "Polygon", "coordinates": SQUARE}}
    by_capture = estimate(polygon, PRICES)  # no per_km2: the polygon's captures at per_capture
    assert by_capture is not None and by_capture.amount == 900.0


def test_no_price_or_an_unknown_window_is_no_estimate() -> None:
    assert estimate(WEEKLY, {}) is None
    assert estimate({**WEEKLY, "end": Unknown("resources.x.outputs.end")}, PRICES) is None


def test_the_plan_totals_the_priced_tasks_over_http(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox], monkeypatch: Any
) -> None:
    sandbox = start_sandbox()
    settings = {k: v for k, v in sandbox.settings.items() if k != "client_secret"}
    monkeypatch.setenv("SKYFORM_SECRET_SAT_SECRET", sandbox.settings["client_secret"])
    provider_block = json.dumps({**settings, "client_secret": "${{ secrets.SAT_SECRET }}", **PRICES})
    task = {
        "project_name": "Theme parks",
        "product": 169,
        "target": {"type": "Point", "coordinates": [72.905273, 19.023001]},
    }
    resources = {
        "once": {"type": "satellogic.Task", "spec": {**task, "task_name": "once", **WEEKLY, "expected_age": None}},
        "weekly": {"type": "satellogic.Task", "spec": {**task, "task_name": "weekly", **WEEKLY}},
    }
    resources["once"]["spec"].pop("expected_age")
    resources["once"]["spec"]["max_captures"] = 1
    (tmp_path / "mission.yaml").write_text(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: priced}\n"
        f"budget: {{max: 4000, currency: EUR}}\nproviders:\n  satellogic: {provider_block}\n"
        f"resources: {json.dumps(resources)}\n"
    )
    run = run_cli("plan", "--json", "--detailed-exitcode", tmp_path, providers=[PROVIDER])
    assert run.exit_code == 8, run.output  # 450 + 3600 = 4050 EUR, above the 4000 budget
    plan = next(json.loads(line) for line in run.stdout.splitlines() if '"format"' in line)
    assert plan["cost"]["total"] == {"EUR": 4050.0}
    assert [(i["address"], i["amount"]) for i in plan["cost"]["largest"]] == [("weekly", 3600.0), ("once", 450.0)]
    assert plan["budget"][0]["items"] == ["weekly", "once"]
    assert sandbox.sim.data["tasks"] == {}  # planning created nothing


def test_an_update_of_wait_for_is_not_priced_as_a_new_capture(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox], monkeypatch: Any
) -> None:
    """Only wait_for updates in place: the paid order is kept, so the update adds nothing to
    the total and a budget that the capture already fills is not breached by it."""
    sandbox = start_sandbox()
    settings = {k: v for k, v in sandbox.settings.items() if k != "client_secret"}
    monkeypatch.setenv("SKYFORM_SECRET_SAT_SECRET", sandbox.settings["client_secret"])
    provider_block = json.dumps({**settings, "client_secret": "${{ secrets.SAT_SECRET }}", **PRICES})
    spec = {
        "project_name": "Theme parks",
        "product": 169,
        "target": {"type": "Point", "coordinates": [72.905273, 19.023001]},
        "task_name": "once",
        "start": WEEKLY["start"],
        "end": WEEKLY["end"],
        "max_captures": 1,
        "wait_for": "accepted",
    }

    def write(wait_for: str) -> None:
        resources = {"once": {"type": "satellogic.Task", "spec": {**spec, "wait_for": wait_for}}}
        (tmp_path / "mission.yaml").write_text(
            "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: priced}\n"
            f"budget: {{max: 500, currency: EUR}}\nproviders:\n  satellogic: {provider_block}\n"
            f"resources: {json.dumps(resources)}\n"
        )

    write("accepted")
    applied = run_cli("apply", "--auto-approve", tmp_path, providers=[PROVIDER])
    assert applied.exit_code == 0, applied.output
    write("first_capture")
    run = run_cli("plan", "--json", "--detailed-exitcode", tmp_path, providers=[PROVIDER])
    assert run.exit_code == 2, run.output  # changes, within the budget: 450 spent, 0 added
    plan = next(json.loads(line) for line in run.stdout.splitlines() if '"format"' in line)
    [action] = [a for a in plan["actions"] if a["address"] == "once"]
    assert action["action"] == "update"
    assert action["cost"]["amount"] == 0 and action["cost"]["currency"] == ""
    assert "no new capture" in action["cost"]["basis"]
    assert plan["cost"]["total"] == {} and plan["budget"] == []
    assert plan["cost"]["spent"]["total"] == {"EUR": 450.0}
    assert len(sandbox.sim.data["tasks"]) == 1
