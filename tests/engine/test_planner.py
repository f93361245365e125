"""The planner through the CLI: (desired, recorded, observed) -> actions, with SQLite state and the fake service.

Each table row applies a first spec (recording state and remote objects), optionally changes
the remote objects behind skyform's back (observed), then plans a second spec (desired) and
compares the plan's actions, reasons and field changes.
"""

from __future__ import annotations

import json

import pytest

BASE = """
    resources:
      a: {type: fake.Thing, spec: {name: a, value: 1, immutable_field: x}}
      b: {type: fake.Thing, spec: {name: b, value: "${{ resources.a.outputs.value }}"}}
"""


def plan_json(ws, *flags):
    ran = ws.run("plan", "--sandbox", "--json", *flags, ws.path)
    assert ran.code in (0, 2), str(ran)
    (line,) = [line for line in ran.json_lines() if line.get("event") == "plan"]
    return line


def actions(plan):
    return {a["address"]: a for a in plan["actions"]}


def apply_ok(ws, *flags):
    ran = ws.run("apply", "--sandbox", "--auto-approve", *flags, ws.path)
    assert ran.code == 0, str(ran)
    return ran


def _set_remote_value(ws, name, value):
    obj = next(o for o in ws.remote_objects() if o["name"] == name)
    ws.edit_remote(obj["id"], value=value)


def _drop_remote(ws, name):
    data = ws.remote()
    data["objects"] = {k: o for k, o in data["objects"].items() if o["name"] != name}
    ws.sandbox_file.write_text(json.dumps(data))


# (id, desired spec body, change to the remote objects, expected {address: (action, reason, changes)})
CASES = [
    (
        "unchanged spec is a no-op with its reason",
        BASE,
        None,
        {"a": ("noop", "up to date", None), "b": ("noop", "up to date", None)},
    ),
    (
        "changed field is an update with its diff",
        BASE.replace("value: 1,", "value: 2,"),
        None,
        {
            "a": ("update", "spec changed", [{"path": ["value"], "before": 1, "after": 2}]),
            "b": (
                "update",
                "spec changed",
                [{"path": ["value"], "before": 1, "after": {"$unknown": "${{ resources.a.outputs.value }}"}}],
            ),
        },
    ),
    (
        "immutable field change is a replace",
        BASE.replace("immutable_field: x", "immutable_field: y"),
        None,
        {
            "a": ("replace", "spec changed", [{"path": ["immutable_field"], "before": "x", "after": "y"}]),
            # b reads a's output, which a replace makes unknown again
            "b": (
                "update",
                "spec changed",
                [{"path": ["value"], "before": 1, "after": {"$unknown": "${{ resources.a.outputs.value }}"}}],
            ),
        },
    ),
    (
        "added field is an update from null",
        BASE.replace("value: 1,", "value: 1, cost: 2,"),
        None,
        {"a": ("update", "spec changed", [{"path": ["cost"], "before": None, "after": 2}])},
    ),
    (
        "removed resource is a delete",
        """
        resources:
          a: {type: fake.Thing, spec: {name: a, value: 1, immutable_field: x}}
     """,
        None,
        {"a": ("noop", "up to date", None), "b": ("delete", "removed from the mission", None)},
    ),
    (
        "new resource is a create",
        BASE + "      c: {type: fake.Thing, spec: {name: c}}\n",
        None,
        {"c": ("create", "not in state", None), "a": ("noop", "up to date", None)},
    ),
    (
        "ignore_changes hides a field's change",
        BASE.replace("immutable_field: x}}", "immutable_field: x}, lifecycle: {ignore_changes: [value]}}").replace(
            "value: 1,", "value: 5,"
        ),
        None,
        {"a": ("noop", "up to date", None)},
    ),
    (
        "remote change is drift: an update back to the spec",
        BASE,
        lambda ws: _set_remote_value(ws, "a", 99),
        {"a": ("update", "changed outside skyform", None), "b": ("update", "spec changed", None)},
    ),
    (
        "remote object gone is a create",
        BASE,
        lambda ws: _drop_remote(ws, "a"),
        {"a": ("create", "the remote object no longer exists", None)},
    ),
    (
        "type change is a replace",
        BASE.replace("a: {type: fake.Thing", "a: {type: fake.Job").replace(", immutable_field: x", ""),
        None,
        {"a": ("replace", "type changed from fake.Thing", None)},
    ),
]


@pytest.mark.parametrize("desired,observe,expected", [pytest.param(d, o, e, id=i) for i, d, o, e in CASES])
def test_plan_actions_table(ws, desired, observe, expected):
    """Recorded state + observed remote + desired spec give the documented action, reason and diff."""
    ws.write(BASE)
    apply_ok(ws)
    if observe is not None:
        observe(ws)
    ws.write(desired)
    got = actions(plan_json(ws))
    for address, (action, reason, changes) in expected.items():
        assert got[address]["action"] == action, got[address]
        assert got[address]["reason"].startswith(reason), got[address]
        if changes is not None:
            assert got[address]["changes"] == changes, got[address]


def test_create_from_empty_state_in_dependency_order(ws):
    """Nothing recorded: every resource is a create, dependencies first, ties in spec order."""
    ws.write("""
        resources:
          z: {type: fake.Thing, spec: {name: "${{ resources.y.outputs.name }}"}}
          x: {type: fake.Thing, spec: {name: x}}
          y: {type: fake.Thing, spec: {name: y}}
          w: {type: fake.Thing, spec: {name: w}, depends_on: [z]}
    """)
    plan = plan_json(ws)
    assert [(a["address"], a["action"], a["reason"]) for a in plan["actions"]] == [
        ("x", "create", "not in state"),
        ("y", "create", "not in state"),
        ("z", "create", "not in state"),
        ("w", "create", "not in state"),
    ]
    assert plan["counts"] == {"create": 4}


def test_plan_text_shows_symbols_field_diff_and_summary(ws):
    """The human plan shows `~ value: 1 → 2`, the replace symbol and a Terraform-like summary line."""
    ws.write(BASE)
    apply_ok(ws)
    ws.write(
        BASE.replace("value: 1,", "value: 2,").replace("immutable_field: x", "immutable_field: x")
        + "      c: {type: fake.Thing, spec: {name: c, immutable_field: q}}\n"
    )
    ran = ws.run("plan", "--sandbox", ws.path)
    assert ran.code == 0, str(ran)
    assert "~ a (fake.Thing) will be updated in place  # spec changed" in ran.out
    assert "    ~ value: 1 → 2" in ran.out
    assert "(known after apply)" in ran.out
    assert "+ c (fake.Thing) will be created  # not in state" in ran.out
    assert "Plan: 1 to create, 2 to update, 0 to replace, 0 to delete." in ran.out


def test_update_is_applied_in_place(ws):
    """An update keeps the remote object (same id) and changes its value; the next plan is clean."""
    ws.write(BASE)
    apply_ok(ws)
    before = {o["name"]: o["id"] for o in ws.remote_objects()}
    ws.write(BASE.replace("value: 1,", "value: 2,"))
    apply_ok(ws)
    after = {o["name"]: (o["id"], o["value"]) for o in ws.remote_objects()}
    assert after == {"a": (before["a"], 2), "b": (before["b"], 2)}
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_replace_deletes_then_creates(ws):
    """A replace removes the old remote object and makes a new one; exactly one remains."""
    ws.write(BASE)
    apply_ok(ws)
    old = next(o["id"] for o in ws.remote_objects() if o["name"] == "a")
    ws.write(BASE.replace("immutable_field: x", "immutable_field: y"))
    apply_ok(ws)
    names = sorted(o["name"] for o in ws.remote_objects())
    assert names == ["a", "b"]
    new = next(o["id"] for o in ws.remote_objects() if o["name"] == "a")
    assert new != old and ws.remote()["deleted"] == 1


def test_job_change_is_a_replace_with_the_kinds_note(ws):
    """A kind's plan_change decides: any change to a fake.Job replaces it, with the kind's note."""
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, duration: 1}}\n")
    apply_ok(ws)
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, duration: 2}}\n")
    got = actions(plan_json(ws))["j"]
    assert got["action"] == "replace"
    assert got["notes"] == ["a job cannot change once submitted"]


def test_removed_resource_is_deleted_remotely(ws):
    """Removing a resource from the spec deletes its remote object and its state."""
    ws.write(BASE)
    apply_ok(ws)
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a, value: 1, immutable_field: x}}\n")
    apply_ok(ws)
    assert [o["name"] for o in ws.remote_objects()] == ["a"]
    assert set(ws.records()) == {"a"}


def test_prevent_destroy_refuses_delete_and_replace(ws):
    """prevent_destroy makes a plan that would delete or replace the resource exit 7, naming it."""
    protected = BASE.replace("immutable_field: x}}", "immutable_field: x}, lifecycle: {prevent_destroy: true}}")
    ws.write(protected)
    apply_ok(ws)
    ws.write(protected.replace("immutable_field: x", "immutable_field: y"))
    ran = ws.run("plan", "--sandbox", ws.path).clean()
    assert ran.code == 7, str(ran)
    assert "lifecycle.prevent_destroy forbids this plan: a (replace: spec changed)" in ran.err
    assert "hint: remove prevent_destroy" in ran.err
    ws.write(protected)
    ran = ws.run("destroy", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 7, str(ran)
    assert "a (delete: destroy)" in ran.err
    # removed from the spec: the recorded lifecycle still protects it
    ws.write("resources:\n  b: {type: fake.Thing, spec: {name: b}}\n")
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 7, str(ran)
    assert "a (delete: removed from the mission)" in ran.err
    assert len(ws.remote_objects()) == 2


def test_drift_in_the_service_state_file_is_detected_by_refresh_only(ws):
    """A value changed in the simulator's state file: `plan --refresh-only --detailed-exitcode` exits 2."""
    ws.write(BASE)
    apply_ok(ws)
    assert ws.run("plan", "--sandbox", "--refresh-only", "--detailed-exitcode", ws.path).code == 0
    _set_remote_value(ws, "a", 42)
    ran = ws.run("plan", "--sandbox", "--refresh-only", "--detailed-exitcode", ws.path)
    assert ran.code == 2, str(ran)
    assert "! value changed outside skyform: recorded 1, now 42" in ran.out
    assert "Drift: 1 resource(s) changed outside skyform." in ran.out
    # accepting the drift records it; the refresh-only plan is then clean
    assert ws.run("apply", "--sandbox", "--refresh-only", "--auto-approve", ws.path).code == 0
    assert ws.run("plan", "--sandbox", "--refresh-only", "--detailed-exitcode", ws.path).code == 0


def test_drift_made_through_the_service_api_is_detected(ws):
    """A change made over the service's HTTP API between runs is drift, and apply puts it back."""
    import httpx
    from fakeprov.simulator import TOKEN, FakeSimulator

    from skyform.sandbox.host import SimulatorHost
    from skyform.sandbox.simulator import SimulatorOptions

    ws.write(BASE)
    apply_ok(ws)
    oid = next(o["id"] for o in ws.remote_objects() if o["name"] == "b")
    with SimulatorHost() as host:
        running = host.start(FakeSimulator(SimulatorOptions(state_dir=ws.sandbox_file.parent)))
        r = httpx.patch(
            f"{running.base_url}/objects/{oid}", json={"value": "edited"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert r.status_code == 200
    ran = ws.run("plan", "--sandbox", "--refresh-only", "--detailed-exitcode", ws.path)
    assert ran.code == 2, str(ran)
    got = actions(plan_json(ws))["b"]
    assert got["action"] == "update" and got["reason"] == "changed outside skyform"
    assert got["drift"] == [{"path": ["value"], "before": "edited", "after": 1}]
    apply_ok(ws)
    assert next(o for o in ws.remote_objects() if o["id"] == oid)["value"] == 1
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_refresh_false_does_not_read_the_service(ws, monkeypatch):
    """`--refresh=false` plans from state alone: drift is not seen, and the service is not read (a 404 on
    every read would otherwise make the objects look gone)."""
    ws.write(BASE)
    apply_ok(ws)
    _set_remote_value(ws, "a", 42)
    ran = ws.run("plan", "--sandbox", "--refresh=false", "--detailed-exitcode", ws.path)
    assert ran.code == 0, str(ran)
    monkeypatch.setenv(
        "SKYFORM_SANDBOX_FAULTS",
        json.dumps([{"provider": "fake", "match": "^GET /objects/", "fault": "status", "status": 404}]),
    )
    ran = ws.run("plan", "--sandbox", "--refresh=false", "--detailed-exitcode", ws.path)
    assert ran.code == 0, str(ran)
    got = actions(plan_json(ws))
    assert got["a"]["reason"] == "the remote object no longer exists"


def test_target_limits_the_plan_to_the_resource_and_its_dependencies(ws):
    """`--target c` plans c and what it depends on, nothing else; an unknown target is an error."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          b: {type: fake.Thing, spec: {name: b}}
          c: {type: fake.Thing, spec: {name: "${{ resources.a.outputs.name }}-c"}}
    """)
    plan = plan_json(ws, "--target", "c")
    assert [a["address"] for a in plan["actions"]] == ["a", "c"]
    apply_ok(ws, "--target", "c")
    assert sorted(o["name"] for o in ws.remote_objects()) == ["a", "a-c"]
    ran = ws.run("plan", "--sandbox", "--target", "cc", ws.path).clean()
    assert (
        ran.code == 64
        and "--target 'cc': no resource 'cc' in the mission or its state" in ran.err
        and "did you mean 'c'?" in ran.err
    )


def test_saved_plan_is_applied_exactly(ws):
    """`apply FILE` carries out the saved actions, not a new plan: a spec resource added later is not created."""
    ws.write(BASE)
    ran = ws.run("plan", "--sandbox", "-o", ws.path / "p.json", "--target", "a", ws.path)
    assert ran.code == 0, str(ran)
    assert "Saved the plan to" in ran.out
    ran = ws.run("apply", "--sandbox", ws.path / "p.json")
    assert ran.code == 0, str(ran)
    assert [o["name"] for o in ws.remote_objects()] == ["a"]


def test_stale_saved_plan_is_refused(ws):
    """A saved plan whose state moved on (another apply) is refused with exit 7 and no change."""
    ws.write(BASE)
    assert ws.run("plan", "--sandbox", "-o", ws.path / "p.json", ws.path).code == 0
    apply_ok(ws)
    creates = ws.remote()["creates"]
    ran = ws.run("apply", "--sandbox", ws.path / "p.json").clean()
    assert ran.code == 7, str(ran)
    assert "the saved plan is stale: it was made against state serial 0" in ran.err
    assert "hint: run `skyform plan` again" in ran.err
    assert ws.remote()["creates"] == creates


def test_saved_plan_of_other_mission_files_is_refused(ws):
    """A saved plan made before the mission files changed is refused with exit 7."""
    ws.write(BASE)
    assert ws.run("plan", "--sandbox", "-o", ws.path / "p.json", ws.path).code == 0
    ws.write(BASE.replace("value: 1,", "value: 3,"))
    ran = ws.run("apply", "--sandbox", ws.path / "p.json").clean()
    assert ran.code == 7, str(ran)
    assert "the saved plan was made from a different version of the mission files" in ran.err
    assert ws.remote_objects() == []


def test_garbage_plan_file_is_refused(ws):
    """A file without a plan's header is no plan (nor a mission): refused with a message naming it;
    one with the header but damaged is refused as a damaged plan (tests/engine/test_plan_file.py)."""
    ws.write(BASE)
    bad = ws.path / "p.json"
    bad.write_text('{"format": 99}')
    ran = ws.run("apply", bad).clean()
    assert ran.code == 64 and f"{bad} is neither a saved plan nor a mission" in ran.err
    bad.write_text('{"format": "skyform-plan", not json')
    ran = ws.run("apply", bad).clean()
    assert ran.code == 7 and f"{bad} is a damaged or truncated skyform plan" in ran.err


def test_destroy_runs_in_reverse_dependency_order(ws):
    """destroy deletes dependents before their dependencies (c, b, a for a chain a -> b -> c)."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          b: {type: fake.Thing, spec: {name: "${{ resources.a.outputs.name }}-b"}}
          c: {type: fake.Thing, spec: {name: c}, depends_on: [b]}
          d: {type: fake.Thing, spec: {name: d}}
    """)
    apply_ok(ws)
    plan = plan_json(ws, "--destroy")
    order = [a["address"] for a in plan["actions"]]
    assert sorted(order) == ["a", "b", "c", "d"] and {a["action"] for a in plan["actions"]} == {"delete"}
    assert order.index("c") < order.index("b") < order.index("a")
    ran = ws.run("destroy", "--sandbox", "--auto-approve", "--json", "--parallelism", "1", ws.path)
    assert ran.code == 0, str(ran)
    deleted = [e["address"] for e in ran.json_lines() if e.get("event") == "transition" and e["after"] == "deleted"]
    assert deleted.index("c") < deleted.index("b") < deleted.index("a")
    assert ws.remote_objects() == [] and ws.records() == {}
    assert ws.run("plan", "--sandbox", "--destroy", "--detailed-exitcode", ws.path).code == 0


def test_saved_plan_of_a_single_file_mission_applies_that_file(ws):
    """`plan one.yaml -o p.json` then `apply p.json` applies one.yaml even when other missions sit beside it."""
    ws.raw(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: one}\nresources:\n"
        "  a: {type: fake.Thing, spec: {name: a}}\n",
        file="one.yaml",
    )
    ws.raw(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: two}\nresources:\n"
        "  b: {type: fake.Thing, spec: {name: b}}\n",
        file="two.yaml",
    )
    assert ws.run("plan", "--sandbox", "-o", ws.path / "p.json", ws.path / "one.yaml").code == 0
    ran = ws.run("apply", "--sandbox", ws.path / "p.json")
    assert ran.code == 0, str(ran)
    assert [o["name"] for o in ws.remote_objects()] == ["a"]


def test_rejected_update_is_planned_as_an_update_again_not_a_replace(ws, monkeypatch):
    """An update the service rejects (400) leaves the remote object alone; the next plan retries the update."""
    ws.write(BASE)
    apply_ok(ws)
    ws.write(BASE.replace("value: 1,", "value: 2,"))
    monkeypatch.setenv(
        "SKYFORM_SANDBOX_FAULTS",
        json.dumps([{"provider": "fake", "match": "^PATCH ", "fault": "status", "status": 400, "times": 1}]),
    )
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 1, str(ran)
    monkeypatch.delenv("SKYFORM_SANDBOX_FAULTS")
    got = actions(plan_json(ws))["a"]
    assert got["action"] == "update", got


def test_orphans_are_deleted_dependents_first(ws):
    """Resources removed from the spec are deleted in reverse dependency order (c, b, a); kept ones stay."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          b: {type: fake.Thing, spec: {name: "${{ resources.a.outputs.id }}"}}
          c: {type: fake.Thing, spec: {name: c}, depends_on: [b]}
          k: {type: fake.Thing, spec: {name: k}}
    """)
    apply_ok(ws)
    ws.write("resources:\n  k: {type: fake.Thing, spec: {name: k}}\n")
    plan = plan_json(ws)
    assert [(a["address"], a["action"]) for a in plan["actions"]] == [
        ("k", "noop"),
        ("c", "delete"),
        ("b", "delete"),
        ("a", "delete"),
    ]
    apply_ok(ws, "--parallelism", "1")
    assert [o["name"] for o in ws.remote_objects()] == ["k"]


def test_destroy_target_takes_its_dependents_along(ws):
    """`destroy --target a` deletes a and what depends on it, and leaves independent resources."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          b: {type: fake.Thing, spec: {name: "${{ resources.a.outputs.id }}"}}
          k: {type: fake.Thing, spec: {name: k}}
    """)
    apply_ok(ws)
    ran = ws.run("destroy", "--sandbox", "--auto-approve", "--target", "a", ws.path)
    assert ran.code == 0, str(ran)
    assert [o["name"] for o in ws.remote_objects()] == ["k"]
    assert set(ws.records()) == {"k"}


def test_replaced_dependency_gives_dependents_the_new_outputs(ws):
    """When a is replaced, b (which reads a's id) is updated with the new id in the same apply."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, immutable_field: x}}
          b: {type: fake.Thing, spec: {name: b, value: "${{ resources.a.outputs.id }}"}}
    """)
    apply_ok(ws)
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, immutable_field: y}}
          b: {type: fake.Thing, spec: {name: b, value: "${{ resources.a.outputs.id }}"}}
    """)
    apply_ok(ws)
    remote = {o["name"]: o for o in ws.remote_objects()}
    assert remote["b"]["value"] == remote["a"]["id"]
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_record_of_an_uninstalled_provider_is_planned_as_blocked_delete(ws, monkeypatch):
    """State naming a provider that is no longer installed: plan says the delete is blocked and how to --forget it."""
    (ws.path / "data").mkdir()
    (ws.path / "data" / "a.JPG").write_bytes(b"x")
    ws.write(
        'resources:\n  a: {type: fake.Thing, spec: {name: a}}\n  p: {type: local.Files, spec: {glob: "data/*.JPG"}}\n'
    )
    apply_ok(ws)
    ws.write('resources:\n  p: {type: local.Files, spec: {glob: "data/*.JPG"}}\n')
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "")
    ran = ws.run("plan", ws.path)
    assert ran.code == 0, str(ran)
    assert "provider of fake.Thing is not installed" in ran.out and "--forget" in ran.out


def test_forget_drops_records_of_an_uninstalled_provider(ws, monkeypatch):
    """With --refresh=false --forget, a record whose provider is gone is removed from state only."""
    (ws.path / "data").mkdir()
    (ws.path / "data" / "a.JPG").write_bytes(b"x")
    ws.write(
        'resources:\n  a: {type: fake.Thing, spec: {name: a}}\n  p: {type: local.Files, spec: {glob: "data/*.JPG"}}\n'
    )
    apply_ok(ws)
    ws.write('resources:\n  p: {type: local.Files, spec: {glob: "data/*.JPG"}}\n')
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "")
    blocked = ws.run("apply", "--sandbox", "--refresh=false", "--auto-approve", ws.path).clean()
    assert blocked.code == 1 and "pass --forget to drop it from state" in blocked.out + blocked.err
    ran = ws.run("apply", "--sandbox", "--refresh=false", "--forget", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert "a: Removed from state" in ran.out
    assert set(ws.records()) == {"p"}
    assert len(ws.remote_objects()) == 1


LIFECYCLE_BASE = """
    resources:
      k: {type: fake.Thing, spec: {name: k}}
      a: {type: fake.Thing, spec: {name: a}%s}
"""


def test_turning_prevent_destroy_off_then_removing_the_resource_deletes_it(ws):
    """prevent_destroy: true -> false (applied) -> resource removed: the delete is allowed."""
    ws.write(LIFECYCLE_BASE % ", lifecycle: {prevent_destroy: true}")
    apply_ok(ws)
    ws.write(LIFECYCLE_BASE % ", lifecycle: {prevent_destroy: false}")
    apply_ok(ws)
    ws.write("resources:\n  k: {type: fake.Thing, spec: {name: k}}\n")
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert [o["name"] for o in ws.remote_objects()] == ["k"]


def test_prevent_destroy_added_later_still_protects_a_removed_resource(ws):
    """prevent_destroy added to an existing resource (applied), then the block removed: refused (exit 7)."""
    ws.write(LIFECYCLE_BASE % "")
    apply_ok(ws)
    ws.write(LIFECYCLE_BASE % ", lifecycle: {prevent_destroy: true}")
    apply_ok(ws)
    ws.write("resources:\n  k: {type: fake.Thing, spec: {name: k}}\n")
    ran = ws.run("plan", "--sandbox", ws.path).clean()
    assert ran.code == 7, str(ran)


def test_ignore_changes_takes_dotted_paths(ws):
    """`ignore_changes: [value.a]` hides changes under value.a only; a change of value.b is still an update."""
    body = """
        resources:
          t:
            type: fake.Thing
            spec: {name: t, value: {a: %s, b: %s}}
            lifecycle: {ignore_changes: [value.a]}
    """
    ws.write(body % (1, 1))
    apply_ok(ws)
    ws.write(body % (2, 1))
    assert actions(plan_json(ws))["t"]["action"] == "noop"
    ws.write(body % (2, 5))
    got = actions(plan_json(ws))["t"]
    assert got["action"] == "update"
    assert got["changes"] == [{"path": ["value", "b"], "before": 1, "after": 5}]


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_transient_errors_on_update_and_replace_are_retried(ws, monkeypatch, method):
    """A 503 on the update (PATCH) or on the delete of a replace is retried; one object remains, up to date."""
    ws.write(BASE)
    apply_ok(ws)
    change = ("value: 1,", "value: 2,") if method == "PATCH" else ("immutable_field: x", "immutable_field: y")
    ws.write(BASE.replace(*change))
    monkeypatch.setenv(
        "SKYFORM_SANDBOX_FAULTS",
        json.dumps([{"provider": "fake", "match": f"^{method} ", "fault": "status", "status": 503, "times": 2}]),
    )
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--json", ws.path)
    assert ran.code == 0, str(ran)
    assert len([e for e in ran.json_lines() if e.get("event") == "retry"]) == 2
    monkeypatch.delenv("SKYFORM_SANDBOX_FAULTS")
    assert sorted(o["name"] for o in ws.remote_objects()) == ["a", "b"]
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_type_change_deletes_with_the_old_kind_and_creates_the_new(ws):
    """Changing a resource's type replaces it: the old object is deleted, one object of the new kind exists."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    apply_ok(ws)
    ws.write("resources:\n  a: {type: fake.Job, spec: {name: a, duration: 30}}\n")
    apply_ok(ws)
    assert [(o["kind"], o["name"]) for o in ws.remote_objects()] == [("job", "a")]
    assert ws.records()["a"].type == "fake.Job"
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_ignore_changes_also_ignores_drift_of_that_field(ws):
    """A field in ignore_changes that changes in the service is left alone: the plan is a no-op."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a, value: 1}, lifecycle: {ignore_changes: [value]}}\n")
    apply_ok(ws)
    _set_remote_value(ws, "a", 99)
    got = actions(plan_json(ws))["a"]
    assert got["action"] == "noop", got


def test_after_accepting_drift_the_plan_still_shows_the_spec_difference(ws):
    """`apply --refresh-only` records what the service has; a normal plan then proposes the spec's value again
    (as Terraform does): the mission file stays the source of truth."""
    ws.write(BASE)
    apply_ok(ws)
    _set_remote_value(ws, "a", 42)
    assert ws.run("apply", "--sandbox", "--refresh-only", "--auto-approve", ws.path).code == 0
    got = actions(plan_json(ws))["a"]
    assert got["action"] == "update", got
    assert got["changes"] == [{"path": ["value"], "before": 42, "after": 1}]


@pytest.mark.parametrize(
    "content",
    [
        '{"format": 1}',
        '{"format": 1, "mission": "m", "mission_path": ".", "spec_digest": "x", "lineage": "", "serial": "abc", '
        '"actions": []}',
        '{"format": 1, "mission": "m", "mission_path": ".", "spec_digest": "x", "lineage": "", "serial": 0, '
        '"actions": [{"type": "fake.Thing"}]}',
    ],
    ids=["fields missing", "serial not a number", "action without address"],
)
def test_damaged_plan_file_is_refused_without_a_traceback(ws, content):
    """A plan file that claims format 1 but is damaged is refused (exit 7) naming the file."""
    ws.write(BASE)
    bad = ws.path / "p.json"
    bad.write_text(content)
    ran = ws.run("apply", bad).clean()
    assert ran.code == 7, str(ran)
    assert str(bad) in ran.err


def test_saved_destroy_plan_is_applied(ws):
    """`plan --destroy -o FILE` then `apply FILE` destroys exactly what the plan listed."""
    ws.write(BASE)
    apply_ok(ws)
    assert ws.run("plan", "--sandbox", "--destroy", "-o", ws.path / "d.json", ws.path).code == 0
    ran = ws.run("apply", "--sandbox", ws.path / "d.json")
    assert ran.code == 0, str(ran)
    assert ws.remote_objects() == [] and ws.records() == {}
    history = [e["kind"] for e in ws.run("history", "--json", ws.path).json_lines()]
    assert "destroy_started" in history and "destroy_finished" in history
