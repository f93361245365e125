"""The plan a mission's page shows: a saved plan file, else one made from recorded state.

A saved plan (``skyform plan -o FILE``, given with ``--plan``) is shown as it is, read again
when the file changes. Without one, the page plans the mission against its recorded state
with ``--refresh=false``: no service is asked and no state is written, so the page stays
read-only; the plan is kept until the state's serial or the mission's files change. A
mission whose state records a sandbox run is planned with ``--sandbox`` (its simulators
stand in for the services and their credentials); a real mission needs its secrets in
the environment of ``skyform ui``, as ``skyform plan`` does, or a saved plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from ..plan.model import Plan
from .site import Entry, Site


@dataclass(frozen=True)
class Shown:
    """A plan and where it came from, as the page says it."""

    plan: Plan
    origin: str  # "saved plan FILE" or "planned from recorded state (no refresh) at HH:MM:SS"
    path: Path | None = None


class Plans:
    """Saved plans by file time and plans made from state by (serial, spec digest)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._lock = Lock()
        self._saved: dict[Path, tuple[float, Plan]] = {}
        self._made: dict[str, tuple[tuple[int, str], Shown]] = {}

    def latest(self, entry: Entry, *, make: bool) -> Shown | None:
        """The newest saved plan; else a plan from state (made now only when ``make``)."""
        if entry.plans:
            path = max(entry.plans, key=lambda p: p.stat().st_mtime if p.exists() else 0.0)
            return Shown(self._read(path), f"saved plan {path}", path)
        if entry.source is None:
            return None  # known only from state: there is no mission to plan
        mission = self.site.mission(entry)
        assert mission is not None
        with self.site.store(entry) as store:
            row = store.mission(entry.name)
        key = (row.serial if row else 0, mission.digest)
        with self._lock:
            cached = self._made.get(entry.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        if not make:
            return None
        sandbox = bool(row and row.attributes.get("sandbox"))
        shown = Shown(
            self._make(entry, sandbox), "planned from recorded state (no refresh) at " + time.strftime("%H:%M:%S")
        )
        with self._lock:
            self._made[entry.name] = (key, shown)
        return shown

    def check(self, entry: Entry) -> Shown:
        """A fresh plan that asks the services (refresh): what the missions page says of sync
        when no plan was saved. Made only on request (a button), never on a page load: it
        sends a read to every recorded object. Refused while a run holds the mission's lock
        (its sandbox simulators and the run's own would share one state directory)."""
        from ..errors import UsageError

        if entry.source is None:
            raise UsageError(f"mission {entry.name!r} is known only from state: there is no mission to plan")
        with self.site.store(entry) as store:
            row, holder = store.mission(entry.name), store.lock_info(entry.name)
        if holder is not None:
            raise UsageError(
                f"a run holds the lock of {entry.name!r} ({holder.operation or 'a run'} by pid {holder.pid} "
                f"on {holder.host}); sync can be checked once it ends",
                hint="follow the run on its graph page",
            )
        mission = self.site.mission(entry)
        assert mission is not None
        sandbox = bool(row and row.attributes.get("sandbox"))
        shown = Shown(
            self._make(entry, sandbox, refresh=True),
            "checked against the services at " + time.strftime("%H:%M:%S"),
        )
        with self._lock:
            self._made[entry.name] = ((row.serial if row else 0, mission.digest), shown)
        return shown

    def forget(self, entry: Entry) -> None:
        """Drop the plan made from state, so the next page makes it again."""
        with self._lock:
            self._made.pop(entry.name, None)

    def _read(self, path: Path) -> Plan:
        stamp = path.stat().st_mtime
        with self._lock:
            cached = self._saved.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        plan = Plan.load(path)
        with self._lock:
            self._saved[path] = (stamp, plan)
        return plan

    def _make(self, entry: Entry, sandbox: bool, *, refresh: bool = False) -> Plan:
        from ..api import Options, Session

        assert entry.source is not None
        options = Options(state_url=self.site.state_url, refresh=refresh, sandbox=sandbox)
        with Session(entry.source, options) as session:
            return session.plan()
