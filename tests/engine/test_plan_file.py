"""A saved plan is a faithful contract, and its header alone says that a file is a plan.

``Plan.from_json(plan.to_json()) == plan`` for any plan (a hypothesis property), so
``apply FILE`` carries out exactly what ``plan -o FILE`` showed, drift included; a damaged
plan is refused as a damaged plan (never read as a mission), a mission written as JSON is a
mission, and a file that is neither is refused saying what each would need.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyform.errors import PlanRefused
from skyform.plan.budget import BudgetBreach
from skyform.plan.file import has_plan_header
from skyform.plan.model import PLAN_FORMAT, PLAN_FORMAT_VERSION, Action, Plan
from skyform.providers import Change, Confidence, Cost, Irreversibility, Reversibility
from skyform.spec.budget import MissionBudget
from skyform.spec.policy import MissionPolicy
from skyform.spec.values import SECRET_MARK, Unknown
from skyform.state.spend import SpentSoFar

# -- the round trip ----------------------------------------------------------------------

_keys = st.text(st.characters(codec="utf-8", exclude_characters="$"), max_size=8)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False)
)
_markers = st.builds(Unknown, st.text(max_size=20)) | st.builds(
    lambda d: {SECRET_MARK: "sha256:" + d}, st.text("0123456789abcdef", min_size=16, max_size=16)
)
_values = st.recursive(
    _scalars | _markers,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=8,
)
_paths = st.lists(st.text(max_size=8) | st.integers(0, 20), min_size=1, max_size=4).map(tuple)
_changes = st.lists(st.builds(Change, _paths, _values, _values), max_size=3)
_words = st.text(max_size=20)
_costs = st.none() | st.builds(
    Cost,
    st.floats(0, 1e6, allow_nan=False),
    st.sampled_from(["USD", "EUR", ""]),
    _words,
    st.sampled_from(list(Confidence)),
    st.integers(1, 12),
)
# every field of Action and of Plan is generated: one added later without its place in the
# file fails the round trip (and the field lists below, until it is generated too)
ACTION_FIELDS = {
    "address": st.text(min_size=1, max_size=10),
    "type": st.sampled_from(["cvat.Project", "fake.Thing"]),
    "action": st.sampled_from(["create", "update", "replace", "delete", "resume", "noop", "forget", "read"]),
    "reason": _words,
    "changes": _changes,
    "notes": st.lists(_words, max_size=2),
    "cost": _costs,
    "blocked": st.none() | _words.filter(bool),
    "depends_on": st.lists(st.text(min_size=1, max_size=6), max_size=2),
    "adopt_first": st.booleans(),
    "drift": _changes,
    "state_only": st.booleans(),
    "irreversibility": st.none()
    | st.builds(Irreversibility, st.sampled_from(list(Reversibility)), _words, st.none() | _words),
}
_amounts = st.floats(0, 1e6, allow_nan=False)
_breaches = st.builds(
    BudgetBreach,
    st.none() | st.text(min_size=1, max_size=6),
    _amounts,
    _amounts,
    st.sampled_from(["USD", "EUR"]),
    st.sampled_from(["lifecycle.max_cost", "budget.max"]),
    st.booleans(),
    st.sampled_from(list(Confidence)),
    st.lists(st.text(min_size=1, max_size=6), max_size=3).map(tuple),
    _amounts,
)
PLAN_FIELDS = {
    "mission": st.text(min_size=1, max_size=10),
    "mission_path": _words,
    "spec_digest": st.text("0123456789abcdef"),
    "lineage": _words,
    "serial": st.integers(0, 10**9),
    "actions": st.lists(st.builds(Action, **ACTION_FIELDS), max_size=4),
    "mode": st.sampled_from(["apply", "destroy", "refresh-only"]),
    "targets": st.lists(_words, max_size=2),
    "warnings": st.lists(_words, max_size=2),
    "created_at": st.floats(0, 4e9, allow_nan=False),
    "excludes": st.lists(_words, max_size=2),
    "excluded": st.lists(_words, max_size=2),
    "sandbox": st.booleans(),
    "budget": st.lists(_breaches, max_size=2),
    "mission_budget": st.none() | st.builds(MissionBudget, _amounts, st.sampled_from(["USD", "EUR", "units"])),
    "spent": st.builds(
        SpentSoFar,
        st.dictionaries(st.sampled_from(["USD", "EUR", "units"]), _amounts, max_size=2),
        st.lists(st.text(min_size=1, max_size=6), max_size=2),
    ),
    "policy": st.none()
    | st.builds(
        MissionPolicy,
        st.none() | _amounts,
        st.none() | _amounts,
        st.none() | st.sampled_from(["EUR", "units"]),
        st.none() | st.integers(1, 10),
    ),
}
_plans = st.builds(Plan, **PLAN_FIELDS)


def test_the_generated_plans_cover_every_field() -> None:
    """A field added to Plan or Action must be generated here, so the round trip covers it."""
    assert set(ACTION_FIELDS) == {f.name for f in dataclasses.fields(Action)}
    assert set(PLAN_FIELDS) == {f.name for f in dataclasses.fields(Plan)}


@pytest.mark.slow  # a property campaign: 300 generated plans
@settings(max_examples=300, deadline=None)
@given(_plans)
def test_a_plan_survives_its_file_exactly(plan: Plan) -> None:
    """Through JSON text, as `plan -o` writes it and `apply FILE` reads it, every field comes back."""
    assert Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_drift_integer_paths_and_firmness_are_kept() -> None:
    """The three things the file used to lose: drift, list indexes as ints, a rough estimate's firm=False."""
    action = Action(
        "defects",
        "cvat.Project",
        "update",
        "changed outside skyform",
        changes=[Change(("labels", 0, "color"), "#00ff00", "#ff0000"), Change(("attrs", "0"), 1, 2)],
        drift=[Change(("name",), "renamed outside", "A12 defects")],
        cost=Cost(2.5, "USD", "rough", Confidence.ROUGH, occurrences=2),
    )
    back = Action.from_json(json.loads(json.dumps(action.to_json())))
    assert back.drift == action.drift
    assert back.changes[0].path == ("labels", 0, "color") and back.changes[1].path == ("attrs", "0")
    assert back.cost == action.cost and back.cost.firm is False


# -- the header --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head,is_plan",
    [
        (b'{\n  "format": "skyform-plan",\n  "format_version": 2,', True),
        (b'{"format": "skyform-plan", "format_version": 2, "mis', True),  # truncated: still a plan
        (b'{\n  "format": 1,\n  "mission": "m"', True),  # the old format: a plan, refused as too old
        (b'{"apiVersion": "skyform/v1", "kind": "Mission"}', False),  # a mission written as JSON
        (b'{"event": "plan", "format": "skyform-plan"}', False),  # a --json event line is not a plan file
        (b"apiVersion: skyform/v1\nkind: Mission\n", False),
        (b'{"format": 12}', False),
        (b"", False),
    ],
)
def test_the_header_alone_decides(head: bytes, is_plan: bool) -> None:
    assert has_plan_header(head) is is_plan


def test_a_saved_plan_opens_with_its_header(ws) -> None:
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    assert ws.run("plan", "--sandbox", "-o", ws.path / "p.plan", ws.path).code == 0
    data = json.loads((ws.path / "p.plan").read_text())
    assert list(data)[:2] == ["format", "format_version"]
    assert (data["format"], data["format_version"]) == (PLAN_FORMAT, PLAN_FORMAT_VERSION)


def test_a_truncated_plan_is_refused_as_a_damaged_plan(ws) -> None:
    """Cut short (a full disk, a bad copy), the plan is refused (exit 7) and nothing happens."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    plan_file = ws.path / "p.plan"
    assert ws.run("plan", "--sandbox", "-o", plan_file, ws.path).code == 0
    plan_file.write_bytes(plan_file.read_bytes()[:120])
    ran = ws.run("apply", "--sandbox", plan_file).clean()
    assert ran.code == 7, str(ran)
    assert f"{plan_file} is a damaged or truncated skyform plan" in ran.err
    assert "hint: make it again with `skyform plan -o FILE`" in ran.err
    assert ws.remote_objects() == []


def test_a_plan_of_the_old_format_is_refused_as_a_plan(ws) -> None:
    old = ws.raw('{\n  "format": 1,\n  "mission": "mission",\n  "actions": []\n}\n', "old.json")
    ran = ws.run("apply", "--sandbox", old).clean()
    assert ran.code == 7, str(ran)
    assert "a skyform plan of the old format 1" in ran.err


def test_a_plan_of_a_newer_format_version_is_refused(ws) -> None:
    newer = ws.raw(json.dumps({"format": PLAN_FORMAT, "format_version": 99, "actions": []}), "new.plan")
    ran = ws.run("apply", "--sandbox", newer).clean()
    assert ran.code == 7, str(ran)
    assert "a skyform plan of format version 99; this skyform reads version 2" in ran.err


def test_a_mission_written_as_json_is_a_mission(ws) -> None:
    """JSON is YAML: `apply mission.json` applies the mission, it is not taken for a plan."""
    mission = ws.raw(
        json.dumps(
            {
                "apiVersion": "skyform/v1",
                "kind": "Mission",
                "metadata": {"name": "j"},
                "resources": {"a": {"type": "fake.Thing", "spec": {"name": "from-json"}}},
            }
        ),
        "mission.json",
    )
    ran = ws.run("apply", "--sandbox", "--auto-approve", mission).clean()
    assert ran.code == 0, str(ran)
    assert [o["name"] for o in ws.remote_objects()] == ["from-json"]


@pytest.mark.parametrize("content", ["hello, I am notes\n", "[1, 2, 3]\n", "\x00\x01\x02garbage"])
def test_a_file_that_is_neither_is_refused_saying_what_each_needs(ws, content: str) -> None:
    odd = ws.raw(content, "notes.txt")
    ran = ws.run("apply", "--sandbox", "--auto-approve", odd).clean()
    assert ran.code == 64, str(ran)
    assert f"{odd} is neither a saved plan nor a mission" in ran.err
    assert '{"format": "skyform-plan", "format_version": 2, ...}' in ran.err
    assert "apiVersion: skyform/v1 and kind: Mission" in ran.err


def test_a_plan_given_where_a_mission_is_expected_says_so(ws) -> None:
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    plan_file = ws.path / "p.json"
    assert ws.run("plan", "--sandbox", "-o", plan_file, ws.path).code == 0
    for command in (["validate"], ["plan", "--sandbox"]):
        ran = ws.run(*command, plan_file).clean()
        assert ran.code == 3, str(ran)
        assert f"{plan_file}:1:1: this is a saved skyform plan, not a mission" in ran.err
        assert f"apply it with `skyform apply {plan_file}`" in ran.err


# -- a drift-only plan, saved and applied ------------------------------------------------


def test_a_saved_drift_only_plan_corrects_the_drift(ws) -> None:
    """The object changed outside skyform, the spec did not: `apply FILE` puts it back, and the
    next plan has nothing to do (the drift used to be dropped from the file and lost)."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a, value: 1}}\n")
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    (obj,) = ws.remote_objects()
    ws.edit_remote(obj["id"], value=42)
    plan_file = ws.path / "drift.plan"
    ran = ws.run("plan", "--sandbox", "-o", plan_file, ws.path)
    assert ran.code == 0 and "value changed outside skyform" in ran.out, str(ran)
    saved = Plan.load(plan_file)
    assert saved.actions[0].drift and not saved.actions[0].changes
    ran = ws.run("apply", "--sandbox", plan_file).clean()
    assert ran.code == 0, str(ran)
    assert ws.remote_objects()[0]["value"] == 1
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_load_names_the_file_of_a_foreign_json(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    with pytest.raises(PlanRefused, match=r"other.json: not a skyform plan"):
        Plan.load(other)
