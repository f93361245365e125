"""The default test run is the fast one, and CI still runs every test.

The README's test command is the run a developer repeats while working, so the long
campaigns are marked ``slow`` and deselected by ``addopts``; ``.ci/run`` runs them in a
second pass. These checks keep the three places (pyproject.toml, .ci/run, the campaign
modules) from drifting apart: a campaign that loses its mark slows every developer's run, a
CI script that loses its ``-m slow`` pass silently stops running the campaigns.
"""

from __future__ import annotations

import ast
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# whole modules that are one campaign each (a module fixture runs it, the tests read it)
CAMPAIGN_MODULES = [
    "tests/reliability/test_reliability_crash.py",
    "tests/reliability/test_reliability_load.py",
    "tests/reliability/test_reliability_secrets.py",
    "tests/reliability/test_reliability_secrets_rotation.py",
    "tests/imports/test_import_round_trip.py",
]
# single campaign tests in modules whose other tests are behaviours
CAMPAIGN_TESTS = [
    ("tests/kit/test_kit_plugin_new.py", "test_generated_package_installs_and_its_tests_pass_unchanged"),
    ("tests/kit/test_kit_contract.py", "test_contract_catches_broken_providers"),
    ("tests/engine/test_plan_file.py", "test_a_plan_survives_its_file_exactly"),
    ("tests/engine/test_interrupts.py", "test_sigkill_at_random_moments_then_resume_creates_each_object_once"),
    ("tests/engine/test_bad_input.py", "test_any_spec_value_validates_without_a_traceback"),
    ("tests/reliability/test_reliability_faults.py", "test_demo_mission_converges_under_request_faults"),
    (
        "tests/reliability/test_reliability_badinput.py",
        "test_cli_validate_on_hostile_documents_never_shows_a_traceback",
    ),
    ("tests/reliability/test_reliability_badinput.py", "test_validator_on_mutated_demo_mission"),
]


def _addopts() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return shlex.split(config["tool"]["pytest"]["ini_options"]["addopts"])


def _is_slow_mark(node: ast.expr) -> bool:
    return ast.unparse(node) == "pytest.mark.slow"


def test_the_default_selection_leaves_out_slow_and_keeps_modules_on_one_worker() -> None:
    """``-m "not slow"`` and ``--dist loadscope`` are in addopts (README, Development)."""
    opts = _addopts()
    assert "-m" in opts and opts[opts.index("-m") + 1] == "not slow", opts
    assert "--dist" in opts and opts[opts.index("--dist") + 1] == "loadscope", opts


def test_ci_runs_the_slow_campaigns_as_well() -> None:
    """.ci/run has a pytest pass selecting ``-m slow`` after the default one."""
    lines = [
        shlex.split(line)
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if "pytest" in line and not line.lstrip().startswith("#")
    ]
    runs = [words[words.index("pytest") + 1 :] for words in lines]  # pytest's own arguments
    assert any(cmd[cmd.index("-m") + 1] == "slow" for cmd in runs if "-m" in cmd), runs
    assert any("-m" not in cmd for cmd in runs), "CI must also run the default selection"


@pytest.mark.parametrize("module", CAMPAIGN_MODULES)
def test_campaign_modules_are_marked_slow(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text())
    marks = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
    ]
    assert marks, f"{module}: add `pytestmark = pytest.mark.slow`"
    effective = marks[-1]  # a later `pytestmark = ...` replaces an earlier one
    listed = effective.elts if isinstance(effective, ast.List | ast.Tuple) else [effective]
    assert any(_is_slow_mark(m) for m in listed), f"{module}: the last `pytestmark` must include pytest.mark.slow"


@pytest.mark.parametrize("module,name", CAMPAIGN_TESTS)
def test_campaign_tests_are_marked_slow(module: str, name: str) -> None:
    tree = ast.parse((ROOT / module).read_text())
    [test] = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name]
    assert any(_is_slow_mark(d) for d in test.decorator_list), f"{module}::{name}: add @pytest.mark.slow"
