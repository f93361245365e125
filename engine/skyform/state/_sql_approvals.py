"""The approvals table of the SQL stores (SQLite, PostgreSQL): record, list, use once, revoke.

A mixin of :class:`._sql.SqlStateStore`, apart because it is its own idea: approvals are
no part of a mission's serial (approving changes no mission), and "usable once" and
"revoked" are each one conditional update that two callers cannot both win.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from .base import Approval


class SqlApprovals:
    """Approvals over the store's connection; the store supplies the methods below."""

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

    def add_approval(self, approval: Approval) -> None:
        with self._writing() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO {t}approvals (id, mission, plan_digest, lineage, serial, approver, cost, max_cost,"
                    " irreversible, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                (
                    approval.id,
                    approval.mission,
                    approval.plan_digest,
                    approval.lineage,
                    approval.serial,
                    approval.approver,
                    self._dump(approval.cost),
                    approval.max_cost,
                    self._dump(list(approval.irreversible)),
                    approval.created_at,
                    approval.expires_at,
                    approval.used_at,
                ),
            )

    def approvals(self, mission: str) -> list[Approval]:
        return self._select_approvals("WHERE mission = ?", (mission,))

    def every_approval(self) -> list[Approval]:
        return self._select_approvals("", ())

    def _select_approvals(self, where: str, params: tuple[Any, ...]) -> list[Approval]:
        with self._reading() as cur:
            cur.execute(
                self._sql(
                    "SELECT id, mission, plan_digest, lineage, serial, approver, cost, max_cost, irreversible,"
                    f" created_at, expires_at, used_at, revoked_at, revoked_by FROM {{t}}approvals {where}"
                    " ORDER BY created_at"
                ),
                params,
            )
            rows = cur.fetchall()
        return [
            Approval(
                id=r[0],
                mission=r[1],
                plan_digest=r[2],
                lineage=r[3],
                serial=int(r[4]),
                approver=r[5],
                cost={str(k): float(v) for k, v in self._load(r[6]).items()},
                max_cost=None if r[7] is None else float(r[7]),
                irreversible=tuple(self._load(r[8])),
                created_at=float(r[9]),
                expires_at=float(r[10]),
                used_at=None if r[11] is None else float(r[11]),
                revoked_at=None if r[12] is None else float(r[12]),
                revoked_by=r[13],
            )
            for r in rows
        ]

    def use_approval(self, approval_id: str, at: float) -> bool:
        with self._writing() as cur:  # one conditional update: two applies cannot both use it
            cur.execute(
                self._sql(
                    "UPDATE {t}approvals SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL"
                ),
                (at, approval_id),
            )
            return bool(cur.rowcount == 1)

    def revoke_approval(self, approval_id: str, at: float, by: str) -> Approval | None:
        with self._writing() as cur:  # a second revoke keeps the first one's who and when
            cur.execute(
                self._sql("UPDATE {t}approvals SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL"),
                (at, by, approval_id),
            )
        found = [a for a in self.every_approval() if a.id == approval_id]
        return found[0] if found else None
