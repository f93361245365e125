"""Fixtures of the gitops tests: a repository with two missions, a registry, a CLI runner."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # gitops_kit, under --import-mode=importlib
try:
    import skyform_local.plugin  # noqa: F401
except ImportError:  # an editable install made before plugins/ existed: find it by path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

from gitops_kit import Gitops, GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A repository with two missions, committed."""
    r = GitRepo(tmp_path / "repo")
    r.add_mission("missions/alpha", "alpha")
    r.add_mission("missions/beta", "beta")
    r.commit("two missions")
    return r


@pytest.fixture
def registry() -> Any:
    """Only the built-in state backends and the local provider (the other plugins are not needed)."""
    import skyform.state.plugin as state_plugin
    import skyform_local.plugin as local_plugin
    from skyform.providers.host import build_plugin_manager, load_registry

    return load_registry(build_plugin_manager([state_plugin, local_plugin], autoload=False))


@pytest.fixture
def gitops(registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gitops]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv("SKYFORM_STATE", raising=False)
    yield Gitops(registry, tmp_path / "gitops-work")


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The notes "service" directory, outside any checkout."""
    service = tmp_path / "notes-service"
    service.mkdir()
    monkeypatch.setenv("SKYFORM_TEST_NOTES_DIR", str(service))
    return service


@pytest.fixture
def notes_gitops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notes: Path) -> Gitops:
    """gitops with the state backends and the notes provider only."""
    import notes_provider  # type: ignore[import-not-found]

    import skyform.state.plugin as state_plugin
    from skyform.providers.host import build_plugin_manager, load_registry

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SKYFORM_STATE", raising=False)
    registry = load_registry(build_plugin_manager([state_plugin, notes_provider], autoload=False))
    return Gitops(registry, tmp_path / "work")
