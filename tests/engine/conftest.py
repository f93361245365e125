"""Fixtures of the engine suite: the fake provider only, missions in tmp_path, the CLI two ways.

Every test runs with plugin autoload off and only ``local``, ``state`` and the test provider
``fakeprov`` (tests/engine/fakeprov) registered, so the engine's tests do not depend on the
other providers. The CLI runs in-process through :func:`skyform.cli.main.run` (fast; output
captured with capsys) or as a subprocess (signals, TTY-less stdin, a fresh interpreter).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent

ENGINE_ENV = {
    "SKYFORM_DISABLE_PLUGIN_AUTOLOAD": "1",
    "SKYFORM_PLUGINS": "local,state",
    "SKYFORM_PLUGIN_MODULES": "fakeprov.plugin",
    "SKYFORM_RETRY_BASE": "0.05",
    "SKYFORM_SANDBOX_CLOCK": "600",
    "NO_COLOR": "1",
}

HEADER = "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: %s}\n"

#: a mission body with a paid, irreversible capture and a free note: what the approval and gate
#: tests plan, approve and apply
COSTLY = """
    resources:
      capture: {type: fake.Thing, spec: {name: capture, cost: 100, irreversible: "a capture once taken is paid"}}
      notes: {type: fake.Thing, spec: {name: notes}}
"""


@dataclass
class Ran:
    """One CLI run: exit code and captured streams."""

    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        """stdout as JSON lines (every non-empty line must parse)."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def clean(self) -> Ran:
        """Bad input ends as a message, never a traceback (returns self for chaining)."""
        assert "Traceback" not in self.err, str(self)
        assert "Traceback" not in self.out, str(self)
        assert "internal error" not in self.err, str(self)
        return self

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def mission_text(name: str, body: str) -> str:
    """A complete mission file: the envelope header plus ``body`` (dedented YAML)."""
    return HEADER % name + textwrap.dedent(body).lstrip("\n")


class Workspace:
    """A mission directory in tmp_path and ways to run skyform on it."""

    def __init__(self, path: Path, capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
        self.path = path
        self.capsys = capsys
        self.env = env

    # -- files --------------------------------------------------------------------------
    def write(self, body: str, name: str = "mission", file: str = "mission.yaml") -> Path:
        """Write a mission file (header added) and return its path."""
        target = self.path / file
        target.write_text(mission_text(name, body))
        return target

    def raw(self, text: str | bytes, file: str = "mission.yaml") -> Path:
        target = self.path / file
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)
        return target

    # -- running ------------------------------------------------------------------------
    def run(self, *args: str, env: dict[str, str] | None = None) -> Ran:
        """skyform in this process (import cost paid once); ``env`` adds variables for the run.

        Like a new process, the run knows no secret an earlier run resolved
        (:func:`skyform.redact.isolated`).
        """
        from skyform import redact
        from skyform.cli import main as cli_main

        self.capsys.readouterr()
        saved = {k: os.environ.get(k) for k in env or {}}
        os.environ.update(env or {})
        try:
            with redact.isolated():
                code = cli_main.run([str(a) for a in args])
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        captured = self.capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    def sub(
        self, *args: str, timeout: float = 60, stdin: Any = subprocess.DEVNULL, env: dict[str, str] | None = None
    ) -> Ran:
        """skyform as a subprocess (a fresh interpreter, no TTY on stdin); ``env`` adds variables."""
        proc = subprocess.run(
            skyform_command(*args),
            env={**self.env, **(env or {})},
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=stdin,
            check=False,
        )
        return Ran(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """skyform started in the background (its own session, so signals reach only it)."""
        return subprocess.Popen(
            skyform_command(*args),
            env={**self.env, **(env or {})},
            cwd=self.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )

    # -- the sandbox and the state ------------------------------------------------------
    @property
    def sandbox_file(self) -> Path:
        return self.path / ".skyform" / "sandbox" / "fake.json"

    def remote(self) -> dict[str, Any]:
        """The fake simulator's persisted data (objects by id, create/delete counters)."""
        if not self.sandbox_file.exists():
            return {"objects": {}, "creates": 0, "deleted": 0}
        return json.loads(self.sandbox_file.read_text())

    def remote_objects(self) -> list[dict[str, Any]]:
        return list(self.remote()["objects"].values())

    def edit_remote(self, oid: str, **changes: Any) -> None:
        data = self.remote()
        data["objects"][oid].update(changes)
        self.sandbox_file.write_text(json.dumps(data))

    def store(self) -> Any:
        """The mission's SQLite state store (caller closes it)."""
        from skyform.state.sqlite import SqliteStateStore

        return SqliteStateStore(self.path / ".skyform" / "state.db")

    def records(self, mission: str = "mission") -> dict[str, Any]:
        store = self.store()
        try:
            return store.resources(mission)
        finally:
            store.close()


def skyform_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from skyform.cli.main import main; main()", *map(str, args)]


@pytest.fixture
def engine_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The process environment for the fake provider (also returned for subprocesses)."""
    for key, value in ENGINE_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("SKYFORM_SANDBOX_FAULTS", "SKYFORM_TRACE_HOOKS", "SKYFORM_STATE", "SKYFORM_NO_CACHE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.syspath_prepend(str(HERE))
    import skyform.apply.retry

    monkeypatch.setattr(skyform.apply.retry, "RETRY_BASE", 0.05)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


@pytest.fixture
def ws(tmp_path: Path, capsys: pytest.CaptureFixture[str], engine_env: dict[str, str]) -> Workspace:
    """A fresh mission directory with the fake provider available."""
    mission_dir = tmp_path / "m"
    mission_dir.mkdir()
    return Workspace(mission_dir, capsys, engine_env)


@pytest.fixture
def served(ws: Workspace, tmp_path: Path) -> Iterator[Callable[[str], tuple[Path, Any]]]:
    """``served(body)``: the mission written pointed at a fake service on loopback (a real
    run, not --sandbox), with the service to count its requests; stopped after the test."""
    from contextlib import ExitStack

    from fakeprov.simulator import TOKEN, FakeSimulator

    from skyform.sandbox.host import SimulatorHost
    from skyform.sandbox.simulator import SimulatorOptions

    with ExitStack() as stack:

        def start(body: str) -> tuple[Path, Any]:
            host = stack.enter_context(SimulatorHost())
            service = FakeSimulator(SimulatorOptions(state_dir=tmp_path / "service"))
            running = host.start(service)
            providers = f'providers:\n  fake: {{url: "{running.base_url}", token: {TOKEN}}}\n'
            return ws.write(providers + textwrap.dedent(body).lstrip("\n")), service

        yield start


def planned(ws: Workspace, mission: Path, name: str = "plan.json") -> Path:
    """``skyform plan -o`` of ``mission`` into the workspace: the saved plan's path."""
    out = ws.path / name
    ran = ws.run("plan", "-o", str(out), str(mission))
    assert ran.code == 0, str(ran)
    return out
