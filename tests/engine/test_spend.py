"""What a mission has spent so far: recorded in state by apply, counted by the next plan (issue 18).

Each applied spending action records its cost on the resource (the service's figure when
its kind reports one, else the estimate applied, marked as such); the next plan prints what
is spent, what it adds and the total against the mission's budget, and a plan whose total
with what is spent is over the budget is refused like any other. Money spent stays spent:
what a destroyed, replaced or forgotten resource cost moves to the mission's ledger with its
record and is still counted; work of unknown cost records nothing (never a zero).
"""

from __future__ import annotations

from skyform.state.spend import LEDGER_KEY, SPENT_KEY, entries, ledger

SPENT = """
    budget: {max: 5000, currency: EUR}
    resources:
      capture: {type: fake.Thing, spec: {name: capture, cost: 2000}}
      survey: {type: fake.Thing, spec: {name: survey, cost: 950}}
      notes: {type: fake.Thing, spec: {name: notes}}
"""
MORE = SPENT + "      mesh: {type: fake.Thing, spec: {name: mesh, cost: 40}}\n"


def test_apply_records_the_applied_estimate_as_spent(ws):
    f = ws.write(SPENT)
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0
    records = ws.records()
    capture = entries(records["capture"].private)
    assert [(e.cost.amount, e.cost.currency, e.source) for e in capture] == [(2000.0, "EUR", "estimate")]
    assert SPENT_KEY not in records["notes"].private  # unknown cost: nothing recorded, not a zero


def test_the_next_plan_says_what_is_spent_and_what_it_adds(ws):
    f = ws.write(SPENT)
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0
    f = ws.write(MORE)
    ran = ws.run("plan", "--sandbox", "--detailed-exitcode", f)
    assert ran.code == 2, str(ran)
    assert "Estimated cost: 40.00 EUR." in ran.out, ran.out
    assert "  spent so far: 2,950.00 EUR (the applied estimate for capture, survey)" in ran.out
    assert "  budget: spent 2,950.00 EUR; this plan adds 40.00 EUR; total 2,990.00 of 5,000.00 EUR (2,010.00 left)" in (
        ran.out
    )
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    assert plan["cost"]["spent"] == {"total": {"EUR": 2950.0}, "estimated": ["capture", "survey"]}


def test_what_is_spent_counts_against_the_budget(ws):
    f = ws.write(SPENT)
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0
    f = ws.write(MORE.replace("max: 5000", "max: 2980"))
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", f).code == 8
    before = len(ws.remote_objects())
    ran = ws.run("apply", "--sandbox", "--auto-approve", f).clean()
    assert ran.code == 7, str(ran)
    assert (
        "over the mission's budget: the spent 2,950.00 EUR + this plan 40.00 = 2,990.00 EUR is above "
        "budget.max 2,980.00; nothing was sent. Items: mesh"
    ) in ran.err
    assert len(ws.remote_objects()) == before  # nothing was created


def test_a_plan_that_adds_nothing_is_never_over_budget(ws):
    """Spent beyond a lowered budget: a plan with nothing to pay for (a change of no cost) runs."""
    f = ws.write(SPENT)
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0
    f = ws.write(SPENT.replace("max: 5000", "max: 100").replace("{name: notes}", "{name: notes, value: 2}"))
    ran = ws.run("plan", "--sandbox", "--detailed-exitcode", f)
    assert ran.code == 2, str(ran)
    assert "  budget: spent 2,950.00 EUR; this plan adds 0.00 EUR; total 2,950.00 of 100.00 EUR (over by 2,850.00)" in (
        ran.out
    )
    assert "Over budget" not in ran.out
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0


def test_a_replaced_resource_s_old_cost_stays_spent(ws):
    """The new object's record starts at nothing; what the old one cost is in the ledger."""
    f = ws.write(SPENT)
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0
    f = ws.write(SPENT.replace("{name: survey, cost: 950}", "{name: survey-2, cost: 900}"))  # name is immutable
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0
    assert [e.cost.amount for e in entries(ws.records()["survey"].private)] == [900.0]
    kept = ledger(ws.store().mission("mission").attributes)
    assert [(a, r.cost.amount, r.source) for a, r in kept] == [("survey", 950.0, "estimate")]
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    assert plan["cost"]["spent"]["total"] == {"EUR": 3850.0}  # 2000 + 950 (the old survey) + 900


def test_a_destroyed_resource_s_cost_stays_in_the_mission_s_spend(ws):
    """Destroy a paid capture and task it again: the budget counts both captures."""
    f = ws.write(SPENT)
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0
    assert ws.run("destroy", "--sandbox", "--auto-approve", "--target", "capture", f).code == 0
    assert "capture" not in ws.records()
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    assert plan["cost"]["spent"] == {"total": {"EUR": 2950.0}, "estimated": ["survey", "capture"]}
    f = ws.write(SPENT.replace("max: 5000", "max: 4000"))  # 2950 spent + 2000 again is over
    ran = ws.run("apply", "--sandbox", "--auto-approve", f).clean()
    assert ran.code == 7, str(ran)
    assert "the spent 2,950.00 EUR + this plan 2,000.00 = 4,950.00 EUR is above budget.max 4,000.00" in ran.err


def test_state_rm_keeps_what_the_record_cost(ws):
    f = ws.write(SPENT)
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0
    assert ws.run("state", "rm", str(ws.path), "survey").code == 0
    attributes = ws.store().mission("mission").attributes
    assert [e["address"] for e in attributes[LEDGER_KEY]] == ["survey"]
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    assert plan["cost"]["spent"]["total"] == {"EUR": 2950.0}


def test_an_update_of_a_kind_that_does_not_say_is_priced_as_a_create_and_marked(ws):
    """fake.Thing declares no update cost: the budget over-counts rather than misses money."""
    f = ws.write(SPENT)
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0
    f = ws.write(SPENT.replace("{name: survey, cost: 950}", "{name: survey, cost: 950, value: 2}"))
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    [survey] = [a for a in plan["actions"] if a["address"] == "survey"]
    assert survey["action"] == "update" and survey["cost"]["amount"] == 950.0
    assert survey["cost"]["basis"].endswith("priced as a create: the kind does not say what an update costs")
