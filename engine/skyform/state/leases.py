"""Leases of operations run by workers, with fencing tokens, in the state database.

A worker that picks up an operation (``skyform worker``, :mod:`skyform.distributed`) takes
its lease first: one row per call, whose ``token`` grows by one with every worker that takes
it. The lease is renewed by heartbeat while the operation runs; a worker finding a lease
still held by another (live) worker waits for it to lapse. The coordinator accepts a result
only with the current token (:meth:`Leases.finish`), so a stale worker's late answer - one
whose lease lapsed and was taken over - is refused. ``deliveries`` counts how often the
call was taken: an operation that keeps killing its worker is stopped after a limit.

Ownership is kept here, not trusted to the broker: a broker may deliver a message twice.
The rows live in the same database as the state (SQLite or PostgreSQL, schema v2).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Lease:
    """One call's lease as recorded."""

    call_id: str
    mission: str
    address: str
    step: str
    queue: str
    token: int
    worker: str
    deliveries: int
    expires_at: float
    finished_at: float | None = None


@dataclass(frozen=True)
class Taken:
    """What :meth:`Leases.take` found: the lease granted, a call already finished, or a
    live holder to wait for (``wait`` seconds until its lease lapses)."""

    lease: Lease | None = None
    finished: bool = False
    holder: str | None = None
    wait: float = 0.0


@dataclass(frozen=True)
class WorkerSeen:
    """A worker that took or renewed a lease (``skyform status``)."""

    name: str
    host: str
    pid: int
    queues: list[str]
    seen_at: float


_COLUMNS = "call_id, mission, address, step, queue, token, worker, deliveries, expires_at, finished_at"


class Leases:
    """The lease and worker tables of one SQL state store."""

    def __init__(self, store: Any) -> None:  # a SqlStateStore (its cursors and SQL dialect)
        self.store = store
        # PostgreSQL: the row is locked for the transaction (SQLite's BEGIN IMMEDIATE already
        # serialises writers)
        self._for_update = " FOR UPDATE" if store._placeholder != "?" else ""

    def take(
        self, call_id: str, *, mission: str, address: str, step: str, queue: str, worker: str, ttl: float
    ) -> Taken:
        """Take the lease of ``call_id`` for ``worker`` (a new token), unless finished or held."""
        sql, now = self.store._sql, time.time()
        with self.store._writing() as cur:
            cur.execute(
                sql(
                    "INSERT INTO {t}leases (call_id, mission, address, step, queue, token, worker, deliveries,"
                    " expires_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, '', 0, 0, ?) ON CONFLICT (call_id) DO NOTHING"
                ),
                (call_id, mission, address, step, queue, now),
            )
            cur.execute(sql(f"SELECT {_COLUMNS} FROM {{t}}leases WHERE call_id = ?{self._for_update}"), (call_id,))
            row = _lease(cur.fetchone())
            if row.finished_at is not None:
                return Taken(finished=True)
            if row.worker and row.worker != worker and row.expires_at > now:
                return Taken(holder=row.worker, wait=row.expires_at - now)
            token, deliveries = row.token + 1, row.deliveries + 1
            cur.execute(
                sql(
                    "UPDATE {t}leases SET token = ?, worker = ?, deliveries = ?, queue = ?, expires_at = ?,"
                    " updated_at = ? WHERE call_id = ?"
                ),
                (token, worker, deliveries, queue, now + ttl, now, call_id),
            )
        return Taken(
            lease=Lease(call_id, mission, address, step, queue, token, worker, deliveries, now + ttl),
        )

    def renew(self, call_id: str, token: int, ttl: float) -> bool:
        """Extend a lease still held with ``token``; False when it was taken over or finished."""
        now = time.time()
        with self.store._writing() as cur:
            cur.execute(
                self.store._sql(
                    "UPDATE {t}leases SET expires_at = ?, updated_at = ?"
                    " WHERE call_id = ? AND token = ? AND finished_at IS NULL"
                ),
                (now + ttl, now, call_id, token),
            )
            return bool(cur.rowcount)

    def finish(self, call_id: str, token: int) -> bool:
        """Accept the result of ``call_id`` from the holder of ``token``: True once, for the
        current token only (a stale or repeated result is refused)."""
        now = time.time()
        with self.store._writing() as cur:
            cur.execute(
                self.store._sql(
                    "UPDATE {t}leases SET finished_at = ?, updated_at = ?"
                    " WHERE call_id = ? AND token = ? AND finished_at IS NULL"
                ),
                (now, now, call_id, token),
            )
            return bool(cur.rowcount)

    def abandon(
        self, call_id: str, *, mission: str, address: str, step: str, queue: str, now: float | None = None
    ) -> bool:
        """Close ``call_id`` for good on the coordinator's side (it gave up waiting): a worker
        that takes its message later finds it finished and does not run it. False when a live
        worker holds it now (the wait is over: its result is coming)."""
        now = time.time() if now is None else now
        with self.store._writing() as cur:
            cur.execute(
                self.store._sql(
                    "INSERT INTO {t}leases (call_id, mission, address, step, queue, token, worker, deliveries,"
                    " expires_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, '', 0, 0, ?) ON CONFLICT (call_id) DO NOTHING"
                ),
                (call_id, mission, address, step, queue, now),
            )
            cur.execute(
                self.store._sql(
                    "UPDATE {t}leases SET finished_at = ?, updated_at = ?"
                    " WHERE call_id = ? AND finished_at IS NULL AND (token = 0 OR expires_at <= ?)"
                ),
                (now, now, call_id, now),
            )
            return bool(cur.rowcount)

    def forget(self, mission: str, before: float) -> int:
        """Drop ``mission``'s leases untouched since ``before`` (epoch seconds): finished
        ones, and ones a dead coordinator left. Only for times no delivery can still come
        from (well past the broker's redelivery window)."""
        with self.store._writing() as cur:
            cur.execute(
                self.store._sql("DELETE FROM {t}leases WHERE mission = ? AND updated_at < ?"), (mission, before)
            )
            return int(cur.rowcount or 0)

    def get(self, call_id: str) -> Lease | None:
        with self.store._reading() as cur:
            cur.execute(self.store._sql(f"SELECT {_COLUMNS} FROM {{t}}leases WHERE call_id = ?"), (call_id,))
            row = cur.fetchone()
        return _lease(row) if row else None

    def running(self, mission: str) -> list[Lease]:
        """The unfinished leases of ``mission`` (live or lapsed), oldest first."""
        with self.store._reading() as cur:
            cur.execute(
                self.store._sql(
                    f"SELECT {_COLUMNS} FROM {{t}}leases WHERE mission = ? AND finished_at IS NULL"
                    " AND token > 0 ORDER BY updated_at"
                ),
                (mission,),
            )
            return [_lease(r) for r in cur.fetchall()]

    def seen(self, name: str, *, host: str, pid: int, queues: list[str]) -> None:
        """Record that worker ``name`` is alive and consumes ``queues``."""
        now = time.time()
        with self.store._writing() as cur:
            cur.execute(
                self.store._sql(
                    "INSERT INTO {t}workers (name, host, pid, queues, seen_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid,"
                    " queues = excluded.queues, seen_at = excluded.seen_at"
                ),
                (name, host, pid, json.dumps(queues), now),
            )

    def workers(self) -> list[WorkerSeen]:
        """Every worker seen, most recent first."""
        with self.store._reading() as cur:
            cur.execute(
                self.store._sql("SELECT name, host, pid, queues, seen_at FROM {t}workers ORDER BY seen_at DESC")
            )
            return [WorkerSeen(r[0], r[1], int(r[2]), _queues(r[3]), float(r[4])) for r in cur.fetchall()]


def _queues(value: Any) -> list[str]:
    """A JSON column: text in SQLite, decoded already from PostgreSQL's JSONB."""
    return list(json.loads(value) if isinstance(value, (str, bytes)) else value)


def _lease(row: Any) -> Lease:
    return Lease(
        str(row[0]),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        int(row[5]),
        str(row[6]),
        int(row[7]),
        float(row[8]),
        None if row[9] is None else float(row[9]),
    )
