"""The plan: a serialisable list of actions, stamped with the state and spec it was made from.

A saved plan (``skyform plan -o FILE``) records the state's lineage and serial and the
mission's content digest; ``skyform apply FILE`` refuses it when either has moved on, so a
plan computed from stale state is never applied.

A saved plan is a contract: ``Plan.from_json(plan.to_json()) == plan``, field for field
(drift included, integer paths as integers, unknowns as unknowns), so ``apply FILE`` does
exactly what ``plan`` showed. The file opens with its header, ``"format": "skyform-plan"``
and ``"format_version"``; the header alone decides that a file is a plan (see
:mod:`skyform.plan.file`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from ..errors import PlanRefused
from ..providers.base import Change, Cost
from ..providers.irreversibility import Irreversibility
from ..spec.budget import MissionBudget
from ..spec.policy import MissionPolicy
from ..state.spend import SpentSoFar
from .approval import requirement
from .budget import BudgetBreach, CostSummary, summarize
from .file import PLAN_FORMAT, PLAN_FORMAT_VERSION
from .irreversible import markings


class ActionKind(StrEnum):
    """What the plan does to one resource."""

    CREATE = "create"
    UPDATE = "update"  # in place
    REPLACE = "replace"  # delete, then create
    DELETE = "delete"
    FORGET = "forget"  # drop from state; nothing remote
    RESUME = "resume"  # a remote job is still running: wait for it
    NOOP = "noop"  # every no-op carries its reason
    READ = "read"

    @property
    def symbol(self) -> str:
        """The plan's one-glance mark for this kind: ``+ ~ -/+ - >``."""
        return SYMBOLS[self]


#: The plan symbols, defined once: text plans, gitops summaries and pull-request comments.
SYMBOLS: dict[ActionKind, str] = {
    ActionKind.CREATE: "+",
    ActionKind.UPDATE: "~",
    ActionKind.REPLACE: "-/+",
    ActionKind.DELETE: "-",
    ActionKind.FORGET: "-",
    ActionKind.RESUME: ">",
    ActionKind.NOOP: " ",
    ActionKind.READ: "<=",
}


def symbol(kind: str) -> str:
    """The symbol of an action kind as written in a plan's JSON (``?`` for one this skyform lacks)."""
    try:
        return ActionKind(kind).symbol
    except ValueError:
        return "?"


#: The kinds that change something (remote objects or the state).
CHANGING = frozenset(
    {ActionKind.CREATE, ActionKind.UPDATE, ActionKind.REPLACE, ActionKind.DELETE, ActionKind.FORGET, ActionKind.RESUME}
)


@dataclass
class Action:
    """What the plan will do to one resource, and why."""

    address: str
    type: str
    action: ActionKind
    reason: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cost: Cost | None = None
    blocked: str | None = None  # set: apply fails this node with the message
    depends_on: list[str] = field(default_factory=list)
    adopt_first: bool = False
    drift: list[Change] = field(default_factory=list)
    state_only: bool = False  # no remote call: only the record changes (e.g. lifecycle options)
    irreversibility: Irreversibility | None = None  # set when the kind says it is not reversible

    @property
    def changes_anything(self) -> bool:
        return self.action in CHANGING or self.state_only or self.blocked is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "address": self.address,
            "type": self.type,
            "action": str(self.action),
            "reason": self.reason,
        }
        if self.changes:
            out["changes"] = [c.to_json() for c in self.changes]
        if self.drift:
            out["drift"] = [c.to_json() for c in self.drift]
        if self.notes:
            out["notes"] = list(self.notes)
        if self.cost:
            out["cost"] = self.cost.to_json()
        if self.blocked:
            out["blocked"] = self.blocked
        if self.depends_on:
            out["depends_on"] = list(self.depends_on)
        if self.adopt_first:
            out["adopt_first"] = True
        if self.state_only:
            out["state_only"] = True
        if self.irreversibility is not None:
            out["irreversibility"] = self.irreversibility.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Action:
        cost = data.get("cost")
        return cls(
            address=data["address"],
            type=data["type"],
            action=ActionKind(data["action"]),
            reason=data.get("reason", ""),
            changes=[Change.from_json(c) for c in data.get("changes", [])],
            notes=list(data.get("notes", [])),
            cost=Cost.from_json(cost) if cost else None,
            blocked=data.get("blocked"),
            depends_on=list(data.get("depends_on", [])),
            adopt_first=bool(data.get("adopt_first", False)),
            drift=[Change.from_json(c) for c in data.get("drift", [])],
            state_only=bool(data.get("state_only", False)),
            irreversibility=Irreversibility.from_json(data["irreversibility"]) if data.get("irreversibility") else None,
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
    excludes: list[str] = field(default_factory=list)  # the --exclude ids as given
    excluded: list[str] = field(default_factory=list)  # every id left out because of them

    sandbox: bool = False
    budget: list[BudgetBreach] = field(default_factory=list)  # estimates above their ceilings
    mission_budget: MissionBudget | None = None  # the mission's ``budget:``, saved with the plan
    spent: SpentSoFar = field(default_factory=SpentSoFar.nothing)  # what the state records as spent
    policy: MissionPolicy | None = None  # the mission's ``policy:`` (and its repository's), saved with the plan

    @property
    def has_changes(self) -> bool:
        return any(a.changes_anything for a in self.actions) or (
            self.mode == "refresh-only" and any(a.drift for a in self.actions)
        )

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[str(a.action)] = out.get(str(a.action), 0) + 1
        return out

    def cost(self) -> CostSummary:
        """The total by currency, the dearest items and the unknowns (derived from the actions)."""
        return summarize(self.actions)

    def total_cost(self) -> list[Cost]:
        return [
            a.cost
            for a in self.actions
            if a.cost and a.action in (ActionKind.CREATE, ActionKind.REPLACE, ActionKind.UPDATE)
        ]

    def approval(self) -> dict[str, Any]:
        """What apply needs approved (see :mod:`.approval`): the ``approval`` field of the JSON."""
        return dict(self.to_json()["approval"])

    def to_json(self) -> dict[str, Any]:
        out = {  # the header first: it is what makes a file a plan
            "format": PLAN_FORMAT,
            "format_version": PLAN_FORMAT_VERSION,
            "mission": self.mission,
            "mission_path": self.mission_path,
            "spec_digest": self.spec_digest,
            "lineage": self.lineage,
            "serial": self.serial,
            "mode": self.mode,
            "targets": self.targets,
            "excludes": self.excludes,
            "excluded": self.excluded,
            "created_at": self.created_at,
            "warnings": self.warnings,
            "has_changes": self.has_changes,
            "counts": self.counts(),
            "sandbox": self.sandbox,
            "cost": {
                **self.cost().to_json(),
                "budget": self.mission_budget.to_json() if self.mission_budget else None,
                "spent": self.spent.to_json(),
            },
            "budget": [b.to_json() for b in self.budget],
            "irreversible": [m.to_json() for m in markings(self.actions)],
            "policy": self.policy.to_json() if self.policy else None,
            "actions": [a.to_json() for a in self.actions],
        }
        out["approval"] = requirement(out)  # derived, like counts: never read back
        return out

    def save(self, path: Path) -> None:
        from .. import redact
        from ..errors import UsageError

        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(redact.redact(json.dumps(self.to_json(), indent=2)))
            tmp.replace(path)
        except OSError as exc:
            raise UsageError(f"cannot write the plan to {path}: {exc.strerror or exc}") from None

    @classmethod
    def load(cls, path: Path) -> Plan:
        """The plan saved at ``path``; PlanRefused (exit 7) when it is damaged or of another format."""
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError) as exc:
            raise PlanRefused(f"cannot read the plan file {path}: {getattr(exc, 'strerror', None) or exc}") from None
        except ValueError as exc:
            raise PlanRefused(
                f"{path} is a damaged or truncated skyform plan: {exc}",
                hint="make it again with `skyform plan -o FILE`",
            ) from None
        try:
            return cls.from_json(data)
        except PlanRefused as exc:
            raise PlanRefused(f"{path}: {exc.message}", hint=exc.hint) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PlanRefused(
                f"{path} is not a valid skyform plan ({type(exc).__name__}: {exc})",
                hint="make it again with `skyform plan -o FILE`",
            ) from None

    @classmethod
    def from_json(cls, data: Any) -> Plan:
        """The inverse of :meth:`to_json`; PlanRefused when the header is not this format."""
        if isinstance(data, dict) and data.get("format") == 1:
            raise PlanRefused(
                f'a skyform plan of the old format 1; this skyform reads "{PLAN_FORMAT}" version {PLAN_FORMAT_VERSION}',
                hint="make it again with `skyform plan -o FILE`",
            )
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise PlanRefused(
                f'not a skyform plan (its header must be "format": "{PLAN_FORMAT}")',
                hint="make it with `skyform plan -o FILE`",
            )
        version = data.get("format_version")
        if version != PLAN_FORMAT_VERSION:
            raise PlanRefused(
                f"a skyform plan of format version {version}; this skyform reads version {PLAN_FORMAT_VERSION}",
                hint="make it again with this skyform: `skyform plan -o FILE`",
            )
        if not isinstance(data["actions"], list):
            raise TypeError("actions must be a list")
        return cls(
            mission=data["mission"],
            mission_path=data["mission_path"],
            spec_digest=data["spec_digest"],
            lineage=data["lineage"],
            serial=int(data["serial"]),
            mode=data.get("mode", "apply"),
            actions=[Action.from_json(a) for a in data["actions"]],
            targets=list(data.get("targets", [])),
            excludes=list(data.get("excludes", [])),
            excluded=list(data.get("excluded", [])),
            warnings=list(data.get("warnings", [])),
            created_at=float(data.get("created_at", 0)),
            sandbox=bool(data.get("sandbox", False)),
            budget=[BudgetBreach.from_json(b) for b in data.get("budget", [])],
            mission_budget=MissionBudget.from_json((data.get("cost") or {}).get("budget")),
            spent=SpentSoFar.from_json((data.get("cost") or {}).get("spent")),
            policy=MissionPolicy.from_json(data.get("policy")),
        )
