"""The mission's budget and the plan's cost total (issue 18 item 2, and its JSON figures).

``budget: {max, currency}`` caps the sum of the plan's estimates: the plan prints the total
by currency, the dearest items and the resources of unknown cost (never counted as zero);
above the budget ``plan --detailed-exitcode`` exits 8 and ``apply`` refuses (exit 7) before
the prompt and before any request, naming the items. Against a real HTTP simulator the
refused apply is seen to send nothing.
"""

from __future__ import annotations

import json
import textwrap

from skyform.plan.budget import BudgetBreach
from skyform.plan.model import Plan
from skyform.spec.budget import MissionBudget

OVER = """
    budget: {max: 2500, currency: EUR}
    resources:
      capture: {type: fake.Thing, spec: {name: capture, cost: 2000}}
      survey: {type: fake.Thing, spec: {name: survey, cost: 950}}
      mesh: {type: fake.Thing, spec: {name: mesh, cost: 40}}
      notes: {type: fake.Thing, spec: {name: notes}}
"""
WITHIN = OVER.replace("max: 2500", "max: 5000")


def test_plan_prints_the_total_the_largest_items_and_the_unknowns(ws):
    f = ws.write(WITHIN)
    ran = ws.run("plan", "--sandbox", "--detailed-exitcode", f)
    assert ran.code == 2, str(ran)  # changes, within the budget
    assert "Estimated cost: at least 2,990.00 EUR; cost unknown for 1 (not counted): notes." in ran.out, ran.out
    assert "  largest: capture 2,000.00 EUR, survey 950.00 EUR, mesh 40.00 EUR" in ran.out
    assert "  budget: 2,990.00 of 5,000.00 EUR (2,010.00 left)" in ran.out
    assert "over budget" not in ran.out.lower()


def test_the_json_plan_carries_cost_and_budget(ws):
    f = ws.write(OVER)
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    assert plan["cost"] == {
        "total": {"EUR": 2990.0},
        "unknown": ["notes"],
        "budget": {"max": 2500.0, "currency": "EUR"},
        "spent": {"total": {}, "estimated": []},
        "largest": [
            {"address": "capture", "amount": 2000.0, "currency": "EUR"},
            {"address": "survey", "amount": 950.0, "currency": "EUR"},
            {"address": "mesh", "amount": 40.0, "currency": "EUR"},
        ],
    }
    assert plan["budget"] == [
        {
            "address": None,
            "estimate": 2990.0,
            "limit": 2500.0,
            "currency": "EUR",
            "ceiling": "budget.max",
            "firm": True,
            "confidence": "operator-price",
            "items": ["capture", "survey", "mesh"],
        }
    ]


def test_over_budget_plan_exits_8_and_names_the_items(ws):
    f = ws.write(OVER)
    ran = ws.run("plan", "--sandbox", "--detailed-exitcode", f)
    assert ran.code == 8, str(ran)
    assert "  budget: 2,990.00 of 2,500.00 EUR (over by 490.00)" in ran.out
    assert "Over budget: 1 estimate above its ceiling (the mission)." in ran.out


def test_over_budget_apply_refuses_before_any_request(ws, tmp_path):
    """Against the fake service over HTTP: exit 7 naming the items, and not one request reached it."""
    from fakeprov.simulator import TOKEN, FakeSimulator

    from skyform.sandbox.host import SimulatorHost
    from skyform.sandbox.simulator import SimulatorOptions

    with SimulatorHost() as host:
        service = FakeSimulator(SimulatorOptions(state_dir=tmp_path / "service"))
        running = host.start(service)
        providers = f'providers:\n  fake: {{url: "{running.base_url}", token: {TOKEN}}}\n'
        f = ws.write(providers + textwrap.dedent(OVER).lstrip("\n"))
        ran = ws.run("apply", "--auto-approve", f).clean()
        assert ran.code == 7, str(ran)
        assert (
            "over the mission's budget: the estimated total 2,990.00 EUR is above budget.max 2,500.00; "
            "nothing was sent. Items: capture, survey, mesh"
        ) in ran.err
        assert service.requests == 0
        assert service.data["objects"] == {}
        assert ws.records() == {}
        within = ws.write(providers + textwrap.dedent(WITHIN).lstrip("\n"))
        assert ws.run("apply", "--auto-approve", within).code == 0  # the same work, within its budget, runs
        assert len(service.data["objects"]) == 4


def test_a_saved_over_budget_plan_keeps_its_budget_and_is_refused(ws):
    f = ws.write(OVER)
    out = ws.path / "plan.json"
    assert ws.run("plan", "--sandbox", "-o", str(out), f).code == 0
    saved = Plan.load(out)
    assert saved.mission_budget == MissionBudget(2500.0, "EUR")
    assert saved.budget == [
        BudgetBreach(None, 2990.0, 2500.0, "EUR", ceiling="budget.max", items=("capture", "survey", "mesh"))
    ]
    assert Plan.from_json(json.loads(json.dumps(saved.to_json()))) == saved
    ran = ws.run("apply", "--sandbox", "--auto-approve", str(out)).clean()
    assert ran.code == 7, str(ran)
    assert "over the mission's budget" in ran.err
    assert ws.remote_objects() == []


def test_estimates_in_another_currency_are_not_counted_and_said(ws):
    f = ws.write("""
        budget: {max: 10, currency: USD}
        resources:
          a: {type: fake.Thing, spec: {name: a, cost: 500}}
    """)
    ran = ws.run("plan", "--sandbox", "--detailed-exitcode", f)
    assert ran.code == 2, str(ran)  # 500 EUR cannot be compared with 10 USD: no breach, but a warning
    warning = "estimates in EUR are not counted against budget.max (in USD): skyform converts no money"
    assert warning in ran.out + ran.err
    assert "  budget: 0.00 of 10.00 USD (10.00 left)" in ran.out


def test_no_budget_and_no_estimate_prints_no_cost_line(ws):
    f = ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    ran = ws.run("plan", "--sandbox", f)
    assert ran.code == 0 and "Estimated cost" not in ran.out, str(ran)


def test_a_budget_without_currency_is_a_spec_error_naming_the_line(ws):
    f = ws.write("budget: {max: 100}\nresources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    ran = ws.run("validate", f).clean()
    assert ran.code == 3, str(ran)
    assert "budget" in ran.err and "currency" in ran.err
    assert f"{f}:" in ran.err
