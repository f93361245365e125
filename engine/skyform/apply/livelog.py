"""The live log of a mission's runs: progress reports, provider log lines and retries.

These come many to a call (an upload reports after every file) and matter only while the
run goes, so they are not written to the state's history (which keeps every transition
for good). The apply appends them as JSON lines to ``<mission>/.skyform/live/<name>.jsonl``
and ``skyform ui`` tails that file beside the graph. The file is bounded: past
:data:`MAX_BYTES` it becomes ``<name>.jsonl.1`` (the one kept before it is dropped), so a
mission that runs for months holds at most twice that. Every record is redacted before it
is written; a record that cannot be written is dropped (the log is for looking, the apply
goes on).

Each record has ``n``, increasing across runs and rotations (microseconds since the epoch,
bumped past the last one), so a reader resumes after the last ``n`` it saw.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from .. import redact
from ..events import EventKind

log = logging.getLogger("skyform.apply")

MAX_BYTES = 1_000_000
#: progress of one resource is written at most this often (its last report always is)
PROGRESS_EVERY = 0.2
#: the records the live log keeps: what the history does not
KINDS = frozenset({EventKind.PROGRESS, EventKind.LOG, EventKind.RETRY})


def path_for(directory: Path, mission: str) -> Path:
    """Where a mission's live log is (beside its SQLite state)."""
    return directory / ".skyform" / "live" / f"{mission}.jsonl"


def rotated(path: Path) -> Path:
    return path.with_name(path.name + ".1")


class LiveLog:
    """Appends redacted records to one mission's live log (thread-safe, bounded)."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path, self.max_bytes = path, max_bytes
        self._lock = threading.Lock()
        self._last = 0
        self._size: int | None = None
        self._progress_at: dict[str, float] = {}
        self._broken = False

    def add(self, event: dict[str, Any]) -> None:
        """Append one event (its ``event`` is one of :data:`KINDS`; others are not kept)."""
        kind = event.get("event")
        if kind not in KINDS or self._broken:
            return
        address = str(event.get("address") or "")
        now = time.time()
        if kind == EventKind.PROGRESS and not _final(event.get("fraction")):
            if now - self._progress_at.get(address, 0.0) < PROGRESS_EVERY:
                return
            self._progress_at[address] = now
        data = redact.redact_data({k: v for k, v in event.items() if k != "event"})
        assert isinstance(data, dict)
        with self._lock:
            self._last = max(self._last + 1, int(now * 1_000_000))
            line = json.dumps({"n": self._last, "kind": str(kind), "at": now, **data}, default=str) + "\n"
            try:
                self._append(line.encode())
            except OSError as exc:
                self._broken = True
                log.debug("the live log %s cannot be written: %s", self.path, exc)

    def _append(self, line: bytes) -> None:
        if self._size is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._size = self.path.stat().st_size if self.path.exists() else 0
        if self._size and self._size + len(line) > self.max_bytes:
            os.replace(self.path, rotated(self.path))
            self._size = 0
        with self.path.open("ab") as fh:
            fh.write(line)
        self._size += len(line)


def _final(fraction: object) -> bool:
    return isinstance(fraction, (int, float)) and fraction >= 1


class Tail:
    """Follows a live log: the records after ``after``, then each new one, across rotations.

    ``after=None`` starts at the end (only what is written from now on)."""

    def __init__(self, path: Path, after: int | None) -> None:
        self.path = path
        self.after = after or 0
        self._inode: int | None = None
        self._offset = 0
        #: from now on: the rotated file is all old; so is the current one up to its end
        self._old_rotated = after is None
        if after is None:
            try:
                st = os.stat(path)
                self._inode, self._offset = st.st_ino, st.st_size
            except FileNotFoundError:
                pass  # no log yet: whatever is written from now on is new

    def read(self, limit: int = 500) -> list[dict[str, Any]]:
        """The records written since the last read (at most ``limit``, oldest first)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return []
        lines: list[bytes] = []
        if self._inode is None:
            if not self._old_rotated:
                lines += self._chunk(rotated(self.path), 0)[0]
            self._inode, self._offset = st.st_ino, 0
        elif st.st_ino != self._inode:  # rotated since: the rest of the old file, then the new one
            try:
                if os.stat(rotated(self.path)).st_ino == self._inode:
                    lines += self._chunk(rotated(self.path), self._offset)[0]
            except FileNotFoundError:
                pass
            self._inode, self._offset = st.st_ino, 0
        elif st.st_size < self._offset:
            self._offset = 0
        fresh, self._offset = self._chunk(self.path, self._offset)
        out = []
        for raw in lines + fresh:
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("n"), int) and record["n"] > self.after:
                out.append(record)
        out = out[-limit:]
        if out:
            self.after = out[-1]["n"]
        return out

    @staticmethod
    def _chunk(path: Path, offset: int) -> tuple[list[bytes], int]:
        """The complete lines of ``path`` from ``offset``, and the offset after them."""
        try:
            with path.open("rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except FileNotFoundError:
            return [], offset
        end = data.rfind(b"\n") + 1
        return data[:end].splitlines(), offset + end
