"""The built-in state backends, registered through the ``skyform`` entry-point group like any plugin.

Backends are imported only when a store is opened, so that listing plugins stays cheap.
"""

from __future__ import annotations

from pathlib import Path

from .. import hookimpl
from .base import StateBackend, StateStore


def open_sqlite(url: str, default_dir: Path) -> StateStore:
    """``sqlite:///PATH``: PATH relative to the mission's ``.skyform`` dir; ``sqlite:////abs`` absolute."""
    from .sqlite import SqliteStateStore

    return SqliteStateStore(sqlite_path(url, default_dir))


def sqlite_path(url: str, default_dir: Path) -> Path:
    """The file a ``sqlite:`` URL names (``sqlite:`` alone: ``state.db`` in ``default_dir``)."""
    rest = url.split(":", 1)[1]
    if rest.startswith("///"):
        rest = rest[3:]
    elif rest.startswith("//"):
        rest = rest[2:]
    rest = rest.split("?", 1)[0]
    if not rest:
        return default_dir / "state.db"
    path = Path(rest).expanduser()
    return path if path.is_absolute() else default_dir / path


def open_postgres(url: str, default_dir: Path) -> StateStore:
    """``postgresql://user@host:port/db[?schema=NAME]`` (``postgres://`` too)."""
    from .postgres import PostgresStateStore

    return PostgresStateStore(url)


@hookimpl
def skyform_state_backends() -> list[StateBackend]:
    return [
        StateBackend(
            name="sqlite",
            schemes=("sqlite",),
            open=open_sqlite,
            description="one SQLite file (default .skyform/state.db in the mission directory)",
        ),
        StateBackend(
            name="postgresql",
            schemes=("postgresql", "postgres"),
            open=open_postgres,
            description="a PostgreSQL schema shared by teams and runners, with session locks",
        ),
    ]
