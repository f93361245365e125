"""SQLite state: one file (default ``<mission>/.skyform/state.db``), WAL, one transaction per write.

Why these settings: the default rollback journal with ``synchronous=FULL`` costs ~1.2 ms per
commit; WAL with ``synchronous=NORMAL`` costs ~21 µs and still never loses a committed
transaction to a process crash (DESIGN.md, Performance). ``busy_timeout`` lets a reader or a
second writer wait briefly instead of failing on a momentary write lock.

Threads: every thread gets its own connection (``threading.local``); WAL lets readers in
other threads proceed while the scheduler thread writes. Writes start with
``BEGIN IMMEDIATE`` so that two writers serialise at the start instead of deadlocking on an
upgrade. The lock is a row in ``locks``, checked and written in one such transaction, so two
processes racing for it cannot both win.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import StateError
from . import _holder, _sqlite_file
from ._migrations import SQLITE, pending
from ._sql import SqlStateStore, dump
from .base import SCHEMA_VERSION, LockInfo

BUSY_TIMEOUT_S = 10.0

# Closing ANY descriptor of a file drops every POSIX lock this process holds on it,
# SQLite's included (sqlite.org/howtocorrupt.html, 2.2): the header check below opens and
# closes the file, so it runs only while no store of this process has the file open. A
# process that reads while another writes (skyform ui beside an apply: each request opens
# a store while an event stream holds one) otherwise lost its read locks and read pages a
# checkpoint was overwriting ("database disk image is malformed").
_in_use: dict[str, int] = {}
_in_use_lock = threading.Lock()


def _use(path: Path, delta: int) -> None:
    key = str(path.resolve())
    with _in_use_lock:
        count = _in_use.get(key, 0) + delta
        if count > 0:
            _in_use[key] = count
        else:
            _in_use.pop(key, None)


def _check_unless_held(path: Path) -> None:
    """The header check, unless a store of this process has the file open (it was checked
    when that one opened it). Under the lock that registering a store takes, so no store
    opens the file while the check holds a descriptor of it."""
    with _in_use_lock:
        if str(path.resolve()) not in _in_use:
            _sqlite_file.check_existing(path)


class SqliteStateStore(SqlStateStore):
    """State in one SQLite file; safe for one writing thread and many reading threads."""

    def __init__(self, path: str | Path, *, url: str | None = None) -> None:
        self.path = Path(path)
        self.url = url or f"sqlite:///{self.path}"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._held: set[str] = set()
        if self.path.is_dir():
            raise StateError(f"state path {self.path} is a directory, not a SQLite file")
        # a state file we may not write is still read: plan, show, output, history and status
        # work on it, and the first write (apply's lock) fails naming the file
        self.read_only = self.path.exists() and not _writable(self.path)
        # only a missing file means "no state yet"; it is created by the first write, so that
        # a command that only reads (plan, validate, output...) leaves no file behind
        self._absent: sqlite3.Connection | None = None
        self._memory: sqlite3.Connection | None = None  # the empty state once the file exists
        self._switch_lock = threading.Lock()
        self._registered = False  # counted in _in_use while it has a connection to the file
        if self.path.exists():
            _check_unless_held(self.path)
        else:
            self._absent = self._empty_state()
        self._migrate()

    # -- connections and error translation ------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._connections_lock:  # before the file is opened: a header check now waits
            if self._absent is None and not self._registered:
                self._registered = True
                _use(self.path, +1)
        with self._translated("open"):
            target = self._read_only_uri() if self.read_only else str(self.path)
            if self._absent is not None:
                target = self._absent_uri
            conn = sqlite3.connect(
                target,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
                uri=self.read_only or self._absent is not None,
            )
            try:
                # Reading the header first: a file that is not a database fails here,
                # before any pragma could try to write to it.
                conn.execute("PRAGMA schema_version").fetchone()
                # refuse a foreign or empty database before any pragma that writes to the file;
                # new files are made complete, so one without tables is damage, not "no state"
                if self._schema_in(conn.cursor()) == 0:
                    raise _sqlite_file.damaged(self.path, "is an empty SQLite database, not a skyform state")
                if not self.read_only:  # setting the journal mode writes the file's header
                    conn.execute("PRAGMA journal_mode=WAL").fetchone()
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
                conn.execute("PRAGMA foreign_keys=ON")
            except BaseException:
                conn.close()
                raise
        self._local.conn = conn
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    def _empty_state(self) -> sqlite3.Connection:
        """An empty state of the current schema in memory, shared by this store's threads
        until the first write creates the file (the returned connection keeps it alive)."""
        self._absent_uri = f"file:skyform-no-state-{uuid.uuid4().hex}?mode=memory&cache=shared"
        anchor = sqlite3.connect(self._absent_uri, uri=True, isolation_level=None, check_same_thread=False)
        self._create_schema(anchor)
        return anchor

    def _create_file(self) -> None:
        """The first write: make the state file (complete, atomically) and use it from now on."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create the state directory {self.path.parent}: {exc.strerror or exc}") from exc
        with self._translated("create"):
            _sqlite_file.create_atomically(self.path, self._create_schema)
        self._switch_to_file()

    def _switch_to_file(self) -> None:
        """Leave the in-memory empty state for the file that now exists (once, whichever
        thread gets here first)."""
        with self._switch_lock:
            if self._absent is None:
                return
            _check_unless_held(self.path)
            # every thread opens the file at its next call; the in-memory connections are
            # closed with the store (closing them here could pull one from under a thread)
            self._local = threading.local()
            self._memory, self._absent = self._absent, None
        self._migrate()  # another process may have made the file first

    def _read_only_uri(self) -> str:
        """How to read a file we may not write: ``mode=ro`` when SQLite can keep its shared
        memory file beside it; else as an immutable snapshot, which is exact only when no
        write-ahead log holds transactions the file does not (a clean close leaves none)."""
        where = quote(str(self.path.resolve()))
        if os.access(self.path.parent, os.W_OK):
            return f"file:{where}?mode=ro"
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StateError(
                f"state file {self.path} is read-only and its write-ahead log {wal} holds "
                "writes not yet in the file; reading it without them would be wrong",
                hint="make the directory writable (or run any skyform command as its owner once)",
            )
        return f"file:{where}?immutable=1"

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise self._state_error(action, exc) from exc

    def _state_error(self, action: str, exc: sqlite3.Error) -> StateError:
        text = str(exc)
        if "not a database" in text or "malformed" in text or "encrypted" in text:
            return StateError(
                f"state file {self.path} is corrupt or not a SQLite database ({text}); skyform did not change it",
                hint=_sqlite_file.restore_hint(self.path),
            )
        if "full" in text or "I/O" in text or "readonly" in text or "read-only" in text:
            return StateError(
                f"could not {action} state in {self.path}: {text}; the write was rolled "
                "back and the previous state is intact",
                hint="free disk space or fix the file's permissions, then run again",
            )
        if "locked" in text or "busy" in text:
            return StateError(
                f"state file {self.path} stayed busy for {BUSY_TIMEOUT_S:.0f} s ({text})",
                hint="another skyform process is writing it; try again",
            )
        if "unable to open" in text:
            return StateError(
                f"cannot open state file {self.path}: {text}", hint="check that the directory exists and is writable"
            )
        return StateError(f"could not {action} state in {self.path}: {text}")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Cursor]:
        if self._absent is not None and self.path.exists():  # another store or process made it
            self._switch_to_file()
        conn = self._connection()
        with self._translated("read"):
            yield conn.cursor()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Cursor]:
        if self.read_only:
            raise StateError(
                f"state file {self.path} is read-only, and this command needs to write it; nothing was changed",
                hint="make the file and its directory writable, or pass --state with a writable copy",
            )
        if self._absent is not None:
            self._create_file()
        conn = self._connection()
        with self._translated("write"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn.cursor()
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # -- schema ---------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Check the schema (a read: opening current state takes no write lock), and migrate
        an older one inside one write transaction, after a backup of the file."""
        with self._reading() as cur:
            current = self._schema_in(cur)
        if current == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StateError(
                f"state file {self.path} is read-only and was written by an older skyform: "
                f"it needs a migration to schema v{SCHEMA_VERSION} before it can be read",
                hint="make it writable and run any skyform command once to migrate it",
            )
        self.backup()
        with self._writing() as cur:
            self._upgrade(cur, self._schema_in(cur))  # again: another process may have migrated meanwhile

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        """Build the current schema in a new, still private file (see ``create_atomically``)."""
        conn.execute("BEGIN IMMEDIATE")
        self._upgrade(conn.cursor(), 0)
        conn.execute("COMMIT")

    @staticmethod
    def _upgrade(cur: sqlite3.Cursor, current: int) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS skyform_schema (version INTEGER NOT NULL)")
        for version, statements in pending(SQLITE, current, ""):
            for sql in statements:
                cur.execute(sql)
            cur.execute("DELETE FROM skyform_schema")
            cur.execute("INSERT INTO skyform_schema (version) VALUES (?)", (version,))

    def backup(self) -> Path | None:
        """Copy the whole file to ``<name>.backup`` (after an apply or destroy, before a migration)."""
        if self._absent is not None:
            return None  # nothing was ever written: no file, nothing to keep
        conn = self._connection()
        with self._translated("back up"):
            try:
                return _sqlite_file.write_backup(conn, self.path)
            except OSError as exc:
                raise StateError(
                    f"cannot write the state backup {_sqlite_file.backup_path(self.path)}: "
                    f"{exc.strerror or exc}; nothing was changed",
                    hint="free disk space or fix the directory's permissions, then run again",
                ) from exc

    def _schema_in(self, cur: sqlite3.Cursor) -> int:
        """The file's schema version (0: empty); refuses foreign databases and newer schemas."""
        tables = {row[0] for row in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables.discard("sqlite_sequence")
        if not tables:
            return 0
        if "skyform_schema" not in tables:
            raise StateError(
                f"{self.path} is a SQLite database but not skyform state (it holds tables "
                f"{', '.join(sorted(tables))}); skyform did not change it",
                hint="point --state at another file",
            )
        current = int(cur.execute("SELECT MAX(version) FROM skyform_schema").fetchone()[0] or 0)
        if current > SCHEMA_VERSION:
            raise too_new(str(self.path), current)
        return current

    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        with self._reading() as cur:
            return int(cur.execute("SELECT MAX(version) FROM skyform_schema").fetchone()[0] or 0)

    # -- locking --------------------------------------------------------------------------
    def acquire_lock(self, mission: str, operation: str, *, warn: Callable[[str], None]) -> LockInfo:
        mine = _holder.this_holder(operation)
        with self._writing() as cur:
            current = _lock_row(cur, mission)
            if current is not None:
                if not _holder.holder_is_dead(current):
                    raise _holder.lock_held(mission, current)
                warn(
                    f"taking over the lock of mission {mission!r} left by {_holder.describe(current)}: "
                    "that process is no longer running"
                )
                cur.execute(
                    "INSERT INTO events (mission, kind, data, at) VALUES (?, 'lock_taken_over', ?, ?)",
                    (mission, dump(vars(current)), mine.since),
                )
            cur.execute(
                "INSERT OR REPLACE INTO locks (mission, holder, pid, host, since, operation) VALUES (?, ?, ?, ?, ?, ?)",
                (mission, mine.holder, mine.pid, mine.host, mine.since, mine.operation),
            )
        self._held.add(mission)
        return mine

    def release_lock(self, mission: str) -> None:
        mine = _holder.this_holder("")
        with self._writing() as cur:
            cur.execute("DELETE FROM locks WHERE mission = ? AND pid = ? AND host = ?", (mission, mine.pid, mine.host))
        self._held.discard(mission)

    def lock_info(self, mission: str) -> LockInfo | None:
        with self._reading() as cur:
            return _lock_row(cur, mission)

    def force_unlock(self, mission: str) -> LockInfo | None:
        with self._writing() as cur:
            current = _lock_row(cur, mission)
            cur.execute("DELETE FROM locks WHERE mission = ?", (mission,))
        self._held.discard(mission)
        return current

    def close(self) -> None:
        """Release the locks this store took and close every thread's connection."""
        for mission in list(self._held):
            try:
                self.release_lock(mission)
            except StateError:
                pass  # closing must not fail; a stale row is taken over by the next run
        with self._connections_lock:
            connections, self._connections = self._connections, []
            registered, self._registered = self._registered, False
        for conn in connections:
            conn.close()
        if registered:
            _use(self.path, -1)
        self._local = threading.local()
        for anchor in (self._absent, self._memory):
            if anchor is not None:
                anchor.close()


def _writable(path: Path) -> bool:
    """Whether this process may write the state file and create its WAL files beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _lock_row(cur: Any, mission: str) -> LockInfo | None:
    cur.execute("SELECT holder, pid, host, since, operation FROM locks WHERE mission = ?", (mission,))
    row = cur.fetchone()
    return LockInfo(*row) if row else None


def too_new(where: str, found: int) -> StateError:
    """The error for a state written by a newer skyform."""
    return StateError(
        f"state {where} was written by skyform schema v{found}; this skyform understands up to "
        f"v{SCHEMA_VERSION} - upgrade skyform",
        hint="install the skyform version that wrote it (or newer); skyform did not change the state",
    )
