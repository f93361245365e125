"""What the plan cannot undo: each action's declared class, and the refusal without an ack.

The planner asks every changing action's kind for its class (``ResourceKind.
irreversibility``) and keeps on the action any that is not reversible, so the plan shows it
(``!`` and the reason), a saved plan carries it and ``apply PLANFILE`` refuses exactly what
``plan`` reported. Apply of a plan with an irreversible action needs ``--ack-irreversible``
or a matching approval (:mod:`skyform.approvals`), checked before the prompt and before
any request (:func:`refuse_unacknowledged`, exit 7); ``--sandbox`` needs neither: the
simulators bill nothing and their data is throwaway, so a try-out stays one command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from ..errors import PlanRefused, SkyformError
from ..providers.base import CheckContext, Record, ResourceKind
from ..providers.irreversibility import Irreversibility, Reversibility
from ..state.base import ResourceState
from ..state.records import to_record

log = logging.getLogger("skyform.plan")

#: the actions a kind is asked about (a forget, a wait or a no-op sends nothing new)
DECLARED = ("create", "update", "replace", "delete")
ACK_FLAG = "--ack-irreversible"


class Marked(Protocol):
    """What is read and set on a planned action (plan.model.Action)."""

    address: str
    type: str
    irreversibility: Irreversibility | None

    @property
    def action(self) -> str: ...


def mark(
    actions: Iterable[Marked],
    kind_of: Callable[[str], ResourceKind],
    specs: Mapping[str, Any],
    records: Mapping[str, ResourceState],
    mission_dir: Path,
    today: date,
) -> None:
    """Set ``irreversibility`` on every action whose kind declares it is not reversible.

    A kind whose declaration fails is taken as irreversible (fail closed: an ack is asked
    for rather than money spent unseen), with the failure as the reason.
    """
    for action in actions:
        if str(action.action) not in DECLARED:
            continue
        try:
            kind = kind_of(action.type)
        except SkyformError:
            continue  # a provider not installed: the plan already says so for this action
        spec = None if str(action.action) == "delete" else specs.get(action.address)
        recorded = records.get(action.address)
        record: Record | None = to_record(recorded) if recorded is not None else None
        ctx = CheckContext(today=today, mission_dir=mission_dir, address=action.address)
        try:
            declared = kind.irreversibility(str(action.action), spec, record, ctx)
        except Exception as exc:  # a provider bug: never let it hide what cannot be undone
            log.debug("irreversibility of %s failed", action.address, exc_info=True)
            declared = Irreversibility.irreversible(
                f"{action.type} could not say whether this can be undone ({type(exc).__name__}: {exc})"
            )
        if declared.level != Reversibility.REVERSIBLE:
            action.irreversibility = declared


@dataclass(frozen=True)
class Marking:
    """One action's mark as the plan's ``irreversible`` list holds it."""

    address: str
    action: str
    declared: Irreversibility

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "action": self.action, **self.declared.to_json()}

    def __str__(self) -> str:
        return f"{self.address} ({self.action}: {self.declared.reason or self.declared.level})"


def markings(actions: Iterable[Marked]) -> list[Marking]:
    """Every action not reversible, in plan order."""
    return [Marking(a.address, str(a.action), a.irreversibility) for a in actions if a.irreversibility is not None]


def irreversible(actions: Iterable[Marked]) -> list[Marking]:
    """The actions apply needs an ack or an approval for."""
    return [m for m in markings(actions) if m.declared.needs_ack]


def notice(actions: Iterable[Marked], *, destroy: bool = False) -> list[str]:
    """The plan's closing lines on what cannot be undone (none when everything can)."""
    marked = markings(actions)
    lines = []
    final = [m for m in marked if m.declared.needs_ack]
    if final:
        one = len(final) == 1
        if destroy:
            what = f"deletion{'' if one else 's'} lose{'s' if one else ''} data or money that cannot be recovered"
        else:
            what = f"action{'' if one else 's'} cannot be undone"
        lines.append(f"Irreversible: {len(final)} {what}: {', '.join(str(m) for m in final)}.")
    for m in marked:
        if m.declared.level == Reversibility.CANCELLABLE:
            lines.append(f"Cancellable: {m.address} until {m.declared.until}: {m.declared.reason}.")
    return lines


def refuse_unacknowledged(actions: Iterable[Marked], *, acknowledged: bool, sandbox: bool, detail: str = "") -> None:
    """PlanRefused (exit 7) when the plan has irreversible actions nobody acknowledged.

    Called before the prompt and before any request: nothing is sent when it refuses.
    """
    final = irreversible(actions)
    if not final or acknowledged or sandbox:
        return
    raise PlanRefused(
        f"the plan has {len(final)} irreversible action{'s' if len(final) != 1 else ''} and nothing "
        f"acknowledged {'them' if len(final) != 1 else 'it'}{f' ({detail})' if detail else ''}; nothing was sent: "
        + "; ".join(map(str, final)),
        hint=f"review them, then run again with {ACK_FLAG}, or apply a saved plan approved with "
        "`skyform approve PLANFILE`",
    )
