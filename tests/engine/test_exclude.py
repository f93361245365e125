"""`--exclude ID` (OpenTofu's `-exclude`): everything except ID and what depends on it.

In a destroy the graph runs the other way: an excluded resource is kept, and with it what it
depends on (a kept child keeps its parents). The plan names what was left out, a saved plan
keeps the exclusion, and the pure selection is tested on its own.
"""

from __future__ import annotations

from skyform.plan.targeting import select

CHAIN = """
    resources:
      a: {type: fake.Thing, spec: {name: a}}
      b: {type: fake.Thing, spec: {name: "${{ resources.a.outputs.name }}-b"}}
      c: {type: fake.Thing, spec: {name: "${{ resources.b.outputs.name }}-c"}}
      other: {type: fake.Thing, spec: {name: other}}
"""


def names(ws):
    return sorted(o["name"] for o in ws.remote_objects())


def test_select_apply_and_destroy_directions():
    """Apply: an exclusion takes its dependents along; destroy: it keeps its dependencies."""
    deps = {"a": [], "b": ["a"], "c": ["b"], "other": []}
    every = list(deps)
    apply_sel = select(deps, every, excludes=["b"])
    assert set(apply_sel.chosen) == {"a", "other"} and apply_sel.excluded == ("b", "c")
    destroy_sel = select(deps, every, excludes=["b"], destroy=True)
    assert set(destroy_sel.chosen) == {"c", "other"} and destroy_sel.excluded == ("a", "b")
    both = select(deps, every, targets=["c"], excludes=["c"])
    assert set(both.chosen) == {"a", "b"} and both.excluded == ("c",)
    assert set(select(deps, every).chosen) == set(every) and select(deps, every).excluded == ()


def test_plan_and_apply_leave_out_the_excluded_and_their_dependents(ws):
    """`--exclude b` plans a and other, names b and c as excluded, and applies only a and other."""
    ws.write(CHAIN)
    plan = ws.run("plan", "--sandbox", "--exclude", "b", ws.path).clean()
    assert plan.code == 0, str(plan)
    assert "+ a (fake.Thing)" in plan.out and "+ other (fake.Thing)" in plan.out
    assert "+ b " not in plan.out and "+ c " not in plan.out
    assert "Excluded by --exclude b: b, c (not planned; left as they are)." in plan.out
    assert "Plan: 2 to create" in plan.out
    (data,) = ws.run("plan", "--sandbox", "--exclude", "b", "--json", ws.path).json_lines()
    assert [a["address"] for a in data["actions"]] == ["a", "other"]
    assert data["excludes"] == ["b"] and data["excluded"] == ["b", "c"]
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--exclude", "b", ws.path).clean()
    assert ran.code == 0, str(ran)
    assert names(ws) == ["a", "other"]
    rest = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert "Resources: 2 created" in rest.out and names(ws) == ["a", "a-b", "a-b-c", "other"]


def test_excluded_changes_stay_unapplied(ws):
    """A changed resource that is excluded keeps its old value; the rest is updated."""
    ws.write(CHAIN)
    ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    ws.write(CHAIN.replace("{name: a}", "{name: a, value: 2}").replace("{name: other}", "{name: other, value: 2}"))
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--exclude", "a", ws.path).clean()
    assert ran.code == 0 and "Resources: 0 created, 1 updated" in ran.out, str(ran)
    values = {o["name"]: o.get("value") for o in ws.remote_objects()}
    assert values["other"] == 2 and values["a"] is None


def test_destroy_keeps_the_excluded_and_what_it_depends_on(ws):
    """`destroy --exclude b` deletes c and other, and keeps b and its parent a."""
    ws.write(CHAIN)
    ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    plan = ws.run("plan", "--sandbox", "--destroy", "--exclude", "b", ws.path).clean()
    assert "Excluded by --exclude b: a, b (not planned; left as they are)." in plan.out, str(plan)
    ran = ws.run("destroy", "--sandbox", "--auto-approve", "--exclude", "b", ws.path).clean()
    assert ran.code == 0 and "Destroy complete! Resources: 2 deleted." in ran.out, str(ran)
    assert names(ws) == ["a", "a-b"]
    assert sorted(ws.records()) == ["a", "b"]


def test_an_excluded_orphan_is_not_deleted(ws):
    """A resource removed from the mission but excluded stays in the service and in state."""
    ws.write(CHAIN)
    ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    ws.write(CHAIN.replace("      other: {type: fake.Thing, spec: {name: other}}\n", ""))
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--exclude", "other", ws.path).clean()
    assert ran.code == 0 and "No changes." in ran.out, str(ran)
    assert "other" in names(ws) and "other" in ws.records()


def test_a_saved_plan_keeps_its_exclusion(ws, tmp_path):
    """`plan --exclude b -o FILE` then `apply FILE` applies exactly the plan: b and c untouched."""
    ws.write(CHAIN)
    out = tmp_path / "p.json"
    assert ws.run("plan", "--sandbox", "--exclude", "b", "-o", out, ws.path).code == 0
    ran = ws.run("apply", "--sandbox", out).clean()
    assert ran.code == 0, str(ran)
    assert names(ws) == ["a", "other"]
