"""The plan: a serialisable list of actions, stamped with the state and spec it was made from.

A saved plan (``skyform plan -o FILE``) records the state's lineage and serial and the
mission's content digest; ``skyform apply FILE`` refuses it when either has moved on, so a
plan computed from stale state is never applied.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import PlanRefused
from .providers.base import Cost
from .values import to_storable

ActionKind = Literal["create", "update", "replace", "delete", "resume", "noop", "forget", "read"]
CHANGING = ("create", "update", "replace", "delete", "forget", "resume")
PLAN_FORMAT = 1


@dataclass(frozen=True)
class FieldChange:
    """A changed spec field; ``after`` may be Unknown ("known after apply")."""

    path: tuple[Any, ...]
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": ".".join(map(str, self.path)), "before": to_storable(self.before),
                "after": to_storable(self.after)}


@dataclass
class Action:
    """What the plan will do to one resource, and why."""

    address: str
    type: str
    action: ActionKind
    reason: str
    changes: list[FieldChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cost: Cost | None = None
    blocked: str | None = None  # set: apply fails this node with the message
    depends_on: list[str] = field(default_factory=list)
    adopt_first: bool = False
    drift: list[FieldChange] = field(default_factory=list)
    state_only: bool = False  # no remote call: only the record changes (e.g. lifecycle options)

    @property
    def changes_anything(self) -> bool:
        return self.action in CHANGING or self.state_only or self.blocked is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"address": self.address, "type": self.type, "action": self.action,
                               "reason": self.reason}
        if self.changes:
            out["changes"] = [c.to_json() for c in self.changes]
        if self.drift:
            out["drift"] = [c.to_json() for c in self.drift]
        if self.notes:
            out["notes"] = list(self.notes)
        if self.cost:
            out["cost"] = {"amount": self.cost.amount, "currency": self.cost.currency, "detail": self.cost.detail}
        if self.blocked:
            out["blocked"] = self.blocked
        if self.depends_on:
            out["depends_on"] = list(self.depends_on)
        if self.adopt_first:
            out["adopt_first"] = True
        if self.state_only:
            out["state_only"] = True
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Action":
        cost = data.get("cost")
        return cls(
            address=data["address"], type=data["type"], action=data["action"], reason=data.get("reason", ""),
            changes=[FieldChange(tuple(c["path"].split(".")), c.get("before"), c.get("after"))
                     for c in data.get("changes", [])],
            notes=list(data.get("notes", [])),
            cost=Cost(cost["amount"], cost.get("currency", "USD"), cost.get("detail", "")) if cost else None,
            blocked=data.get("blocked"), depends_on=list(data.get("depends_on", [])),
            adopt_first=bool(data.get("adopt_first", False)), state_only=bool(data.get("state_only", False)),
        )


@dataclass
class Plan:
    """Actions in execution order, plus what they were computed against."""

    mission: str
    mission_path: str
    spec_digest: str
    lineage: str
    serial: int
    actions: list[Action]
    mode: Literal["apply", "destroy", "refresh-only"] = "apply"
    targets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)

    sandbox: bool = False

    @property
    def has_changes(self) -> bool:
        return any(a.changes_anything for a in self.actions) or (
            self.mode == "refresh-only" and any(a.drift for a in self.actions))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.action] = out.get(a.action, 0) + 1
        return out

    def total_cost(self) -> list[Cost]:
        return [a.cost for a in self.actions if a.cost and a.action in ("create", "replace", "update")]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT, "mission": self.mission, "mission_path": self.mission_path,
            "spec_digest": self.spec_digest, "lineage": self.lineage, "serial": self.serial, "mode": self.mode,
            "targets": self.targets, "created_at": self.created_at, "warnings": self.warnings,
            "has_changes": self.has_changes, "counts": self.counts(), "sandbox": self.sandbox,
            "actions": [a.to_json() for a in self.actions],
        }

    def save(self, path: Path) -> None:
        from . import redact

        from .errors import UsageError

        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(redact.redact(json.dumps(self.to_json(), indent=2)))
            tmp.replace(path)
        except OSError as exc:
            raise UsageError(f"cannot write the plan to {path}: {exc.strerror or exc}") from None

    @classmethod
    def load(cls, path: Path) -> "Plan":
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise PlanRefused(f"{path} is not a readable skyform plan: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise PlanRefused(f"{path} is not a skyform plan of format {PLAN_FORMAT}")
        try:
            return cls._from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PlanRefused(f"{path} is not a valid skyform plan ({type(exc).__name__}: {exc})",
                              hint="make it again with `skyform plan -o FILE`") from None

    @classmethod
    def _from_json(cls, data: dict[str, Any]) -> "Plan":
        if not isinstance(data["actions"], list):
            raise TypeError("actions must be a list")
        return cls(
            mission=data["mission"], mission_path=data["mission_path"], spec_digest=data["spec_digest"],
            lineage=data["lineage"], serial=int(data["serial"]), mode=data.get("mode", "apply"),
            actions=[Action.from_json(a) for a in data["actions"]], targets=list(data.get("targets", [])),
            warnings=list(data.get("warnings", [])), created_at=float(data.get("created_at", 0)),
            sandbox=bool(data.get("sandbox", False)),
        )
