"""Shared test configuration: the skyform.testing fixtures, and no stray environment."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

pytest_plugins = ["skyform.testing.plugin"]


def _keep_bytecode() -> None:
    """Compiled modules are kept, outside the source tree, even where PYTHONDONTWRITEBYTECODE is set.

    With it set (as on the shared machines), every CLI subprocess the suite starts compiled the
    engine from source again, and each xdist worker re-rewrote the asserts of every test
    module: ~0.4 s of CPU per process start and 2/3 of collection. Bytecode then goes to
    PYTHONPYCACHEPREFIX (default ``$TMPDIR/skyform-pycache-UID``), never into the checkout;
    this process and the processes it starts (through the environment) read and write it there.
    """
    if not sys.dont_write_bytecode and not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    prefix = os.environ.get("PYTHONPYCACHEPREFIX") or sys.pycache_prefix
    if not prefix:
        prefix = str(Path(tempfile.gettempdir()) / f"skyform-pycache-{os.getuid()}")
    sys.dont_write_bytecode = False
    sys.pycache_prefix = prefix
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = prefix


_keep_bytecode()  # at import: before the test modules are collected and any process is started


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
