"""The StateStore interface every state backend implements (SQLite, PostgreSQL, plugins).

A store holds many missions, each keyed by its name (gitops records the repository, the
mission's path in it and the commit as attributes, and refuses a name another repository
or directory already uses): the mission row (serial, lineage, spec digest, attributes),
its resources, an append-only event history, a bounded live log and a lock. Every ``write`` is one
transaction: either all of its resource rows, events and the serial bump land, or none.
The serial increases with every write; a saved plan records it and is refused when the
state has moved on.

Statuses of a resource: ``creating`` (write-ahead intent recorded, no remote id yet),
``running`` (a remote job in progress), ``ready``, ``failed``, ``updating``, ``deleting``.
A resource removed from state is deleted from the table (its history stays in events).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StateError

if TYPE_CHECKING:
    from .leases import Leases

SCHEMA_VERSION = 5


@dataclass
class MissionState:
    """A mission's row: identity and bookkeeping, not its resources."""

    name: str
    serial: int = 0
    lineage: str = ""
    spec_digest: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)  # e.g. {"commit": ..., "repository": ...}
    updated_at: float = 0.0


@dataclass
class ResourceState:
    """A resource as recorded; ``spec`` is the applied spec with secrets as digests."""

    address: str
    type: str
    status: str
    idempotency_key: str
    intent_at: float
    remote_id: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    private: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    error: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class Event:
    """One entry of the append-only history."""

    kind: str  # "transition", "plan", "apply_started", "apply_finished", "warning", ...
    address: str | None = None
    before: str | None = None
    after: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0
    seq: int = 0


@dataclass(frozen=True)
class LiveRecord:
    """One line of a mission's live log: a progress report, a provider's log line or a retry.

    Not history: many come per call and they matter while the run goes, so a store keeps only
    the last ones (:meth:`StateStore.add_live`). ``n`` increases with every record a store
    keeps (0 until stored); a reader resumes after the last ``n`` it saw. ``data`` holds what
    the record says (``fraction``, ``message``, ``level``, ``attempt``), already redacted.
    """

    kind: str
    address: str | None
    at: float
    data: dict[str, Any] = field(default_factory=dict)
    n: int = 0


@dataclass
class LockInfo:
    """Who holds a mission's lock."""

    holder: str
    pid: int
    host: str
    since: float
    operation: str = ""


@dataclass(frozen=True)
class Approval:
    """An approval of one saved plan (``skyform approve``): who, against which state, until when.

    ``plan_digest`` binds it to exactly that plan; ``serial``/``lineage`` to the state it
    was made against; ``cost`` is the plan's total by currency and ``irreversible`` the
    addresses of its irreversible actions when approved; ``used_at`` is set by the one
    apply it lets through; ``revoked_at``/``revoked_by`` by ``skyform approvals revoke``.
    """

    id: str
    mission: str
    plan_digest: str
    lineage: str
    serial: int
    approver: str
    cost: dict[str, float]
    max_cost: float | None
    irreversible: tuple[str, ...]
    created_at: float
    expires_at: float
    used_at: float | None = None
    revoked_at: float | None = None
    revoked_by: str | None = None


@dataclass
class Removal:
    """A resource to drop from state in a ``write``."""

    address: str


class StateStore(abc.ABC):
    """Interface of a state backend (see the module docstring for the semantics)."""

    url: str

    # -- reading ------------------------------------------------------------------------
    @abc.abstractmethod
    def mission(self, name: str) -> MissionState | None:
        """The mission's row, or None if it was never written."""

    @abc.abstractmethod
    def missions(self) -> list[MissionState]:
        """Every mission in this store, by name."""

    @abc.abstractmethod
    def resources(self, mission: str) -> dict[str, ResourceState]:
        """The mission's resources keyed by address (empty if none)."""

    def has_resources(self, mission: str) -> bool:
        """Whether any resource is recorded (backends answer without decoding them all)."""
        return bool(self.resources(mission))

    def statuses(self, mission: str) -> dict[str, tuple[str, str]]:
        """Address → (type, status) of every recorded resource, without decoding their specs
        and outputs (a page of a 10,000-resource mission asks it on every load)."""
        return {a: (r.type, r.status) for a, r in self.resources(mission).items()}

    @abc.abstractmethod
    def events(self, mission: str, *, address: str | None = None, limit: int | None = None) -> list[Event]:
        """The mission's history, oldest first (the last ``limit`` entries if given)."""

    def events_after(self, mission: str, seq: int, *, limit: int = 1000) -> list[Event]:
        """The entries recorded after ``seq``, oldest first, at most ``limit`` of them.

        What a reader that follows a live run asks again and again (``skyform ui``'s event
        stream resumes from the last id it sent); SQL backends answer from their index.
        """
        return [e for e in self.events(mission) if e.seq > seq][:limit]

    # -- the live log (not part of the serial: progress and log lines change no mission) --------
    def add_live(self, mission: str, records: Sequence[LiveRecord], *, keep: int) -> None:  # noqa: B027 - optional
        """Append ``records`` (redacted by the caller) to the mission's live log in one
        transaction and drop all but its last ``keep``. A backend without a live log drops
        them: the page of a run then shows states and phases only."""

    def live_after(self, mission: str, n: int, *, limit: int = 500) -> list[LiveRecord]:
        """The live records kept after ``n``, oldest first, at most ``limit`` of them."""
        return []

    def live_last(self, mission: str) -> int:
        """The ``n`` of the mission's newest live record (0: none): where "from now on" starts."""
        return 0

    # -- writing ------------------------------------------------------------------------
    @abc.abstractmethod
    def write(
        self,
        mission: str,
        resources: Sequence[ResourceState | Removal] = (),
        events: Sequence[Event] = (),
        *,
        mission_update: dict[str, Any] | None = None,
    ) -> int:
        """Apply resource upserts/removals, append events and update mission fields
        (``spec_digest``, ``outputs``, ``attributes``) in ONE transaction; creates the
        mission row (new lineage) on first write; bumps and returns the serial."""

    def write_with_live(
        self,
        mission: str,
        resources: Sequence[ResourceState | Removal],
        events: Sequence[Event],
        live: Sequence[LiveRecord],
        *,
        keep: int,
    ) -> int:
        """``add_live`` and ``write`` together, so that a reader never sees a status before
        the progress that led to it. The SQL stores make it one transaction (the live
        records of an apply's tick cost no transaction of their own); this default writes
        the live records first, then the rest."""
        if live:
            self.add_live(mission, live, keep=keep)
        return self.write(mission, resources, events)

    @abc.abstractmethod
    def delete_mission(self, mission: str) -> None:
        """Drop a mission and its resources (its events are kept)."""

    # -- locking ------------------------------------------------------------------------
    @abc.abstractmethod
    def acquire_lock(self, mission: str, operation: str, *, warn: Callable[[str], None]) -> LockInfo:
        """Take the mission's lock or raise ``LockHeld`` naming the holder at once.

        A lock whose holder process is dead on this host is taken over, with ``warn``
        called to say so. PostgreSQL locks are session-scoped: they vanish with their holder.
        """

    @abc.abstractmethod
    def release_lock(self, mission: str) -> None:
        """Release a lock this process holds (no error if it is not held)."""

    @abc.abstractmethod
    def lock_info(self, mission: str) -> LockInfo | None:
        """Who holds the lock now, or None."""

    @abc.abstractmethod
    def force_unlock(self, mission: str) -> LockInfo | None:
        """Remove the lock whoever holds it; return who held it."""

    @contextmanager
    def locked(self, mission: str, operation: str, *, warn: Callable[[str], None]) -> Iterator[LockInfo]:
        info = self.acquire_lock(mission, operation, warn=warn)
        try:
            yield info
        finally:
            self.release_lock(mission)

    # -- approvals (not part of the serial: an approval changes no mission) ----------------
    def add_approval(self, approval: Approval) -> None:
        """Record an approval; backends without approvals refuse (the CLI says so)."""
        raise StateError(f"the state backend {self.url} keeps no approvals", hint="use a SQLite or PostgreSQL state")

    def approvals(self, mission: str) -> list[Approval]:
        """The mission's approvals, oldest first (none for a backend without them)."""
        return []

    def use_approval(self, approval_id: str, at: float) -> bool:
        """Mark an approval used, once: True for the caller that marked it, False if it was already
        (or it was revoked meanwhile)."""
        raise StateError(f"the state backend {self.url} keeps no approvals")

    def revoke_approval(self, approval_id: str, at: float, by: str) -> Approval | None:
        """Revoke an approval (unused or not); the approval as it now is, None if no such id."""
        raise StateError(f"the state backend {self.url} keeps no approvals")

    def every_approval(self) -> list[Approval]:
        """Every mission's approvals, oldest first (``approvals revoke`` finds an id among them)."""
        return []

    def backup(self) -> Path | None:
        """Keep a copy of the whole store as it is now; return where it is.

        Called when an apply or destroy has written its last record (and before a schema
        migration). None: this backend leaves backups to its operator (PostgreSQL: pg_dump
        or point-in-time recovery).
        """
        return None

    def leases(self) -> Leases:
        """The operation leases and workers seen (the celery executor); the SQL backends keep
        them next to the state, other backends may not."""
        from ..errors import StateError

        raise StateError(
            f"the state backend {type(self).__name__} keeps no operation leases",
            hint="the celery executor needs a SQL state: --state postgresql://... (or sqlite for one machine)",
        )

    def close(self) -> None:  # noqa: B027 - optional: a store without connections has nothing to release
        """Release connections."""


@dataclass(frozen=True)
class StateBackend:
    """A state backend as registered by plugins: the URL schemes it claims and a factory.

    ``open(url, default_dir)`` returns a StateStore; ``default_dir`` is the mission's
    ``.skyform`` directory (where a relative SQLite path lives).
    """

    name: str
    schemes: tuple[str, ...]
    open: Callable[[str, Path], StateStore]
    description: str = ""
