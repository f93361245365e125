"""The SQLite state file on disk: telling a damaged file from no file, the backup beside it.

Why this exists: SQLite opens a 0-byte file as a new, empty database, and an empty
database looks exactly like "no state yet". A state file emptied by a full disk or a bad
copy would then plan every paid capture and job again, and the file would be rewritten as
a fresh database. So the rule is: only a *missing* file means "no state yet"; a file that
exists must be a complete skyform state, or it is refused untouched with a message naming
the file and the backup to restore.

To make that rule sound, skyform never lets a half-made state file appear: a new state is
built under a temporary name, complete with its schema, and then linked into place.

The backup (``state.db.backup``, in the spirit of ``terraform.tfstate.backup``) is a
consistent copy of the whole file, taken through SQLite's online backup API when an apply
or destroy has written its last record, and before a schema migration. It is the state as
the last finished run left it: what a full disk or a bad copy destroys afterwards can be
restored from it. (A failing run cannot damage the file itself: every write is one
transaction.) Work recorded after the copy - a run killed midway - is not in it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import StateError

_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100


def backup_path(path: Path) -> Path:
    """Where the backup of the state file ``path`` is kept: ``<name>.backup`` beside it."""
    return path.with_name(path.name + ".backup")


def restore_hint(path: Path) -> str:
    """How to get a damaged state back: the backup's command when there is one."""
    backup = backup_path(path)
    side = " and any " + ", ".join(f"{path.name}{s}" for s in ("-wal", "-shm")) + " beside it"
    if backup.is_file():
        taken = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(backup.stat().st_mtime))
        return (
            f"restore the copy skyform made when its last apply finished ({taken}; what a run recorded "
            f"after that is not in it): move {path.name}{side} away, then `cp {backup} {path}`"
        )
    return (
        f"no backup {backup.name} beside it (skyform writes one before each apply): restore the file "
        "from your own backups, or move it away to start from empty state (skyform would then no "
        "longer know the remote objects it recorded)"
    )


def damaged(path: Path, what: str) -> StateError:
    """The error for a state file that exists but is not a usable skyform state."""
    return StateError(f"state file {path} {what}; skyform did not change it", hint=restore_hint(path))


def _has_wal_frames(path: Path) -> bool:
    """True when a non-empty ``-wal`` sits beside ``path``: SQLite recovers from it on open,
    so the main file alone may legitimately be short (an interrupted checkpoint)."""
    try:
        return Path(str(path) + "-wal").stat().st_size > 0
    except OSError:
        return False


def check_existing(path: Path) -> None:
    """Refuse a state file that is empty, truncated or not SQLite, before SQLite opens it.

    Reading 100 bytes costs nothing; the checks are the ones SQLite itself skips: a 0-byte
    file (SQLite: a new database), a header that is not SQLite's, and a file shorter than
    the page count its header records (SQLite: reads the pages that are left).
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            header = fh.read(_HEADER_SIZE)
    except OSError as exc:
        raise StateError(
            f"cannot read state file {path}: {exc.strerror or exc}", hint="check the file's permissions"
        ) from exc
    if _has_wal_frames(path):
        return  # the -wal holds the newest pages: let SQLite recover, then check the tables
    if size == 0:
        raise damaged(path, "is empty (0 bytes): it is damaged (a full disk, an interrupted copy), not a new state")
    if len(header) < _HEADER_SIZE or not header.startswith(_MAGIC):
        raise StateError(
            f"state file {path} is corrupt or not a SQLite database (it does not start with "
            "the SQLite header); skyform did not change it",
            hint=restore_hint(path),
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    header_valid = header[24:28] == header[92:96] and pages > 0
    if page_size < 512 or page_size & (page_size - 1):
        raise StateError(
            f"state file {path} is corrupt or not a SQLite database (its header records no "
            "valid page size); skyform did not change it",
            hint=restore_hint(path),
        )
    if header_valid and size < pages * page_size:
        raise damaged(path, f"is truncated ({size} bytes; its header records {pages * page_size})")
    if size % page_size:
        raise damaged(path, f"is damaged ({size} bytes, not a whole number of its {page_size}-byte pages)")


def _writer() -> str:
    """A temporary name's suffix no other writer uses: the process and the thread (missions
    side by side in one process share one state file)."""
    return f"{os.getpid()}-{threading.get_ident()}"


def create_atomically(path: Path, build: Callable[[sqlite3.Connection], None]) -> None:
    """Make a new state file at ``path`` that appears only complete: built by ``build`` in a
    temporary file, then hard-linked into place (never over a file another process made)."""
    tmp = path.with_name(f".{path.name}.new-{_writer()}")
    tmp.unlink(missing_ok=True)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            build(conn)
            conn.execute("PRAGMA journal_mode=WAL").fetchone()  # persistent: recorded in the header
        finally:
            conn.close()  # the last connection checkpoints the WAL into the file and removes it
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process (or thread: gitops --jobs) created it first: use theirs
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


def write_backup(conn: sqlite3.Connection, path: Path) -> Path:
    """Copy the open database ``conn`` (a consistent snapshot, WAL included) to the backup,
    replacing the previous one only once the new copy is complete."""
    target = backup_path(path)
    tmp = target.with_name(f".{target.name}.tmp-{_writer()}")
    try:
        copy = sqlite3.connect(tmp)
        try:
            conn.backup(copy)
        finally:
            copy.close()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
