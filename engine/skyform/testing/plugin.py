"""The ``skyform.testing`` pytest fixtures: write a mission, run the CLI, start a sandbox, a state store.

Enable with ``-p skyform.testing`` (command line, or ``addopts`` in your pytest config)::

    def test_plan(write_mission, run_skyform):
        mission = write_mission({"resources": {"a": {"type": "acme.Job", "spec": {"name": "a"}}}})
        result = run_skyform("plan", "--sandbox", str(mission))
        assert result.exit_code == 0, result.output
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..providers.base import Provider
from .runner import CliRun, run_cli

MissionFiles = Mapping[str, "bytes | str"]


def write_mission_files(
    directory: Path,
    mission: Mapping[str, Any] | str,
    *,
    files: MissionFiles | None = None,
    filename: str = "mission.yaml",
) -> Path:
    """Write a mission (a dict, completed with the envelope, or YAML text) and its files; return the dir."""
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(mission, str):
        text = mission
    else:
        document = {
            "apiVersion": "skyform/v1",
            "kind": "Mission",
            "metadata": {"name": directory.name.replace("_", "-") or "mission"},
            **mission,
        }
        text = json.dumps(document, indent=2)  # JSON is YAML; keeps types exact
    (directory / filename).write_text(text)
    for name, content in (files or {}).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return directory


@pytest.fixture
def mission_dir(tmp_path: Path) -> Path:
    """An empty mission directory (``tmp_path/mission``)."""
    path = tmp_path / "mission"
    path.mkdir()
    return path


@pytest.fixture
def write_mission(mission_dir: Path) -> Callable[..., Path]:
    """``write_mission(dict or YAML text, files={...})`` writes ``mission.yaml`` and files; returns the dir."""

    def write(
        mission: Mapping[str, Any] | str, files: MissionFiles | None = None, filename: str = "mission.yaml"
    ) -> Path:
        return write_mission_files(mission_dir, mission, files=files, filename=filename)

    return write


@pytest.fixture
def run_skyform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., CliRun]:
    """``run_skyform(*args, providers=[...], env={...}, subprocess_mode=False)`` -> CliRun.

    The run never touches the user's configuration: HOME and XDG directories point into
    ``tmp_path``. ``providers`` adds uninstalled Provider objects (in-process runs only).
    """
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    for var in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(home))

    def run(*args: str | Path, **kw: Any) -> CliRun:
        from .runner import cli_available

        if not kw.get("subprocess_mode") and not cli_available():
            pytest.skip("the skyform CLI (skyform.cli.main) is not available")
        return run_cli(*args, **kw)

    return run


@dataclass
class Sandbox:
    """Running simulators: their settings per provider, object counts, and fault control."""

    host: Any
    state_dir: Path | None
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def objects(self) -> dict[str, dict[str, int]]:
        """Live object counts per provider and kind."""
        out = {}
        for name, running in self.host.running.items():
            with running.simulator.lock:
                out[name] = dict(running.simulator.objects())
        return out

    def inject(self, rules: list[dict[str, Any]]) -> None:
        """Replace the fault rules of every simulator (format: docs/sandbox.md)."""
        from ..sandbox.faults import FaultRule

        for running in self.host.running.values():
            running.simulator.faults.replace(FaultRule.from_dict(dict(r)) for r in rules)

    def base_url(self, provider: str) -> str:
        return self.host.running[provider].base_url


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    """``sandbox("nodeodm", provider_object, clock_factor=..., faults=[...], persist=False)`` -> Sandbox.

    Names are installed providers (loaded through their entry points); every simulator is
    stopped at the end of the test.
    """
    from ..sandbox.faults import Faults
    from ..sandbox.session import start_sandbox
    from .operations import find_provider

    hosts: list[Any] = []

    def start(
        *providers: str | Provider,
        clock_factor: float = 5000.0,
        faults: list[dict[str, Any]] | None = None,
        persist: bool = False,
    ) -> Sandbox:
        resolved = [find_provider(p) if isinstance(p, str) else p for p in providers]
        state_dir = tmp_path / f"sandbox-{len(hosts)}" if persist else None
        host = start_sandbox(resolved, state_dir, clock_factor=clock_factor, faults=Faults.load(faults or []))
        hosts.append(host)
        return Sandbox(host, state_dir, host.settings())

    yield start
    for host in hosts:
        host.stop()


@pytest.fixture
def state_store(tmp_path: Path) -> Iterator[Any]:
    """An isolated SQLite state store in ``tmp_path`` (closed afterwards)."""
    try:
        from ..state.sqlite import SqliteStateStore
    except ImportError:
        pytest.skip("the SQLite state backend is not available")
    store = SqliteStateStore(tmp_path / "state.db")
    try:
        yield store
    finally:
        store.close()
