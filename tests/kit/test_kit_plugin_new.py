"""`skyform plugin new NAME`: the scaffolded provider package installs and passes its own tests."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from skyform.cli.plugin import command
from skyform.errors import UsageError

EXPECTED = [
    "README.md",
    "pyproject.toml",
    "skyform_acme/__init__.py",
    "skyform_acme/job.py",
    "skyform_acme/plugin.py",
    "skyform_acme/provider.py",
    "skyform_acme/schemas.py",
    "skyform_acme/simulator/__init__.py",
    "skyform_acme/simulator/server.py",
    "tests/test_acme_contract.py",
    "tests/test_acme_mission.py",
]


def test_plugin_new_writes_a_complete_package(tmp_path: Path) -> None:
    """The package has an entry point, a kind, a simulator, contract tests and a README."""
    result = CliRunner().invoke(command, ["new", "acme", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    target = tmp_path / "skyform-acme"
    assert f"created {target}" in result.output
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == EXPECTED
    pyproject = (target / "pyproject.toml").read_text()
    assert '[project.entry-points.skyform]\nacme = "skyform_acme.plugin"' in pyproject
    assert "@@" not in "".join(p.read_text() for p in target.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", ["Acme", "a", "my-provider", "1st", "x" * 40])
def test_plugin_new_refuses_names_that_cannot_be_type_prefixes(tmp_path: Path, name: str) -> None:
    """NAME must be lowercase letters and digits starting with a letter (it prefixes types: acme.Job)."""
    result = CliRunner().invoke(command, ["new", name, "--dir", str(tmp_path)])
    assert isinstance(result.exception, UsageError)
    assert f"invalid provider name {name!r}: use 2-31 lowercase letters and digits" in str(result.exception)


def test_plugin_new_never_overwrites_a_package(tmp_path: Path) -> None:
    """A non-empty target directory is refused, leaving it untouched."""
    (tmp_path / "skyform-acme").mkdir()
    (tmp_path / "skyform-acme" / "mine.txt").write_text("keep")
    result = CliRunner().invoke(command, ["new", "acme", "--dir", str(tmp_path)])
    assert isinstance(result.exception, UsageError)
    assert "skyform-acme already exists and is not empty" in str(result.exception)
    assert [p.name for p in (tmp_path / "skyform-acme").iterdir()] == ["mine.txt"]


def _can_build_without_isolation() -> bool:
    """setuptools builds wheels by itself from 70.1 on; before that it needs `wheel`."""
    import setuptools

    major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.mark.slow  # a campaign: pip builds and installs the package, then its own pytest runs
def test_generated_package_installs_and_its_tests_pass_unchanged(tmp_path: Path) -> None:
    """pip installs the package (entry point included) and `python -m pytest` in it passes.

    Only the generated provider and the state backend are loaded (SKYFORM_PLUGINS), so the
    built-in providers' state does not decide this test.
    """
    CliRunner().invoke(command, ["new", "acme", "--dir", str(tmp_path)], catch_exceptions=False)
    package, site = tmp_path / "skyform-acme", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site)]
    if _can_build_without_isolation():
        pip.append("--no-build-isolation")
    else:  # an isolated build needs setuptools from the configured (local) index
        pip.remove("--no-index")
    installed = subprocess.run([*pip, str(package)], capture_output=True, text=True, timeout=300, check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (site / "skyform_acme-0.1.0.dist-info" / "entry_points.txt").read_text().split() == [
        "[skyform]",
        "acme",
        "=",
        "skyform_acme.plugin",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "SKYFORM_DISABLE_PLUGIN_AUTOLOAD": "1",
        "SKYFORM_PLUGINS": "state,acme",
    }
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=package,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout and "failed" not in tests.stdout
