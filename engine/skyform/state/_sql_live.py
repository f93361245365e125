"""The live log table of the SQL stores (SQLite, PostgreSQL): append a batch, keep the last ones.

A mixin of :class:`._sql.SqlStateStore`, apart because it is its own idea: the live log is
no part of a mission's serial (a progress line changes no mission, so it never makes a
saved plan stale) and, unlike the history, it forgets: each batch drops the mission's
records beyond the newest ``keep``, in the same transaction, so an hours-long run holds
the state at a fixed size.

Numbers (``n``) come from the table's own sequence. Only the holder of a mission's lock
writes its records, one batch after the other, so the numbers of one mission become
visible in increasing order and a reader that asks for those after ``n`` misses none.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from .base import LiveRecord


class SqlLiveLog:
    """The live log over the store's connection; the store supplies the methods below."""

    def _reading(self) -> AbstractContextManager[Any]:  # pragma: no cover - the store's
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[Any]:  # pragma: no cover - the store's
        raise NotImplementedError

    def _sql(self, sql: str) -> str:  # pragma: no cover - the store's
        raise NotImplementedError

    def _dump(self, value: Any) -> str:  # pragma: no cover - the store's JSON column encoding
        raise NotImplementedError

    def _load(self, value: Any) -> Any:  # pragma: no cover - the store's JSON column decoding
        raise NotImplementedError

    def add_live(self, mission: str, records: Sequence[LiveRecord], *, keep: int) -> None:
        if not records:
            return
        with self._writing() as cur:
            self._add_live_in(cur, mission, records, keep)

    def _add_live_in(self, cur: Any, mission: str, records: Sequence[LiveRecord], keep: int) -> None:
        """Append ``records`` and drop all but the newest ``keep``, in the caller's transaction."""
        cur.executemany(
            self._sql("INSERT INTO {t}live_log (mission, kind, address, at, data) VALUES (?, ?, ?, ?, ?)"),
            [(mission, r.kind, r.address, r.at, self._dump(r.data)) for r in records],
        )
        # the newest `keep` stay: the n of the first one beyond them bounds the rest
        cur.execute(
            self._sql("SELECT n FROM {t}live_log WHERE mission = ? ORDER BY n DESC LIMIT 1 OFFSET ?"),
            (mission, max(0, int(keep))),
        )
        row = cur.fetchone()
        if row is not None:
            cur.execute(self._sql("DELETE FROM {t}live_log WHERE mission = ? AND n <= ?"), (mission, row[0]))

    def live_after(self, mission: str, n: int, *, limit: int = 500) -> list[LiveRecord]:
        with self._reading() as cur:
            cur.execute(
                self._sql(
                    "SELECT n, kind, address, at, data FROM {t}live_log WHERE mission = ? AND n > ? ORDER BY n LIMIT ?"
                ),
                (mission, int(n), int(limit)),
            )
            rows = cur.fetchall()
        return [
            LiveRecord(kind=kind, address=address, at=at, data=self._load(data), n=int(seq))
            for seq, kind, address, at, data in rows
        ]

    def live_last(self, mission: str) -> int:
        with self._reading() as cur:
            cur.execute(self._sql("SELECT MAX(n) FROM {t}live_log WHERE mission = ?"), (mission,))
            row = cur.fetchone()
        return int(row[0] or 0) if row else 0
