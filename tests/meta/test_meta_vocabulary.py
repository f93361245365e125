"""The engine's vocabulary is typed and defined once: action kinds, plan symbols, exit codes.

Each table lives in one place; the text plan, the gitops summaries and the README agree
with it, so a new kind or code cannot be added in one place and forgotten in another.
"""

from __future__ import annotations

import io
import re
from enum import IntEnum, StrEnum
from pathlib import Path

from skyform.errors import ExitCode
from skyform.plan.model import SYMBOLS, Action, ActionKind, symbol

ROOT = Path(__file__).resolve().parents[2]


def test_every_action_kind_has_one_symbol_and_every_view_shows_it() -> None:
    """The text plan, the gitops pull-request markdown and the gitops text use SYMBOLS."""
    from skyform.cli.gitops import mission_lines
    from skyform.cli.output import Printer, action_text
    from skyform.gitops.report import MissionReport, RunReport

    assert issubclass(ActionKind, StrEnum) and set(SYMBOLS) == set(ActionKind)
    for kind in ActionKind:
        action = Action("r", "fake.Thing", kind, "because")
        text = action_text(action, Printer(io.StringIO(), color=False))[0]
        assert text.startswith(f"{kind.symbol} r (fake.Thing)"), (kind, text)
        if kind == ActionKind.NOOP:
            continue  # gitops lists only what changes
        report = MissionReport(
            path="m",
            commit="c" * 40,
            name="m",
            status="changes",
            plan={"actions": [action.to_json()], "counts": {kind: 1}, "has_changes": True},
        )
        markdown = RunReport("repo", "main", "c" * 40, "plan", missions=[report]).to_markdown()
        assert f"\n{kind.symbol} r (fake.Thing): {kind} - because\n" in markdown, (kind, markdown)
        lines = mission_lines(report)
        assert f"  {kind.symbol} r (fake.Thing): {kind} - because" in lines, (kind, lines)
    assert symbol("no-such-kind") == "?"


def test_plan_json_carries_plain_strings_and_reads_back_as_kinds() -> None:
    """A saved plan holds "create", not an enum repr; loading it gives ActionKind back."""
    data = Action("r", "fake.Thing", ActionKind.REPLACE, "type changed").to_json()
    assert type(data["action"]) is str and data["action"] == "replace"
    assert Action.from_json(data).action is ActionKind.REPLACE


def test_exit_codes_are_an_int_enum_and_the_readme_documents_each() -> None:
    """Every ExitCode is in the README's table, and the table has no code the enum lacks."""
    assert issubclass(ExitCode, IntEnum)
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("### Exit codes") :]
    table = table[: table.index("\n\n", table.index("| code |"))]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.M)}
    assert documented == {int(code) for code in ExitCode}, (documented, list(ExitCode))
