"""The CLI's shared options are one table, and the CLI keeps no module-level mutable state.

plan/apply/destroy and gitops take --state, --parallelism, --target, --json,
--detailed-exitcode and the secrets from :data:`skyform.cli.options.OPTIONS`; the default
parallelism is one named constant. In-process callers (tests, gitops) run the CLI many
times, so nothing a run sets may live in a module.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click

from skyform.cli.options import OPTIONS
from skyform.providers.base import DEFAULT_PARALLELISM

ENGINE = Path(__file__).resolve().parents[2] / "engine" / "skyform"
SHARED_FLAGS = {
    "--state": "state",
    "--parallelism": "parallelism",
    "--target": "target",
    "--exclude": "exclude",
    "--json": "json",
    "--detailed-exitcode": "detailed_exitcode",
    "--secrets-file": "secrets_file",
    "--sandbox": "sandbox",
    "--refresh": "refresh",
    "--executor": "executor",
    "--broker": "broker",
}


def commands() -> dict[str, click.Command]:
    from skyform.cli import gitops, reconcile, run

    return {
        "plan": run.plan,
        "apply": run.apply,
        "destroy": run.destroy,
        "gitops plan": gitops.plan,
        "gitops apply": gitops.apply,
        "reconcile": reconcile.command,
    }


def test_every_shared_option_of_every_command_comes_from_the_table() -> None:
    """Same flags, type, default and environment variable wherever a shared option appears."""
    for name, command in commands().items():
        for param in command.params:
            for flag in param.opts:
                if flag not in SHARED_FLAGS:
                    continue
                row = OPTIONS[SHARED_FLAGS[flag]]
                expected = row.decorator()(lambda: None).__click_params__[0]  # type: ignore[attr-defined]
                assert (param.opts, param.name, repr(param.type), param.default, getattr(param, "envvar", None)) == (
                    expected.opts,
                    expected.name,
                    repr(expected.type),
                    expected.default,
                    getattr(expected, "envvar", None),
                ), (name, flag)
    assert OPTIONS["parallelism"].attrs["default"] == DEFAULT_PARALLELISM


def test_shared_options_and_the_default_parallelism_are_written_once() -> None:
    """No module but cli/options.py declares a shared flag; no literal default parallelism."""
    declared = re.compile(
        r"""click\.option\(\s*["'](--(?:state|parallelism|target|exclude|json|detailed-exitcode|"""
        r"""secrets-file|sandbox|refresh|executor|broker))["']"""
    )
    literal = re.compile(r"""parallelism(?:: int)? ?= ?\d+\b|["']parallelism["'], \d+\)""")
    for path in sorted(ENGINE.rglob("*.py")):
        text = path.read_text()
        if path.name != "options.py":
            assert not declared.search(text), f"{path}: declares {declared.search(text).group(1)}; use cli.options"
        assert not literal.search(text), f"{path}: {literal.search(text).group(0)}; use DEFAULT_PARALLELISM"


def test_the_cli_keeps_no_module_level_mutable_state() -> None:
    """No module of skyform/cli writes a module-level name (subscript, attribute, global)."""
    for path in sorted((ENGINE / "cli").glob("*.py")):
        tree = ast.parse(path.read_text())
        module_names = {
            t.id
            for node in tree.body
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(t, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                raise AssertionError(f"{path}:{node.lineno}: global {', '.join(node.names)}")
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else ([node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            )
            for target in targets:
                if (
                    isinstance(target, (ast.Subscript, ast.Attribute))
                    and isinstance(target.value, ast.Name)
                    and target.value.id in module_names
                ):
                    raise AssertionError(f"{path}:{node.lineno}: writes module-level {target.value.id}")
