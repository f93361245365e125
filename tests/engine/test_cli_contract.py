"""What the CLI says is true: summaries count what changed, documented forms work as shown.

Issue 14 item 9: the apply summary counts only resources an action changed; `plan --destroy`
lists what cannot proceed under its heading; every command form the README shows runs as
shown (the `output` examples did not); an output whose path names nothing is an error
naming file, line and path; `--target`/`--exclude` of an unknown id is a usage error (64)
with the nearest id; `-v` and `--no-color` work after the sub-command as well as before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from skyform.cli.output import Printer, plan_text
from skyform.plan.model import Action, Plan

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()

MISSION = """
    resources:
      a: {type: fake.Thing, spec: {name: a, value: 1}}
      b: {type: fake.Thing, spec: {name: b, value: 1}}
      j: {type: fake.Job, spec: {name: "${{ resources.a.outputs.name }}-job", duration: 60}}
    outputs:
      a_id: "${{ resources.a.outputs.id }}"
      a_value: "${{ resources.a.outputs.value }}"
"""


def apply(ws, *args):
    return ws.run("apply", "--sandbox", "--auto-approve", *args, ws.path).clean()


def test_apply_summary_counts_only_what_changed(ws):
    """A re-apply that updates one of three resources says `1 updated`, not `3 done`."""
    ws.write(MISSION)
    first = apply(ws)
    assert "Apply complete! Resources: 3 created, 0 updated, 0 replaced, 0 deleted." in first.out
    ws.write(MISSION.replace("name: b, value: 1", "name: b, value: 2"))
    second = apply(ws)
    assert second.code == 0, str(second)
    assert "Apply complete! Resources: 0 created, 1 updated, 0 replaced, 0 deleted." in second.out
    ws.write(MISSION.replace("name: b, value: 1", "name: b, value: 3"))
    summary = apply(ws, "--json").json_lines()[-1]
    assert summary["event"] == "summary" and summary["done"] == 1 and summary["counts"] == {"update": 1}


def test_destroy_summary_names_deletions_only(ws):
    """`destroy` ends with how many resources it deleted, nothing about creating."""
    ws.write(MISSION)
    apply(ws)
    ran = ws.run("destroy", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 0 and "Destroy complete! Resources: 3 deleted." in ran.out


def test_blocked_heading_lists_what_cannot_proceed():
    """The 'cannot proceed' heading of a destroy plan names the blocked resources (it used to end in ':')."""
    plan = Plan(
        "m",
        "m.yaml",
        "d",
        "",
        1,
        mode="destroy",
        actions=[
            Action("job", "x.Job", "delete", "destroy", blocked="x.Job cannot be deleted through its API"),
            Action("thing", "x.Thing", "delete", "destroy"),
            Action("files", "local.Files", "forget", "destroy"),
        ],
    )
    lines = plan_text(plan, Printer(color=False))
    assert lines[-1] == "1 action(s) cannot proceed; apply will fail them: job."
    assert "Plan: 0 to create, 0 to update, 0 to replace, 2 to delete, 1 to remove from state." in lines


# -- every documented form ----------------------------------------------------------------

# (the form as the README's command table shows it, the command line that runs it)
DOCUMENTED = [
    ("`skyform status`", ["status"]),
    ("output [MISSION] [NAME] [--json]", ["output", "a_value"]),
    ("output [MISSION] [NAME] [--json]", ["output", "a_value", "--json"]),
    ("output [MISSION] [NAME] [--json]", ["output", "--json"]),
    ("output [MISSION] [NAME] [--json]", ["output"]),
    ("history [--json]", ["history", "--json"]),
    ("`skyform state list", ["state", "list"]),
    ("show ADDR", ["state", "show", "a"]),
    ("`skyform graph [MISSION] --format dot", ["graph", "--format", "mermaid"]),
    ("`skyform force-unlock`", ["force-unlock"]),
    ("`skyform validate [MISSION] [--json]`", ["validate", "--json"]),
    ("`skyform plan [MISSION] [-o FILE] [--json] [--detailed-exitcode]", ["plan", "--sandbox", "--detailed-exitcode"]),
    ("`skyform providers [--json]`", ["providers", "--json"]),
]


@pytest.mark.parametrize(("documented", "argv"), DOCUMENTED, ids=[" ".join(a) for _, a in DOCUMENTED])
def test_documented_forms_work_in_the_mission_directory(ws, monkeypatch, documented, argv):
    """Each command form of the README's table runs as shown, from the mission's directory."""
    assert documented in README, f"the README no longer shows {documented!r}: update this table"
    ws.write(MISSION)
    apply(ws)
    monkeypatch.chdir(ws.path)
    ran = ws.run(*argv).clean()
    assert ran.code == 0, str(ran)
    assert ran.out.strip(), str(ran)


def test_output_name_forms(ws, monkeypatch):
    """`output NAME` prints the value; `output MISSION NAME` and `output MISSION` too; an
    unknown name is exit 64 with the nearest name."""
    ws.write(MISSION)
    apply(ws)
    a_id = ws.records()["a"].remote_id
    monkeypatch.chdir(ws.path)
    assert ws.run("output", "a_id").out == a_id + "\n"
    assert ws.run("output", "a_value", "--json").out == "1\n"
    assert ws.run("output", ".", "a_id").out == a_id + "\n"
    assert json.loads(ws.run("output", "--json", ".").out) == {"a_id": a_id, "a_value": 1}
    typo = ws.run("output", "a_vlue").clean()
    assert typo.code == 64 and "no output 'a_vlue'" in typo.err and "did you mean 'a_value'?" in typo.err


def test_an_output_path_that_does_not_exist_is_an_error(ws):
    """An output naming a missing field is exit 3 naming file, line and path, at apply and at
    `output NAME` - never a silent null; the resources themselves are applied and recorded."""
    ws.write(MISSION + '      bad: "${{ resources.a.outputs.id.nosuch }}"\n')
    ran = apply(ws)
    assert ran.code == 3, str(ran)
    assert re.search(
        r"mission\.yaml:\d+:\d+: outputs\.bad: .*resources\.a\.outputs\.id\.nosuch.*'nosuch' not found", ran.err
    ), str(ran)
    assert "bad = null" not in ran.out and "a_value = 1" in ran.out
    assert {r.status for r in ws.records().values()} == {"ready"}
    named = ws.run("output", ws.path, "bad").clean()
    assert named.code == 3 and "outputs.bad" in named.err and "'nosuch' not found under id" in named.err
    assert "bad" not in json.loads(ws.run("output", "--json", ws.path).out)
    again = apply(ws)  # nothing to change: the broken output is still an error
    assert again.code == 3 and "No changes." in again.out and "outputs.bad" in again.err, str(again)


@pytest.mark.parametrize("flag", ["--target", "--exclude"])
def test_unknown_resource_id_is_a_usage_error_with_the_nearest(ws, flag):
    """`--target nosuch` / `--exclude nosuch` exit 64 naming the id and the nearest one."""
    ws.write(MISSION)
    ran = ws.run("plan", "--sandbox", flag, "bb", ws.path).clean()
    assert ran.code == 64, str(ran)
    assert f"{flag} 'bb': no resource 'bb' in the mission or its state" in ran.err
    assert "did you mean 'b'?" in ran.err
    far = ws.run("plan", "--sandbox", flag, "zzzz", ws.path).clean()
    assert far.code == 64 and "resources: a, b, j" in far.err


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--sandbox", "-v"],
        ["plan", "-vv", "--sandbox"],
        ["validate", "--no-color"],
        ["state", "list", "-v"],
        ["state", "-v", "list"],
        ["gitops", "validate", "--no-color"],
    ],
)
def test_global_flags_work_after_the_sub_command(ws, argv):
    """`-v` and `--no-color` are accepted after the sub-command, as in git and terraform."""
    ws.write(MISSION)
    ran = ws.run(*argv, ws.path).clean()
    assert ran.code == 0, str(ran)


def test_verbose_after_the_sub_command_raises_the_log_level(ws):
    """`plan -vv` logs at debug level like `-vv plan` (the requests appear on stderr)."""
    ws.write(MISSION)
    apply(ws)
    before = ws.run("-vv", "plan", "--sandbox", ws.path)
    after = ws.run("plan", "--sandbox", ws.path, "-vv")
    assert "DEBUG" in before.err and "DEBUG" in after.err
