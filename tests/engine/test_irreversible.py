"""Irreversibility in the plan (issue 18 item 3): the classes kinds declare, the marks, the ack.

A kind declares per action whether it is reversible, cancellable until a moment, or
irreversible; the plan marks each (``!`` and the reason, in text and JSON), and apply of a
plan with an irreversible action refuses (exit 7) before the prompt and before any request
unless ``--ack-irreversible`` says go. Against the fake service over real HTTP, a refused
apply is seen to send nothing; a refused destroy deletes nothing.
"""

from __future__ import annotations

from skyform.plan.model import Plan

MISSION = """
    resources:
      capture: {type: fake.Thing, spec: {name: capture, irreversible: "a capture once taken is paid"}}
      notes: {type: fake.Thing, spec: {name: notes}}
"""


def test_the_plan_marks_each_irreversible_action_with_its_reason(ws):
    f = ws.write(MISSION)
    ran = ws.run("plan", "--sandbox", f)
    assert ran.code == 0, str(ran)
    lines = ran.out.splitlines()
    at = lines.index("+ capture (fake.Thing) will be created  # not in state")
    assert lines[at + 1] == "    ! irreversible: a capture once taken is paid"
    assert "Irreversible: 1 action cannot be undone: capture (create: a capture once taken is paid)." in ran.out
    assert "against the real services apply needs --ack-irreversible" in ran.out
    assert "notes" not in ran.out.split("Irreversible:")[1]


def test_the_json_plan_lists_the_irreversible_actions(ws):
    f = ws.write(MISSION)
    plan = ws.run("plan", "--sandbox", "--json", f).json_lines()[0]
    assert plan["irreversible"] == [
        {"address": "capture", "action": "create", "class": "irreversible", "reason": "a capture once taken is paid"}
    ]
    by_address = {a["address"]: a for a in plan["actions"]}
    assert by_address["capture"]["irreversibility"] == {
        "class": "irreversible",
        "reason": "a capture once taken is paid",
    }
    assert "irreversibility" not in by_address["notes"]


def test_apply_without_the_ack_refuses_before_any_request(ws, tmp_path, served):
    f, service = served(MISSION)
    ran = ws.run("apply", "--auto-approve", f).clean()
    assert ran.code == 7, str(ran)
    assert (
        "the plan has 1 irreversible action and nothing acknowledged it; nothing was sent: "
        "capture (create: a capture once taken is paid)"
    ) in ran.err
    assert "--ack-irreversible" in ran.err  # the hint says how to go ahead
    assert service.requests == 0
    assert ws.records() == {}
    ran = ws.run("apply", "--auto-approve", "--ack-irreversible", f)
    assert ran.code == 0, str(ran)
    assert len(service.data["objects"]) == 2


def test_a_saved_plan_keeps_its_marks_and_needs_the_ack_too(ws, tmp_path, served):
    f, service = served(MISSION)
    out = ws.path / "plan.json"
    assert ws.run("plan", "-o", str(out), f).code == 0
    saved = Plan.load(out)
    assert [a.address for a in saved.actions if a.irreversibility] == ["capture"]
    assert Plan.from_json(saved.to_json()) == saved
    requests = service.requests
    ran = ws.run("apply", str(out)).clean()
    assert ran.code == 7, str(ran)
    assert "nothing was sent" in ran.err
    assert service.requests == requests and ws.records() == {}
    assert ws.run("apply", "--ack-irreversible", str(out)).code == 0
    assert len(service.data["objects"]) == 2


def test_destroy_says_which_deletions_lose_data_and_refuses_without_the_ack(ws, tmp_path, served):
    f, service = served(MISSION)
    assert ws.run("apply", "--auto-approve", "--ack-irreversible", f).code == 0
    plan = ws.run("plan", "--destroy", f)
    assert (
        "Irreversible: 1 deletion loses data or money that cannot be recovered: "
        "capture (delete: a capture once taken is paid)."
    ) in plan.out, plan.out
    ran = ws.run("destroy", "--auto-approve", f).clean()
    assert ran.code == 7, str(ran)
    assert len(service.data["objects"]) == 2  # nothing deleted
    assert set(ws.records()) == {"capture", "notes"}
    assert ws.run("destroy", "--auto-approve", "--ack-irreversible", f).code == 0
    assert service.data["objects"] == {}


def test_the_sandbox_needs_no_ack_and_reversible_plans_never_do(ws, tmp_path, served):
    f = ws.write(MISSION)
    assert ws.run("apply", "--sandbox", "--auto-approve", f).code == 0  # simulated: nothing billed
    g, service = served("resources:\n  notes: {type: fake.Thing, spec: {name: notes}}\n")
    ran = ws.run("apply", "--auto-approve", "--state", f"sqlite:///{tmp_path / 'real.db'}", g)
    assert ran.code == 0, str(ran)
    assert len(service.data["objects"]) == 1
