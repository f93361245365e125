"""Fixtures for the state contract suite: one ``store_url`` per backend.

PostgreSQL runs when ``SKYFORM_TEST_POSTGRES_URL`` is set (each test in its own schema,
dropped afterwards, so parallel runs never collide); when the variable is set and the
server cannot be reached the tests fail rather than skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from skyform.errors import StateError
from skyform.state import StateStore, open_store
from skyform.state.plugin import skyform_state_backends

POSTGRES_ENV = "SKYFORM_TEST_POSTGRES_URL"
HOLDER_SCRIPT = Path(__file__).with_name("lock_holder.py")


def _postgres_url() -> str:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}schema=skyform_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state URL for each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    url = _postgres_url()
    try:
        first = open_store(url, tmp_path, skyform_state_backends())
    except StateError as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {exc}")
    yield url
    first.drop_schema()  # type: ignore[attr-defined]
    first.close()


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL state URL (for PostgreSQL-only behaviour)."""
    url = _postgres_url()
    try:
        first = open_store(url, tmp_path, skyform_state_backends())
    except StateError as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {exc}")
    yield url
    first.drop_schema()  # type: ignore[attr-defined]
    first.close()


@pytest.fixture
def open_url(tmp_path: Path) -> Iterator[Callable[[str], StateStore]]:
    """Open stores by URL; every store opened is closed at the end of the test."""
    stores: list[StateStore] = []

    def opener(url: str) -> StateStore:
        store = open_store(url, tmp_path, skyform_state_backends())
        stores.append(store)
        return store

    yield opener
    for store in stores:
        store.close()


@pytest.fixture
def store(store_url: str, open_url: Callable[[str], StateStore]) -> StateStore:
    return open_url(store_url)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start another process that takes a mission's lock (see lock_holder.py)."""
    procs: list[subprocess.Popen[str]] = []

    def start(url: str, mission: str, mode: str, *extra: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, str(HOLDER_SCRIPT), url, str(tmp_path), mission, mode, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
