"""Shared test configuration: the skyform.testing fixtures, and no stray environment."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["skyform.testing.plugin"]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read the developer's secrets or write into their caches."""
    for name in list(os.environ):
        if name.startswith("SKYFORM_SECRET_"):
            monkeypatch.delenv(name, raising=False)
    for name in ("SKYFORM_ARTIFACTS", "SKYFORM_ARTIFACTS_ENDPOINT"):  # each mission's own store unless a test says
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-state"))
