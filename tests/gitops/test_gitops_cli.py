"""The real ``skyform`` command, as CI runs it: a subprocess with the installed plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from gitops_kit import GitRepo  # type: ignore[import-not-found]

pytestmark = pytest.mark.skipif(
    "state" not in {ep.name for ep in metadata.entry_points(group="skyform")},
    reason="the installed skyform metadata predates the `state` entry point: reinstall (pip install -e .)",
)


def skyform(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SKYFORM_DISABLE_PLUGIN_AUTOLOAD="1", SKYFORM_PLUGINS="state,local", **env_extra)
    env.pop("SKYFORM_STATE", None)
    return subprocess.run(
        [sys.executable, "-m", "skyform.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_gitops_through_the_skyform_command(repo: GitRepo, tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path / "xdg")}
    plan = skyform("gitops", "plan", str(repo.root), "--detailed-exitcode", "--json", env_extra=env)
    assert plan.returncode == 2, plan.stderr
    assert json.loads(plan.stdout)["summary"] == {"changes": 2}
    applied = skyform("gitops", "apply", str(repo.root), env_extra=env)
    assert applied.returncode == 0, applied.stderr
    assert "missions/alpha (alpha) @" in applied.stdout and "2 mission(s) at" in applied.stdout
    again = skyform("gitops", "plan", str(repo.root), "--detailed-exitcode", env_extra=env)
    assert again.returncode == 0, again.stderr


def test_bad_ref_is_a_message_not_a_traceback(repo: GitRepo, tmp_path: Path) -> None:
    done = skyform(
        "gitops",
        "plan",
        str(repo.root),
        "--ref",
        "nope",
        "--detailed-exitcode",
        env_extra={"XDG_STATE_HOME": str(tmp_path / "xdg")},
    )
    assert done.returncode == 1
    assert "'nope' is not a commit, branch or tag" in done.stderr and "Traceback" not in done.stderr
