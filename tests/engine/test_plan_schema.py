"""The plan's JSON has a documented schema (schemas/plan.schema.json, issue 18 item 5).

Real plans are checked against it: a ``plan --json`` line and a saved plan file, within and
over the mission's budget, with priced, unknown and recurring items, so a figure added to
the plan without its schema fails here. The committed file is the fresh export.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from skyform.plan.schema import PLAN_SCHEMA

ROOT = Path(__file__).resolve().parents[2]

MISSION = """
    budget: {max: 2500, currency: EUR}
    resources:
      capture: {type: fake.Thing, spec: {name: capture, cost: 2000}}
      survey: {type: fake.Thing, spec: {name: survey, cost: 950}}
      notes: {type: fake.Thing, spec: {name: notes}}
      dear: {type: fake.Thing, spec: {name: dear, cost: 7.5}, lifecycle: {max_cost: 5}}
"""


def errors(document: Any) -> list[str]:
    validator = Draft202012Validator(PLAN_SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_committed_schema_is_the_fresh_export() -> None:
    Draft202012Validator.check_schema(PLAN_SCHEMA)
    committed = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
    assert committed == json.loads(json.dumps(PLAN_SCHEMA)), "schemas/ is stale: run `skyform schema export schemas`"


def test_a_real_json_plan_over_budget_matches_the_schema(ws) -> None:
    f = ws.write(MISSION)
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    assert {b["ceiling"] for b in plan["budget"]} == {"budget.max", "lifecycle.max_cost"}  # both kinds of breach
    assert plan["cost"]["unknown"] == ["notes"]
    assert errors(plan) == []


def test_a_saved_plan_matches_the_schema(ws) -> None:
    f = ws.write(MISSION.replace("max: 2500", "max: 5000"))
    saved = ws.path / "plan.json"
    assert ws.run("plan", "--sandbox", "-o", str(saved), f).code == 0
    assert errors(json.loads(saved.read_text())) == []


def test_the_schema_refuses_an_undocumented_figure_and_a_bad_confidence(ws) -> None:
    """The figures are strict: a key added without its schema, or a wrong value, fails."""
    f = ws.write(MISSION)
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    plan["cost"]["discount"] = 3
    priced = next(a for a in plan["actions"] if a.get("cost"))
    priced["cost"]["confidence"] = "certain"
    found = errors(plan)
    assert any(e.startswith("cost:") and "discount" in e for e in found), found
    assert any("confidence" in e and "certain" in e for e in found), found


IRREVERSIBLE = """
    policy: {max_total: 100, currency: EUR, irreversible_approvals: 2}
    resources:
      capture: {type: fake.Thing, spec: {name: capture, cost: 150, irreversible: "a capture once taken is paid"}}
      notes: {type: fake.Thing, spec: {name: notes}}
"""


def test_irreversible_approval_and_policy_match_the_schema(ws) -> None:
    """A real plan with an irreversible action and a policy it goes past (issue 18 items 3-5)."""
    f = ws.write(IRREVERSIBLE)
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    assert [m["class"] for m in plan["irreversible"]] == ["irreversible"]
    assert plan["approval"]["needed"] and plan["approval"]["approvers"] == 2 and plan["policy"]["currency"] == "EUR"
    assert errors(plan) == []
    plan["approval"]["approved_by"] = "alice"  # strict: an undocumented key fails
    plan["irreversible"][0]["class"] = "reversible"  # a reversible action is never listed
    assert len(errors(plan)) == 2, errors(plan)
