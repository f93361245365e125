"""Which missions a ``skyform ui`` page shows, and where each one's state and plans are.

``skyform ui`` takes mission directories (or files), directories that hold missions (as
gitops finds them), or only ``--state URL`` (every mission a shared store records, e.g. a
gitops runner's PostgreSQL). A mission given as files is re-read when its files change, so
the page follows an edit; one known only from state is drawn from its recorded resources.
Stores are opened per request and closed after it: a page never holds a SQLite file open
while an apply writes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any

from ..errors import UsageError
from ..plan.model import Plan
from ..providers.host import Registry, load_registry
from ..spec.mission import Mission
from ..state import open_store
from ..state.base import StateStore


@dataclass
class Entry:
    """One mission on the page: its name, where its files are (None: state only), its plans."""

    name: str
    directory: Path | None
    source: Path | None
    plans: list[Path] = field(default_factory=list)


class Site:
    """The missions served, their stores and their loaded specs (cached by file times)."""

    def __init__(self, paths: Sequence[Path], state_url: str | None, plans: Sequence[Path] = ()) -> None:
        self.state_url = state_url
        self.registry: Registry = load_registry()
        self._lock = Lock()
        self._loaded: dict[str, tuple[tuple[float, ...], Mission]] = {}
        self.entries: dict[str, Entry] = {}
        for source in _mission_sources(paths, state_url):
            mission = self._load(source)
            taken = self.entries.get(mission.name)
            if taken is not None:
                raise UsageError(
                    f"two missions are named {mission.name!r}: {taken.source} and {source}",
                    hint="a page shows each mission by its name; serve them apart or rename one (metadata.name)",
                )
            self.entries[mission.name] = Entry(mission.name, mission.directory, source)
        #: state only: the page shows whatever the store records, missions a runner starts later too
        self.state_only = not paths and bool(state_url)
        self.recorded()
        for path in plans:
            plan = Plan.load(path)
            entry = self.entries.get(plan.mission)
            if entry is None:
                raise UsageError(
                    f"{path} is a plan of mission {plan.mission!r}, which this page does not show",
                    hint=f"name its mission too: skyform ui {plan.mission_path or 'MISSION'} --plan {path}",
                )
            entry.plans.append(path)

    def recorded(self) -> dict[str, Entry]:
        """The entries, with (state only) every mission the store records now: a gitops runner
        that starts a mission after the page did is on the page at its next request."""
        if self.state_only:
            with self._open(None) as store:
                names = [row.name for row in store.missions()]
            with self._lock:
                for name in names:
                    self.entries.setdefault(name, Entry(name, None, None))
        return self.entries

    def find(self, name: str) -> Entry | None:
        """The mission named ``name`` on this page (state only: looked up in the store if new)."""
        entry = self.entries.get(name)
        if entry is None and self.state_only:
            entry = self.recorded().get(name)
        return entry

    def mission(self, entry: Entry) -> Mission | None:
        """The mission as its files say now (re-read after an edit), or None (state only)."""
        if entry.source is None:
            return None
        return self._load(entry.source)

    @contextmanager
    def store(self, entry: Entry) -> Iterator[StateStore]:
        with self._open(entry.directory) as store:
            yield store

    @contextmanager
    def _open(self, directory: Path | None) -> Iterator[StateStore]:
        store = open_store(self.state_url, directory or Path.cwd(), self.registry.state_backends.values())
        try:
            yield store
        finally:
            store.close()

    def _load(self, source: Path) -> Mission:
        from ..spec.mission import load, mission_files

        files = mission_files(source)
        stamp = tuple(p.stat().st_mtime for p in files)
        key = str(source)
        with self._lock:
            cached = self._loaded.get(key)
            if cached is not None and cached[0] == stamp:
                return cached[1]
        mission = load(source)
        with self._lock:
            self._loaded[key] = (stamp, mission)
        return mission


def _mission_sources(paths: Sequence[Path], state_url: str | None) -> list[Path]:
    """Each path as a mission, or the missions a directory holds (gitops' discovery)."""
    from ..gitops.discovery import find_missions, holds_mission

    if not paths and not state_url:
        paths = [Path(".")]
    sources: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path} does not exist", hint="name a mission directory or file, or give --state URL")
        if path.is_file() or holds_mission(path):
            sources.append(path)
            continue
        found = find_missions(path)
        if not found:
            raise UsageError(f"{path} holds no mission (no YAML file with kind: Mission under it)")
        sources += [path / rel for rel in found]
    return sources


def describe(entry: Entry) -> dict[str, Any]:
    """What the missions list says of where a mission comes from."""
    return {"name": entry.name, "directory": str(entry.directory) if entry.directory else None}
