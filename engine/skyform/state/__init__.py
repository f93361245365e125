"""Recorded state: missions, resources, an append-only event history and a lock.

:func:`open_store` turns a ``--state`` URL into a StateStore through the registered
backends (SQLite and PostgreSQL are built in, registered as a plugin like any other).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import StateError
from .base import Event, LiveRecord, LockInfo, MissionState, Removal, ResourceState, StateBackend, StateStore

__all__ = [
    "DEFAULT_URL",
    "Event",
    "LiveRecord",
    "LockInfo",
    "MissionState",
    "Removal",
    "ResourceState",
    "StateBackend",
    "StateStore",
    "open_store",
]

DEFAULT_URL = "sqlite:///state.db"


def open_store(url: str | None, mission_dir: Path, backends: Iterable[StateBackend]) -> StateStore:
    """Open the store ``url`` names (None: SQLite ``<mission_dir>/.skyform/state.db``).

    A relative SQLite path is taken from ``<mission_dir>/.skyform``. An unknown scheme is a
    StateError listing the schemes the installed backends claim.
    """
    url = url or DEFAULT_URL
    by_scheme: dict[str, StateBackend] = {}
    for backend in backends:
        for scheme in backend.schemes:
            by_scheme.setdefault(scheme.lower(), backend)
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    found = by_scheme.get(scheme)
    if found is None:
        known = ", ".join(f"{s}://" for s in sorted(by_scheme)) or "none installed"
        what = f"scheme {scheme!r}" if scheme else "no scheme"
        raise StateError(
            f"state URL {url!r} has {what}; known schemes: {known}",
            hint="e.g. --state sqlite:///state.db or --state postgresql://user@host/db",
        )
    return found.open(url, Path(mission_dir) / ".skyform")
