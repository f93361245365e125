"""Approvals bound to one plan (issue 18 item 4): ``skyform approve PLANFILE`` and its refusals.

Against the fake service over real HTTP (a real run, not --sandbox): an approved saved plan
with an irreversible action applies without ``--ack-irreversible``; a re-plan, a state that
moved, an expired, a used and an over-cap approval are each refused (exit 7) with a message
naming what changed, and not one request reaches the service when refused.
"""

from __future__ import annotations

import json
import time

from skyform.approvals.binding import plan_digest
from skyform.plan.model import Plan

from .conftest import COSTLY, planned


def test_an_approved_plan_applies_once_without_the_ack(ws, tmp_path, served):
    f, service = served(COSTLY)
    out = planned(ws, f)
    ran = ws.run("approve", str(out), "--as", "alice", "--expires", "2h", "--max-cost", "150")
    assert ran.code == 0, str(ran)
    assert "as alice" in ran.out and "irreversible: capture" in ran.out and "usable once" in ran.out
    assert "cost: 100.00 EUR (cap 150.00)" in ran.out
    [approval] = ws.store().approvals("mission")
    assert approval.plan_digest == plan_digest(Plan.load(out)) and approval.serial == 0
    assert approval.irreversible == ("capture",) and approval.cost == {"EUR": 100.0}
    assert 7199 < approval.expires_at - approval.created_at <= 7200
    ran = ws.run("apply", str(out))
    assert ran.code == 0, str(ran)
    assert len(service.data["objects"]) == 2
    assert ws.store().approvals("mission")[0].used_at is not None


def test_a_used_approval_is_refused(ws, tmp_path, served):
    """The conditional update that uses an approval lets one apply through; the next is refused."""
    f, service = served(COSTLY)
    out = planned(ws, f)
    assert ws.run("approve", str(out), "--as", "alice").code == 0
    store = ws.store()
    [approval] = store.approvals("mission")
    assert store.use_approval(approval.id, time.time())  # another apply used it first
    store.close()
    ran = ws.run("apply", str(out)).clean()
    assert ran.code == 7, str(ran)
    assert f"approval {approval.id} by alice: it was already used by an apply at" in ran.err
    assert "(an approval is usable once)" in ran.err and "nothing was sent" in ran.err
    assert service.requests == 0 and ws.records() == {}


def test_an_expired_approval_is_refused(ws, tmp_path, served):
    f, service = served(COSTLY)
    out = planned(ws, f)
    assert ws.run("approve", str(out), "--as", "alice", "--expires", "1s").code == 0
    time.sleep(1.2)
    ran = ws.run("apply", str(out)).clean()
    assert ran.code == 7, str(ran)
    assert "by alice: it expired at " in ran.err
    assert service.requests == 0 and ws.records() == {}


def test_an_approval_above_its_cost_cap_is_refused(ws, tmp_path, served):
    f, service = served(COSTLY)
    out = planned(ws, f)
    ran = ws.run("approve", str(out), "--as", "alice", "--max-cost", "50")
    assert ran.code == 0 and "above --max-cost: apply will refuse it" in ran.err
    ran = ws.run("apply", str(out)).clean()
    assert ran.code == 7, str(ran)
    assert "the plan's estimated total 100.00 EUR is above the approved cap 50.00" in ran.err
    assert service.requests == 0 and ws.records() == {}


def test_a_re_plan_needs_its_own_approval(ws, tmp_path, served):
    f, service = served(COSTLY)
    first = planned(ws, f, "first.json")
    assert ws.run("approve", str(first), "--as", "alice").code == 0
    second = planned(ws, f, "second.json")  # the same actions, planned again: another plan
    ran = ws.run("apply", str(second)).clean()
    assert ran.code == 7, str(ran)
    assert "no approval of this plan exists; approval " in ran.err
    assert "by alice" in ran.err and "is of another plan of this mission: the plan was made again since" in ran.err
    assert service.requests == 0 and ws.records() == {}


def test_a_state_change_voids_the_approval(ws, tmp_path, served):
    f, service = served(COSTLY)
    out = planned(ws, f)
    assert ws.run("approve", str(out), "--as", "alice").code == 0
    assert ws.run("apply", "--auto-approve", "--ack-irreversible", "--target", "notes", f).code == 0
    requests = service.requests
    ran = ws.run("apply", str(out)).clean()
    assert ran.code == 7, str(ran)
    assert "the saved plan is stale: it was made against state serial 0, the state is now at serial" in ran.err
    assert service.requests == requests and set(ws.records()) == {"notes"}
    assert ws.store().approvals("mission")[0].used_at is None  # a refused apply uses nothing


def test_approving_a_stale_plan_is_refused(ws, tmp_path, served):
    f, _service = served(COSTLY)
    out = planned(ws, f)
    assert ws.run("apply", "--auto-approve", "--target", "notes", f).code == 0
    ran = ws.run("approve", str(out)).clean()
    assert ran.code == 7, str(ran)
    assert "the plan is stale: it was made against state serial 0" in ran.err and "nothing was approved" in ran.err
    assert ws.store().approvals("mission") == []


def test_approve_json_and_bad_expiry(ws, tmp_path, served):
    f = ws.write(COSTLY)
    out = ws.path / "plan.json"
    assert ws.run("plan", "--sandbox", "-o", str(out), f).code == 0
    ran = ws.run("approve", str(out), "--json", "--as", "bob")
    assert ran.code == 0, str(ran)
    shown = json.loads(ran.out)
    assert shown["event"] == "approval" and shown["approver"] == "bob" and shown["irreversible"] == ["capture"]
    bad = ws.run("approve", str(out), "--expires", "soon").clean()
    assert bad.code == 64 and "--expires 'soon' is not a duration" in bad.err
