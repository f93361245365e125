"""Approval policies (issue 18 item 4): ``policy:`` in the mission says when a plan needs approvals.

Validated like every envelope key (file, line, field); evaluated at plan time and listed
in the plan (text and JSON ``policy`` and ``approval``); apply refuses (exit 7, no request)
a plan the policy asks approvals for until ``skyform approve`` gave them, from distinct
approvers - ``--ack-irreversible`` cannot stand in.
"""

from __future__ import annotations

POLICY = """
    policy: {max_total: 100, max_per_action: 60, currency: EUR, irreversible_approvals: 2}
    resources:
      capture: {type: fake.Thing, spec: {name: capture, cost: 80, irreversible: "a capture once taken is paid"}}
      survey: {type: fake.Thing, spec: {name: survey, cost: 50}}
"""


def test_the_plan_lists_the_policy_and_what_it_asks_for(ws):
    f = ws.write(POLICY)
    ran = ws.run("plan", f)
    assert ran.code == 0, str(ran)
    assert "Policy: max_total 100.00 EUR, max_per_action 60.00 EUR, 2 approvers for irreversible actions." in ran.out
    assert (
        "Approval needed: irreversible: capture (create); policy.max_total: the estimated total 130.00 EUR is above "
        "100.00; policy.max_per_action: capture 80.00 EUR is above 60.00; apply needs 2 approval(s) of this plan"
    ) in ran.out, ran.out
    plan = ws.run("plan", "--json", f).json_lines()[0]
    assert plan["policy"] == {
        "max_total": 100.0,
        "max_per_action": 60.0,
        "currency": "EUR",
        "irreversible_approvals": 2,
    }
    assert plan["approval"]["needed"] is True and plan["approval"]["approvers"] == 2
    assert plan["approval"]["ack"] is False
    assert plan["approval"]["why"][1:] == [
        "policy.max_total: the estimated total 130.00 EUR is above 100.00",
        "policy.max_per_action: capture 80.00 EUR is above 60.00",
    ]


def test_within_the_policy_nothing_is_asked(ws):
    f = ws.write(POLICY.replace('cost: 80, irreversible: "a capture once taken is paid"', "cost: 10"))
    plan = ws.run("plan", "--json", f).json_lines()[0]
    assert plan["approval"]["needed"] is False and plan["approval"]["why"] == []


def test_a_bad_policy_is_reported_with_file_line_and_field(ws):
    f = ws.write("""
        policy: {max_total: -5, irreversible_approvals: zero}
        resources:
          a: {type: fake.Thing, spec: {name: a}}
    """)
    ran = ws.run("validate", f).clean()
    assert ran.code == 3, str(ran)
    assert "mission.yaml:4:1: policy: max_total needs currency as well [mission]" in ran.err
    assert "3 errors found." in ran.err  # every problem in one run
    assert "mission.yaml:4:10: policy.max_total: max_total must be at least 0, not -5" in ran.err
    assert (
        "mission.yaml:4:25: policy.irreversible_approvals: irreversible_approvals must be an integer, "
        "not the string 'zero'"
    ) in ran.err


def test_apply_needs_the_policys_approvers_and_no_ack_stands_in(ws, served):
    f, service = served(POLICY)
    ran = ws.run("apply", "--auto-approve", "--ack-irreversible", f).clean()
    assert ran.code == 7, str(ran)
    assert "the mission's policy needs 2 approval(s) of this plan and it has 0" in ran.err
    assert "--ack-irreversible cannot stand in for a policy" in ran.err
    assert service.requests == 0 and ws.records() == {}
    out = ws.path / "plan.json"
    assert ws.run("plan", "-o", str(out), f).code == 0
    assert ws.run("approve", str(out), "--as", "alice").code == 0
    ran = ws.run("apply", str(out)).clean()
    assert ran.code == 7 and "needs 2 approval(s) of this plan and it has 1" in ran.err, str(ran)
    assert ws.run("approve", str(out), "--as", "alice").code == 0  # the same person twice counts once
    assert ws.run("apply", str(out)).clean().code == 7
    assert service.requests == 0
    assert ws.run("approve", str(out), "--as", "bob").code == 0
    ran = ws.run("apply", str(out))
    assert ran.code == 0, str(ran)
    assert len(service.data["objects"]) == 2
    assert all(a.used_at is not None for a in ws.store().approvals("mission"))
