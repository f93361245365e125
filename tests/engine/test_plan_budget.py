"""Money in the plan: an estimate above its resource's lifecycle.max_cost is flagged by plan.

A firm estimate above the ceiling is also blocked (apply fails the node); either way the
plan marks the resource, says so in the summary, saves the breach in the plan file, and
`plan --detailed-exitcode` exits 8 instead of 2.
"""

from __future__ import annotations

import json

from skyform.plan.budget import BudgetBreach
from skyform.plan.model import Plan

MISSION = """
    resources:
      cheap: {type: fake.Thing, spec: {name: cheap, cost: 1}, lifecycle: {max_cost: 5}}
      dear: {type: fake.Thing, spec: {name: dear, cost: 7.5}, lifecycle: {max_cost: 5}}
"""


def test_firm_estimate_above_max_cost_is_marked_blocked_and_exit_8(ws):
    f = ws.write(MISSION)
    ran = ws.run("plan", "--sandbox", f)
    assert ran.code == 0, str(ran)
    assert (
        "    ! over budget: estimate 7.50 EUR is above lifecycle.max_cost 5.00; apply will not submit it" in ran.out
    ), ran.out
    assert "Over budget: 1 estimate above its ceiling (dear)." in ran.out
    assert ran.out.count("over budget") == 1  # the cheap one is within its ceiling
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", f).code == 8


def test_saved_plan_keeps_its_breaches(ws):
    f = ws.write(MISSION)
    out = ws.path / "plan.json"
    assert ws.run("plan", "--sandbox", "-o", str(out), f).code == 0
    saved = Plan.load(out)
    assert saved.budget == [BudgetBreach("dear", 7.5, 5.0, "EUR", firm=True)]
    assert Plan.from_json(json.loads(json.dumps(saved.to_json()))) == saved


def test_no_ceiling_no_breach(ws):
    f = ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, cost: 1000}}
    """)
    ran = ws.run("plan", "--sandbox", "--detailed-exitcode", f)
    assert ran.code == 2, str(ran)
    assert "over budget" not in ran.out.lower()
