"""Helpers of the gitops tests: a real git repository and mission files (imported by the tests)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from click.testing import CliRunner

MISSION = """\
apiVersion: skyform/v1
kind: Mission
metadata: {{name: {name}}}
resources:
  photos:
    type: local.Files
    spec: {{glob: "data/*.txt"}}
{lifecycle}outputs:
  count: "${{{{ resources.photos.outputs.count }}}}"
"""


def mission_yaml(name: str, prevent_destroy: bool = False) -> str:
    lifecycle = "    lifecycle: {prevent_destroy: true}\n" if prevent_destroy else ""
    return MISSION.format(name=name, lifecycle=lifecycle)


class GitRepo:
    """A git repository in a temporary directory, written through ordinary git commands."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        env = {
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org",
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root),
        }
        return subprocess.run(
            ["git", "-C", str(self.root), *args], check=True, capture_output=True, text=True, env=env
        ).stdout.strip()

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def add_mission(self, path: str, name: str, *, files: int = 1, prevent_destroy: bool = False) -> None:
        self.write(f"{path}/mission.yaml", mission_yaml(name, prevent_destroy))
        for i in range(files):
            self.write(f"{path}/data/f{i}.txt", f"{name} {i}\n")

    def remove(self, path: str) -> None:
        self.git("rm", "-r", "--quiet", path)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD")


class Gitops:
    """Runs ``skyform gitops ...`` through click's runner with an isolated workdir."""

    def __init__(self, registry: Any, workdir: Path) -> None:
        self.registry, self.workdir = registry, workdir

    def __call__(self, *args: str) -> tuple[int, str]:
        from skyform.cli.gitops import command

        result = CliRunner().invoke(
            command,
            [*args, "--workdir", str(self.workdir)],
            obj={"registry": self.registry},
            standalone_mode=False,
            catch_exceptions=False,
        )
        return int(result.return_value or 0), result.output

    def json(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, out = self(*args, "--json")
        return code, json.loads(out)


def by_path(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["path"] + ("!" if m["operation"] == "destroy" else ""): m for m in summary["missions"]}
