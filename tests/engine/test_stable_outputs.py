"""Stable outputs: an in-place update of a parent keeps the outputs its kind declares stable,
so a child that uses only those is not replaced (ResourceKind.stable_outputs, kept_outputs).

fake.Thing's ``name`` and ``immutable_field`` force a replace; its ``value`` updates in place.
Its outputs are ``id`` (stable by default), ``name`` and ``value`` (changed by an update).
"""

from __future__ import annotations

import json

import pytest

FAMILY = """
    resources:
      parent: {type: fake.Thing, spec: {name: parent, value: 1}}
      child: {type: fake.Thing, spec: {name: child, immutable_field: "${{ resources.parent.outputs.id }}"}}
      reader: {type: fake.Thing, spec: {name: reader, value: "${{ resources.parent.outputs.value }}"}}
"""


def _plan(ws):
    ran = ws.run("plan", "--sandbox", "--json", ws.path)
    assert ran.code in (0, 2), str(ran)
    (line,) = [line for line in ran.json_lines() if line.get("event") == "plan"]
    return {a["address"]: a for a in line["actions"]}


def _ids(ws):
    return {o["name"]: o["id"] for o in ws.remote_objects()}


def test_updating_a_parent_in_place_keeps_the_child_that_uses_its_id(ws):
    """The parent's value changes in place: its id stays known, so the child whose immutable
    field holds that id is a no-op (not a replace); a resource reading the changing output is
    an update with that value known after apply. Apply does exactly that."""
    ws.write(FAMILY)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    before = _ids(ws)
    ws.write(FAMILY.replace("value: 1}", "value: 2}"))
    plan = _plan(ws)
    assert plan["parent"]["action"] == "update"
    assert (plan["child"]["action"], plan["child"]["reason"]) == ("noop", "up to date"), plan["child"]
    assert plan["reader"]["action"] == "update"
    assert plan["reader"]["changes"] == [
        {"path": ["value"], "before": 1, "after": {"$unknown": "${{ resources.parent.outputs.value }}"}}
    ]
    applied = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert applied.code == 0, str(applied)
    assert _ids(ws) == before  # nothing deleted or recreated
    assert ws.remote()["deleted"] == 0
    assert {o["name"]: o.get("value") for o in ws.remote_objects()}["reader"] == 2
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_replacing_a_parent_still_replaces_the_child(ws):
    """A replace makes a new remote object: its id is known after apply, and the child that
    holds it in an immutable field is replaced too."""
    ws.write(FAMILY)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    ws.write(FAMILY.replace("{name: parent, value: 1}", "{name: parent, value: 1, immutable_field: y}"))
    plan = _plan(ws)
    assert plan["parent"]["action"] == "replace"
    assert plan["child"]["action"] == "replace"
    assert plan["child"]["changes"][0]["after"] == {"$unknown": "${{ resources.parent.outputs.id }}"}


def test_a_drift_corrected_in_place_keeps_the_child(ws):
    """A value changed outside skyform is corrected by an in-place update: the child stays."""
    ws.write(FAMILY)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    ws.edit_remote(_ids(ws)["parent"], value=99)
    plan = _plan(ws)
    assert (plan["parent"]["action"], plan["parent"]["reason"]) == ("update", "changed outside skyform")
    assert plan["child"]["action"] == "noop", plan["child"]


@pytest.fixture
def value_declared_stable(monkeypatch):
    """fake.Thing wrongly declaring ``value`` stable: its updates do change it."""
    from fakeprov.provider import Thing

    monkeypatch.setattr(Thing, "stable_outputs", frozenset({"id", "value"}))


def test_an_update_that_changes_a_declared_stable_output_stops_its_dependents(ws, value_declared_stable):
    """The plan showed the reader unchanged (value declared stable); the update changed the value
    anyway: the parent fails naming the output, the reader is not applied, and the next plan
    shows the reader's real change."""
    ws.write(FAMILY)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    ws.write(FAMILY.replace("value: 1}", "value: 2}"))
    assert _plan(ws)["reader"]["action"] == "noop"
    applied = ws.run("apply", "--sandbox", "--auto-approve", "--json", ws.path).clean()
    assert applied.code != 0, str(applied)
    events = applied.json_lines()
    failed = [e for e in events if e.get("event") == "transition" and e.get("after") == "failed"]
    assert [e["address"] for e in failed] == ["parent"], json.dumps(events)
    assert "the update changed output(s) value, which fake.Thing declares stable" in failed[0]["error"]
    assert {o["name"]: o.get("value") for o in ws.remote_objects()}["reader"] == 1
    assert ws.records()["parent"].outputs["value"] == 2  # state tells the truth
    assert _plan(ws)["reader"]["action"] == "update"


def test_a_replace_names_the_field_that_forces_it(ws):
    """A kind that decides without a note: the plan says which immutable field forces the replace."""
    ws.write(FAMILY)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    ws.write(FAMILY.replace("{name: parent, value: 1}", "{name: parent, value: 2, immutable_field: y}"))
    parent = _plan(ws)["parent"]
    assert parent["action"] == "replace"
    assert parent["notes"] == ["immutable_field cannot change in place"]
    ran = ws.run("plan", "--sandbox", ws.path)
    assert "    note: immutable_field cannot change in place" in ran.out, str(ran)
