"""Bad input never ends in a traceback: fuzzed YAML, invalid missions through every command, budgets.

The loader is fuzzed with hypothesis (arbitrary bytes and YAML-ish text): it returns data or
raises SpecError with a location, nothing else. Every command that reads a mission reports
an invalid one as exit 3 with the same diagnostics.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyform.errors import SpecError
from skyform.spec.yamlsource import parse

YAMLISH = st.lists(
    st.sampled_from(
        [
            "a",
            ": ",
            "- ",
            "\n",
            "  ",
            "{",
            "}",
            "[",
            "]",
            ",",
            "&x ",
            "*x",
            "!!str ",
            "!tag ",
            "'",
            '"',
            "#",
            "---\n",
            "? ",
            "|\n",
            ">\n",
            "%YAML 1.2\n",
            "${{ var.x }}",
            "\t",
            "\x00",
            "é",
            "0x1F",
            "~",
            "<<: *x\n",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), YAMLISH))
def test_loader_returns_data_or_a_located_spec_error(data):
    """Whatever the bytes, parse() returns plain data or raises SpecError carrying a file:line:col."""
    raw = data if isinstance(data, bytes) else data.encode()
    try:
        parse(raw, "fuzz.yaml")
    except SpecError as exc:
        (diagnostic,) = exc.diagnostics
        assert diagnostic.location is not None and diagnostic.location.file == "fuzz.yaml"
        assert diagnostic.location.line >= 1 and diagnostic.location.column >= 1
        assert diagnostic.message


@pytest.mark.slow  # a fuzz campaign: a validate per generated spec
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    spec=st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-5, 5),
            st.text(max_size=6),
            st.sampled_from(
                [
                    "${{ var.n }}",
                    "${{ resources.a.outputs.id }}",
                    "${{ nope }}",
                    "${{ var. }}",
                    "x ${{ secrets.K }} y",
                    "${{ resources.zz.outputs.id }}",
                    "${{ mission.name }}",
                ]
            ),
        ),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(
                st.sampled_from(["name", "value", "even", "cost", "x", "create_error"]), children, max_size=4
            ),
        ),
        max_leaves=8,
    )
)
def test_any_spec_value_validates_without_a_traceback(ws, spec):
    """Arbitrary spec contents (types, expressions, nesting) give exit 0 or 3, never an internal error."""
    import json

    ws.write(
        "variables: {n: 2}\nresources:\n  a: {type: fake.Thing, spec: {name: a}}\n"
        f"  b:\n    type: fake.Thing\n    spec: {json.dumps(spec)}\n"
    )
    ran = ws.run("validate", ws.path / "mission.yaml").clean()
    assert ran.code in (0, 3), str(ran)


INVALID = """
    resources:
      a: {type: fake.Thing, spec: {name: a, even: 3}}
      b: {type: fake.Thing, spec: {name: "${{ resources.aa.outputs.id }}"}}
      c: {type: fake.Thing, spec: {name: c}, depends_on: [d]}
      d: {type: fake.Thing, spec: {name: "${{ resources.c.outputs.id }}"}}
"""


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["plan"],
        ["plan", "--sandbox", "--json"],
        ["apply", "--sandbox", "--auto-approve"],
        ["destroy", "--sandbox", "--auto-approve"],
        ["graph"],
        ["graph", "--format", "json"],
    ],
    ids=lambda c: " ".join(c),
)
def test_invalid_mission_is_exit_3_from_every_command(ws, command):
    """validate, plan, apply, destroy and graph all refuse an invalid mission the same way: exit 3,
    every error with file:line:col, no traceback, nothing contacted or recorded."""
    f = ws.write(INVALID)
    ran = ws.run(*command, ws.path).clean()
    assert ran.code == 3, str(ran)
    for fragment in (
        f"{f}:5:41: resources.a.spec.even: 3 is odd",
        f"{f}:6:32: resources.b.spec.name: ${{{{ resources.aa.outputs.id }}}}: no resource 'aa'",
        "dependency cycle: c → d → c",
    ):
        assert fragment in ran.err, str(ran)
    assert "3 errors found." in ran.err
    assert not (ws.path / ".skyform" / "state.db").exists()
    assert ws.remote_objects() == []


def test_plan_shows_cost_estimates(ws):
    """A kind's cost estimate appears per action and as a total in the plan."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, cost: 120.5}}
          b: {type: fake.Thing, spec: {name: b, cost: 2}}
    """)
    ran = ws.run("plan", "--sandbox", ws.path)
    assert ran.code == 0, str(ran)
    assert "Estimated cost: 122.50 EUR" in ran.out


def test_max_cost_blocks_work_above_the_budget(ws):
    """An estimate above lifecycle.max_cost is refused: nothing is submitted and the message names both amounts."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, cost: 500}, lifecycle: {max_cost: 100}}
    """)
    plan = ws.run("plan", "--sandbox", ws.path)
    assert "blocked: cost estimate 500.00 EUR is above lifecycle.max_cost 100; nothing will be submitted" in plan.out
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 1, str(ran)
    assert "a: cost estimate 500.00 EUR is above lifecycle.max_cost 100" in ran.err
    assert ws.remote_objects() == []


def test_secrets_file_errors_are_usage_errors(ws, tmp_path):
    """A missing or malformed --secrets-file is exit 64 naming the file."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    missing = tmp_path / "nope.yaml"
    ran = ws.run("plan", "--sandbox", "--secrets-file", missing, ws.path).clean()
    assert ran.code == 64 and str(missing) in ran.err
    bad = tmp_path / "secrets.yaml"
    bad.write_text("- just\n- a list\n")
    ran = ws.run("plan", "--sandbox", "--secrets-file", bad, ws.path).clean()
    assert ran.code == 64 and f"secrets file {bad} must be a mapping of NAME: value" in ran.err


MISSION = object()  # stands for the workspace's mission directory in an argument list


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("apply", "--executor", "celery", "--worker-timeout", "soon", MISSION),
            "Invalid value for '--worker-timeout'",
        ),
        (("apply", "--executor", "celery", "--worker-timeout", "0", MISSION), "0.0 is not in the range x>0"),
        (("approvals", "revoke", MISSION, "../../not an id"), "no approval '../../not an id' in the state of mission"),
    ],
    ids=["worker-timeout-not-a-number", "worker-timeout-zero", "revoke-malformed-id"],
)
def test_bad_distributed_and_approval_arguments_are_usage_errors(ws, args, said):
    """Exit 64 with the option or the ID named, before any broker or state is touched."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    ran = ws.run(*(ws.path if a is MISSION else a for a in args)).clean()
    assert ran.code == 64, str(ran)
    assert said in ran.err, str(ran)


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8).filter(lambda k: k != "<<"), children, max_size=4),
    ),  # '<<': see the test below
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(data=JSONISH, flow=st.booleans())
def test_loader_agrees_with_ruamel_safe_load(data, flow):
    """Differential check of the fast loader against ruamel's safe loader (the reference): for any YAML
    that ruamel's emitter writes from plain data, both give equal data, or both refuse it."""
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    emitter = YAML(typ="safe", pure=True)
    emitter.default_flow_style = flow
    buf = io.StringIO()
    emitter.dump({"root": data}, buf)
    text = buf.getvalue()
    try:
        reference = YAML(typ="safe").load(text)
    except YAMLError:
        reference = "refused"
    try:
        mine = parse(text, "emitted.yaml")
    except SpecError:
        mine = "refused"
    assert mine == reference, text


KEYED = st.recursive(
    st.one_of(st.integers(), st.text(alphabet="abc xyz", max_size=6)),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), children, max_size=3),
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(
    data=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), KEYED, min_size=1, max_size=4),
    flow=st.booleans(),
)
def test_every_key_location_points_at_the_key_in_the_source(data, flow):
    """The loader records line:col of every mapping key exactly where the key is written (what errors show)."""
    import io

    from ruamel.yaml import YAML

    from skyform.spec.yamlsource import MDict, MList

    emitter = YAML(typ="safe", pure=True)
    emitter.default_flow_style = flow
    emitter.width = 4096
    buf = io.StringIO()
    emitter.dump(data, buf)
    text = buf.getvalue()
    lines = text.splitlines()
    root = parse(text, "keys.yaml")

    def check(node):
        if isinstance(node, MDict):
            for key, value in node.items():
                loc = node.mark(key)
                at = lines[loc.line - 1][loc.column - 1 :]
                assert at.startswith((key, f"'{key}'", f'"{key}"')), (key, loc, text)
                check(value)
        elif isinstance(node, MList):
            for item in node:
                check(item)

    check(root)


def test_bad_fault_rule_is_a_clear_sandbox_error(ws, monkeypatch):
    """An unknown fault kind in SKYFORM_SANDBOX_FAULTS is reported as such, before anything runs."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    monkeypatch.setenv("SKYFORM_SANDBOX_FAULTS", '[{"fault": "explode"}]')
    ran = ws.run("plan", "--sandbox", ws.path).clean()
    assert ran.code != 0
    assert "sandbox: bad SKYFORM_SANDBOX_FAULTS: fault rule 1: unknown fault 'explode'" in ran.err


@pytest.mark.parametrize(
    "rules", ['[{"fault": "status", "match": "("}]', "[1]"], ids=["bad regex", "rule not a mapping"]
)
def test_malformed_fault_rules_never_show_a_traceback(ws, monkeypatch, rules):
    """A malformed fault rule (bad regex, not a mapping) is a one-line sandbox error naming the variable."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    monkeypatch.setenv("SKYFORM_SANDBOX_FAULTS", rules)
    ran = ws.run("plan", "--sandbox", ws.path).clean()
    assert ran.code != 0
    assert "SKYFORM_SANDBOX_FAULTS" in ran.err


@pytest.mark.parametrize(
    "text", ["root:\n  '<<': {x: 1}\n  y: 2\n", 'root:\n  "<<": []\n'], ids=["single-quoted", "double-quoted"]
)
def test_quoted_merge_key_is_an_ordinary_key(text):
    """Like ruamel's safe loader (the reference), a quoted '<<' is a plain string key, not a merge."""
    from ruamel.yaml import YAML

    assert parse(text, "q.yaml") == YAML(typ="safe").load(text)
