"""The plugin and sandbox docs cover every hook, fixture, contract test, fault kind and command."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import skyform.testing
from skyform.cli.sandbox import command as sandbox_command
from skyform.providers import hookspecs
from skyform.sandbox.faults import KINDS, FaultRule
from skyform.testing.contract import ProviderContract

DOCS = Path(__file__).resolve().parents[2] / "docs"
PLUGINS = (DOCS / "plugins.md").read_text()
SANDBOX = (DOCS / "sandbox.md").read_text()

HOOKS = sorted(name for name, f in vars(hookspecs).items() if callable(f) and hasattr(f, "skyform_spec"))


def section(text: str, heading: str) -> str:
    """The text under a markdown heading, up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, re.MULTILINE)
    assert match, f"no heading {heading!r}"
    level = len(match.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(text, match.end())
    return text[match.end() : end.start() if end else len(text)]


def test_the_hookspecs_module_has_hooks() -> None:
    """The meta-test below sees the hooks (guards against a vacuous pass)."""
    assert "skyform_providers" in HOOKS and len(HOOKS) >= 7


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_arguments(hook: str) -> None:
    """docs/plugins.md has a section per hook naming every argument of the hookspec."""
    text = section(PLUGINS, f"`{hook}`")
    for argument in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert re.search(rf"\b{argument}\b", text), f"{hook}: argument {argument!r} is not documented"


@pytest.mark.parametrize("fixture", ["mission_dir", "write_mission", "run_skyform", "sandbox", "state_store"])
def test_every_fixture_is_documented(fixture: str) -> None:
    """Each skyform.testing fixture is exported and described in docs/plugins.md."""
    assert hasattr(skyform.testing, fixture)
    assert f"| `{fixture}` |" in PLUGINS


def test_every_contract_test_and_setting_is_documented() -> None:
    """Every test of ProviderContract and every class setting appears in docs/plugins.md."""
    tests = [n for n in dir(ProviderContract) if n.startswith("test_")]
    settings = list(ProviderContract.__annotations__)
    missing = [n for n in tests + settings if f"`{n}`" not in PLUGINS and f"{n} =" not in PLUGINS]
    assert missing == []


def test_every_fault_kind_and_rule_field_is_documented() -> None:
    """docs/sandbox.md describes each fault kind and each rule field."""
    fields = [n for n in FaultRule.__dataclass_fields__ if not n.startswith("_") and n != "fired"]
    missing = [n for n in [*KINDS, *fields] if f"`{n}`" not in SANDBOX]
    assert missing == []


def test_every_sandbox_command_and_setting_is_documented() -> None:
    """docs/sandbox.md covers each `skyform sandbox` command and the clock/fault variables."""
    for name in sandbox_command.commands:
        assert f"skyform sandbox {name}" in SANDBOX
    for variable in ("SKYFORM_SANDBOX_CLOCK", "SKYFORM_SANDBOX_FAULTS", "SKYFORM_SANDBOX_SEED"):
        assert variable in SANDBOX
