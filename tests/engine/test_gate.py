"""One gate for every apply (issue 18, trust gaps): the engine decides, not the CLI.

``Session.apply`` - the Python API, and what gitops calls - refuses what ``skyform apply``
refuses, with the same message and exit code, before any request: an irreversible plan
without ``acknowledged=True`` or an approval offered explicitly, a policy's approvals that
no ack stands in for. Approvals can be listed and revoked (``skyform approvals``); a revoked
one is refused by name, and an approval's cap holds against the plan's estimate computed
again at apply (a changed price list voids it). Against the fake service over real HTTP.
"""

from __future__ import annotations

import json
import time

import pytest

from skyform.api import Options, Session
from skyform.approvals.binding import authorize
from skyform.approvals.gate import StoredApprovals
from skyform.errors import ExitCode, PlanRefused
from skyform.plan.model import Plan

from .conftest import COSTLY, planned


def test_the_api_refuses_an_irreversible_plan_nobody_acknowledged(ws, served):
    f, service = served(COSTLY)
    with Session(f, Options()) as session:
        plan = session.plan()
        before = service.requests
        with pytest.raises(PlanRefused) as refused:
            session.apply(plan)
        assert refused.value.exit_code == ExitCode.REFUSED == 7
        assert refused.value.message.startswith(
            "the plan has 1 irreversible action and nothing acknowledged it; nothing was sent: capture (create: "
        )
        assert service.requests == before and ws.records() == {}
        outcome = session.apply(plan, acknowledged=True)  # the operator's ack, as --ack-irreversible
    assert outcome.ok and set(ws.records()) == {"capture", "notes"}


def test_the_api_gives_a_policy_only_the_approvals_it_asks_for(ws, served):
    f, _service = served(COSTLY + "    policy: {irreversible_approvals: 2}\n")
    with Session(f, Options()) as session:
        plan = session.plan()
        with pytest.raises(PlanRefused) as refused:
            session.apply(plan, acknowledged=True)
    assert "the mission's policy needs 2 approval(s) of this plan and it has 0" in refused.value.message
    assert ws.records() == {}


def test_the_api_applies_a_saved_plan_with_its_approval_offered(ws, served):
    f, _service = served(COSTLY)
    out = planned(ws, f)
    assert ws.run("approve", str(out), "--as", "alice").code == 0
    with Session(f, Options()) as session:
        with pytest.raises(PlanRefused) as refused:  # an approval exists, but none was offered
            session.apply(Plan.load(out))
        assert "nothing acknowledged it" in refused.value.message and ws.records() == {}
        outcome = session.apply(Plan.load(out), approval=StoredApprovals())
    assert outcome.ok and set(ws.records()) == {"capture", "notes"}
    assert ws.store().approvals("mission")[0].used_at is not None


def test_approvals_ls_shows_digest_who_expiry_cap_and_use(ws, served):
    f, _service = served(COSTLY)
    out = planned(ws, f)
    assert ws.run("approve", str(out), "--as", "alice", "--max-cost", "150").code == 0
    [approval] = ws.store().approvals("mission")
    ran = ws.run("approvals", "ls", str(ws.path))
    assert ran.code == 0, str(ran)
    [header, row] = ran.out.strip().splitlines()
    assert header.split() == ["ID", "PLAN", "BY", "APPROVED", "EXPIRES", "CAP", "STATUS"]
    assert row.startswith(f"{approval.id}  {approval.plan_digest[:19]}  alice ") and row.endswith("150.00  unused")
    assert ws.run("apply", str(out)).code == 0
    [shown] = json.loads(ws.run("approvals", "ls", str(ws.path), "--json").out)
    assert shown["id"] == approval.id and shown["approver"] == "alice" and shown["max_cost"] == 150.0
    assert shown["status"] == "used" and shown["used_at"] is not None and shown["revoked_at"] is None
    assert shown["plan_digest"] == approval.plan_digest and shown["expires_at"] == approval.expires_at


def test_a_revoked_approval_is_refused_by_name(ws, served):
    f, service = served(COSTLY)
    out = planned(ws, f)
    assert ws.run("approve", str(out), "--as", "alice").code == 0
    [approval] = ws.store().approvals("mission")
    ran = ws.run("approvals", "revoke", str(ws.path), approval.id, "--as", "bob")
    assert ran.code == 0, str(ran)
    assert f"Revoked approval {approval.id} by alice of plan {approval.plan_digest[:19]}" in ran.out
    assert "revoked by bob at " in ran.out
    before = service.requests
    ran = ws.run("apply", str(out)).clean()
    assert ran.code == 7, str(ran)
    assert f"approval {approval.id} by alice: it was revoked by bob at " in ran.err and "nothing was sent" in ran.err
    assert service.requests == before and ws.records() == {}
    [shown] = json.loads(ws.run("approvals", "ls", str(ws.path), "--json").out)
    assert shown["status"] == "revoked" and shown["revoked_by"] == "bob" and shown["used_at"] is None


def test_revoking_an_unknown_approval_is_a_usage_error(ws, served):
    _f, _service = served(COSTLY)
    ran = ws.run("approvals", "revoke", str(ws.path), "nope").clean()
    assert ran.code == 64, str(ran)
    assert "no approval 'nope' in the state of mission" in ran.err


def test_the_cap_holds_against_the_estimate_made_again_at_apply(ws, served):
    """Approved at 100 EUR under a cap of 150: a price list that now makes it 200 voids it,
    and without a cap so does any rise above the cost that was approved."""
    f, _service = served(COSTLY)
    out = planned(ws, f)
    assert ws.run("approve", str(out), "--as", "alice", "--max-cost", "150").code == 0
    plan, store = Plan.load(out), ws.store()
    try:
        assert [a.approver for a in authorize(store, plan, fresh_cost=lambda: {"EUR": 100.0})] == ["alice"]
        with pytest.raises(PlanRefused) as refused:
            authorize(store, plan, fresh_cost=lambda: {"EUR": 200.0})
        assert (
            "by alice: the plan's total estimated again now, 200.00 EUR, is above the approved cap 150.00 "
            "(the prices changed since the plan was made)"
        ) in refused.value.message
        [approval] = store.approvals("mission")
        store.revoke_approval(approval.id, time.time(), "test")
    finally:
        store.close()
    out = planned(ws, f, "again.json")
    assert ws.run("approve", str(out), "--as", "alice").code == 0  # no cap
    plan, store = Plan.load(out), ws.store()
    try:
        with pytest.raises(PlanRefused) as refused:
            authorize(store, plan, fresh_cost=lambda: {"EUR": 120.0})
    finally:
        store.close()
    assert "estimated again now, 120.00 EUR, is above the 100.00 that was approved" in refused.value.message


def test_apply_of_an_approved_plan_estimates_it_again(ws, served):
    """The estimate computed again at apply is the plan's, with today's prices."""
    f, _service = served(COSTLY)
    out = planned(ws, f)
    with Session(f, Options()) as session:
        assert session.fresh_cost(Plan.load(out)) == {"EUR": 100.0}
