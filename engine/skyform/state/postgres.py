"""PostgreSQL state for teams and runners on several machines (psycopg 3).

The tables are those of SQLite (see ``_migrations``), in their own PostgreSQL schema
(``skyform`` unless the URL says ``?schema=NAME``), created and migrated by skyform under a
transaction-scoped advisory lock so that two runners starting at once migrate only once.

The per-mission lock is a session-scoped advisory lock (``pg_try_advisory_lock``) taken on a
dedicated connection that stays open while the lock is held: when the holder dies, its
connection closes and the server releases the lock by itself. A row in ``locks`` carries the
holder's name, pid and host for messages; a row whose advisory lock is gone is stale and is
taken over with a warning. Locks of different missions are different keys, so applies of
different missions proceed in parallel.

Threads: one connection for reads and writes, serialised by a mutex (psycopg connections
are not meant for concurrent use); each write is one transaction.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from .. import redact
from ..errors import StateError
from . import _holder
from ._migrations import POSTGRES, pending
from ._sql import SqlStateStore, dump
from .base import SCHEMA_VERSION, LockInfo
from .sqlite import too_new

DEFAULT_SCHEMA = "skyform"
CONNECT_TIMEOUT_S = 10
IDLE_CHECK_S = 30.0
# The lock session's application_name (PostgreSQL keeps its first 63 bytes).
_APP_NAME = re.compile(r"^skyform lock pid (?P<pid>\d+)(?: (?P<holder>[^@]*)@(?P<host>.*))?$")
_CREATED = re.compile(r"CREATE TABLE (\w+)")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def parse_url(url: str) -> tuple[str, str, str]:
    """(connection string for libpq, schema name, the URL with its password masked)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = DEFAULT_SCHEMA
    kept = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    if not _IDENTIFIER.match(schema):
        raise StateError(
            f"state URL schema {schema!r} is not a valid PostgreSQL identifier",
            hint="use letters, digits and underscores, e.g. ?schema=skyform_team",
        )
    scheme = "postgresql"
    conninfo = urlunsplit((scheme, parts.netloc, parts.path, urlencode(kept), ""))
    if parts.password:
        redact.register(parts.password)
    shown_netloc = parts.netloc
    if parts.password:
        shown_netloc = shown_netloc.replace(f":{parts.password}@", ":***@")
    shown = urlunsplit((parts.scheme, shown_netloc, parts.path, parts.query, ""))
    return conninfo, schema, shown


class PostgresStateStore(SqlStateStore):
    """State in a PostgreSQL schema, shared by every runner that points at it."""

    _placeholder = "%s"

    def __init__(self, url: str) -> None:
        self._conninfo, self.schema, self.url = parse_url(url)
        self._prefix = f'"{self.schema}".'
        self._mutex = threading.RLock()
        self._lock_connections: dict[str, psycopg.Connection[Any]] = {}
        self._conn: psycopg.Connection[Any] | None = None
        self._last_used = time.monotonic()
        self._migrate()

    # -- connections and error translation ------------------------------------------------
    def _connect(self, purpose: str) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name=f"skyform {purpose}",
            )
        except psycopg.Error as exc:
            raise StateError(
                f"cannot connect to the PostgreSQL state at {self.url}: {redact.redact(str(exc).strip())}",
                hint="check that the server is running and the URL is right",
            ) from exc

    def _connection(self) -> psycopg.Connection[Any]:
        """The shared connection; reopened when broken, and checked after an idle spell
        (a server restart or an idle timeout would otherwise fail the next statement)."""
        now = time.monotonic()
        conn = self._conn
        if conn is not None and not conn.broken and now - self._last_used > IDLE_CHECK_S:
            try:
                conn.execute("SELECT 1")
            except psycopg.OperationalError:
                conn.close()
        if conn is None or conn.closed or conn.broken:
            conn = self._conn = self._connect("state")
        self._last_used = now
        return conn

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise StateError(
                f"could not {action} the PostgreSQL state at {self.url}: "
                f"{redact.redact(str(exc).strip())}; nothing was changed"
            ) from exc

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        with self._mutex, self._translated("read"):
            yield self._connection().cursor()

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        with self._mutex, self._translated("write"):
            conn = self._connection()
            with conn.transaction():
                yield conn.cursor()

    # -- schema ---------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._writing() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_key(self.schema, "\0migrate"),))
            current = self._recorded_version(cur)
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self._prefix}skyform_schema (version INTEGER NOT NULL)")
            for version, statements in pending(POSTGRES, current, self._prefix):
                for sql in statements:
                    cur.execute(sql)
                cur.execute(f"DELETE FROM {self._prefix}skyform_schema")
                cur.execute(f"INSERT INTO {self._prefix}skyform_schema (version) VALUES (%s)", (version,))

    def _recorded_version(self, cur: Any) -> int:
        """The schema's skyform version; 0 only for a schema that is missing or holds no table.

        The PostgreSQL form of "a damaged state is never an empty state": tables without
        ``skyform_schema`` are someone else's, an empty ``skyform_schema`` or a missing table
        is damage; each is refused with nothing created or changed.
        """
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (self.schema,))
        tables = {row[0] for row in cur.fetchall()}
        if not tables:
            return 0  # no state yet (a schema made empty by a DBA for skyform is fine)
        where = f"the PostgreSQL state at {self.url} (schema {self.schema})"
        if "skyform_schema" not in tables:
            raise StateError(
                f"{where} holds tables {', '.join(sorted(tables))} but is not skyform state; skyform did not change it",
                hint="point --state at another ?schema=NAME",
            )
        cur.execute(f"SELECT MAX(version) FROM {self._prefix}skyform_schema")
        current = int(cur.fetchone()[0] or 0)
        if current > SCHEMA_VERSION:
            raise too_new(f"{self.url} (schema {self.schema})", current)
        expected = {"skyform_schema"} | {
            table
            for _, statements in pending(POSTGRES, 0, "")[:current]
            for sql in statements
            for table in _CREATED.findall(sql)
        }
        missing = sorted(expected - tables)
        if current == 0 or missing:
            what = f"lacks the tables {', '.join(missing)}" if missing else "records no schema version"
            raise StateError(
                f"{where} is damaged: it {what}; skyform did not change it",
                hint="restore the schema from your database backup (pg_dump / pg_restore or "
                "point-in-time recovery); skyform keeps no copy of PostgreSQL state",
            )
        return current

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self._reading() as cur:
            cur.execute(f"SELECT MAX(version) FROM {self._prefix}skyform_schema")
            return int(cur.fetchone()[0] or 0)

    # -- locking --------------------------------------------------------------------------
    def acquire_lock(self, mission: str, operation: str, *, warn: Callable[[str], None]) -> LockInfo:
        key = _key(self.schema, mission)
        mine = _holder.this_holder(operation)
        with self._mutex:
            if mission in self._lock_connections:
                raise _holder.lock_held(mission, self._lock_row(mission))
            lock_conn = self._connect(f"lock pid {mine.pid} {mine.holder}@{mine.host}")
            try:
                with self._translated("lock"):
                    row = lock_conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                if not (row and row[0]):
                    raise _holder.lock_held(mission, self._current_holder(mission))
                with self._writing() as cur:
                    stale = _row(
                        cur,
                        self._sql("SELECT holder, pid, host, since, operation FROM {t}locks WHERE mission = ?"),
                        mission,
                    )
                    if stale is not None:
                        # We hold the advisory lock, so whoever wrote this row is gone.
                        warn(
                            f"taking over the lock of mission {mission!r} left by {_holder.describe(stale)}: "
                            "its database session has ended"
                        )
                        cur.execute(
                            self._sql(
                                "INSERT INTO {t}events (mission, kind, data, at) VALUES (?, 'lock_taken_over', ?, ?)"
                            ),
                            (mission, dump(vars(stale)), mine.since),
                        )
                    cur.execute(
                        self._sql(
                            "INSERT INTO {t}locks (mission, holder, pid, host, since, operation)"
                            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (mission) DO UPDATE SET"
                            " holder = excluded.holder, pid = excluded.pid, host = excluded.host,"
                            " since = excluded.since, operation = excluded.operation"
                        ),
                        (mission, mine.holder, mine.pid, mine.host, mine.since, mine.operation),
                    )
            except BaseException:
                lock_conn.close()  # closing the session releases the advisory lock
                raise
            self._lock_connections[mission] = lock_conn
        return mine

    def release_lock(self, mission: str) -> None:
        with self._mutex:
            lock_conn = self._lock_connections.pop(mission, None)
            if lock_conn is None:
                return
            try:
                mine = _holder.this_holder("")
                with self._writing() as cur:
                    cur.execute(
                        self._sql("DELETE FROM {t}locks WHERE mission = ? AND pid = ? AND host = ?"),
                        (mission, mine.pid, mine.host),
                    )
            finally:
                lock_conn.close()

    def _lock_row(self, mission: str) -> LockInfo | None:
        with self._reading() as cur:
            return _row(
                cur, self._sql("SELECT holder, pid, host, since, operation FROM {t}locks WHERE mission = ?"), mission
            )

    def _lock_backends(self, mission: str) -> list[tuple[int, str]]:
        """(server pid, application name) of the sessions holding the mission's advisory lock."""
        key = _key(self.schema, mission)
        with self._reading() as cur:
            cur.execute(
                "SELECT l.pid, coalesce(a.application_name, '') FROM pg_locks l"
                " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND l.classid::bigint = %s AND l.objid::bigint = %s",
                ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
            )
            return [(row[0], row[1]) for row in cur.fetchall()]

    def _current_holder(self, mission: str) -> LockInfo | None:
        """The live holder's row; a holder that has the advisory lock but has not written its
        row yet (a few milliseconds after winning) is waited for briefly, then described from
        its session's application name."""
        deadline = time.monotonic() + 2.0
        while True:
            backends = self._lock_backends(mission)
            if not backends:
                return None
            row = self._lock_row(mission)
            names = [_APP_NAME.match(name) for _, name in backends]
            if row is not None and any(m and int(m["pid"]) == row.pid for m in names):
                return row
            if time.monotonic() > deadline:
                found = next((m for m in names if m), None)
                if found is None:
                    return LockInfo(holder="unknown", pid=0, host="unknown", since=0.0)
                return LockInfo(
                    holder=found["holder"] or "unknown",
                    pid=int(found["pid"]),
                    host=found["host"] or "unknown",
                    since=0.0,
                )
            time.sleep(0.05)

    def lock_info(self, mission: str) -> LockInfo | None:
        # A row without its advisory lock was left by a dead holder: not a lock.
        return self._current_holder(mission)

    def force_unlock(self, mission: str) -> LockInfo | None:
        """Remove the row and end the database session holding the advisory lock."""
        with self._mutex:
            if mission in self._lock_connections:
                info = self._lock_row(mission)
                self.release_lock(mission)
                return info
            info = self._current_holder(mission) or self._lock_row(mission)
            backends = self._lock_backends(mission)
            with self._writing() as cur:
                for pid, _ in backends:
                    cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
                cur.execute(self._sql("DELETE FROM {t}locks WHERE mission = ?"), (mission,))
            # pg_terminate_backend only signals the session: its advisory lock goes when it has
            # exited. Returned earlier, the next apply (or this caller) found the lock still held.
            deadline = time.monotonic() + 10.0
            while backends and self._lock_backends(mission) and time.monotonic() < deadline:
                time.sleep(0.02)
            if info is None and backends:
                info = LockInfo(holder="unknown", pid=0, host="unknown", since=0.0)
            return info

    def drop_schema(self) -> None:
        """Remove this store's schema with every table in it (tests and decommissioning)."""
        with self._writing() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def close(self) -> None:
        """Release held locks and close every connection."""
        for mission in list(self._lock_connections):
            try:
                self.release_lock(mission)
            except StateError:
                pass  # the server drops the advisory lock with the session anyway
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _key(schema: str, mission: str) -> int:
    """The advisory-lock key of a mission: 64 bits of a digest, unique per schema and name."""
    digest = hashlib.sha256(f"skyform:{schema}:{mission}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _row(cur: Any, sql: str, mission: str) -> LockInfo | None:
    cur.execute(sql, (mission,))
    row = cur.fetchone()
    return LockInfo(*row) if row else None
