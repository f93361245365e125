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


def _temporary_files_in_memory() -> None:
    """Test files (``tmp_path``, and what the processes the tests start write) go to RAM.

    Most tests write a SQLite state and a simulator's file and commit them many times: on
    these machines' shared disk every commit waited for the disk (a module of planner tests
    spent 1/3 of its wall time there, under others' load more). Where ``/dev/shm`` is a
    writable tmpfs and ``TMPDIR`` is not set, ``TMPDIR`` becomes ``/dev/shm/skyform-tmp-UID``
    for the run and the processes it starts; ``TMPDIR=/tmp pytest ...`` keeps them on disk.
    Nothing a test checks depends on the disk: no test cuts the power.
    """
    shm = Path("/dev/shm")
    if os.environ.get("TMPDIR") or not shm.is_dir() or not os.access(shm, os.W_OK):
        return
    if os.statvfs(shm).f_bavail * os.statvfs(shm).f_frsize < 2 << 30:  # under 2 GiB free: stay on disk
        return
    root = shm / f"skyform-tmp-{os.getuid()}"
    if root.is_symlink():
        return
    root.mkdir(exist_ok=True)
    if root.stat().st_uid == os.getuid():
        root.chmod(0o1777)  # as /tmp: a test running a command as another user needs to reach its files
    os.environ["TMPDIR"] = str(root)
    tempfile.tempdir = None  # gettempdir() was cached by pytest's capture before this module loaded


_keep_bytecode()  # at import: before the test modules are collected and any process is started
_temporary_files_in_memory()  # after: compiled bytecode stays where later runs find it


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
