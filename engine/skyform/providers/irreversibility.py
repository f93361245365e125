"""What an action cannot undo: the class a kind declares for each action it would take.

A satellite capture once taken is paid for; an iTwin job once submitted bills; deleting a
CVAT task deletes its annotations. The plan marks each such action before anything starts
(``!`` and the reason), and apply of a plan with an irreversible action needs
``--ack-irreversible`` or an approval of exactly that plan (docs/cost-and-approvals.md).

Three classes, from what deleting can still give back:

- ``reversible``: deleting undoes it (the default of every kind);
- ``cancellable-until``: it can be called off without loss until a moment the plan names
  (``until``: an ISO 8601 instant such as a capture window's start, or an event the
  service reports, such as a pilot being booked);
- ``irreversible``: once done, money is spent or data is lost for good.

A kind declares the class from the spec and the record alone (``ResourceKind.
irreversibility``), never from a request: the plan says it with ``--refresh=false`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Reversibility(StrEnum):
    """How far an action can be undone."""

    REVERSIBLE = "reversible"
    CANCELLABLE = "cancellable-until"
    IRREVERSIBLE = "irreversible"


@dataclass(frozen=True)
class Irreversibility:
    """A kind's declaration for one action: its class, until when it can be called off, why."""

    level: Reversibility = Reversibility.REVERSIBLE
    reason: str = ""
    #: ``cancellable-until`` only: the moment (an ISO 8601 instant or an event the service reports)
    until: str | None = None

    @classmethod
    def reversible(cls) -> Irreversibility:
        return cls(Reversibility.REVERSIBLE)

    @classmethod
    def cancellable(cls, until: str, reason: str) -> Irreversibility:
        """Can be called off without loss until ``until``."""
        return cls(Reversibility.CANCELLABLE, reason, until)

    @classmethod
    def irreversible(cls, reason: str) -> Irreversibility:
        """Once done, money is spent or data lost for good; ``reason`` says which."""
        return cls(Reversibility.IRREVERSIBLE, reason)

    @property
    def needs_ack(self) -> bool:
        """True when apply needs ``--ack-irreversible`` or an approval for it."""
        return self.level == Reversibility.IRREVERSIBLE

    def __str__(self) -> str:
        if self.level == Reversibility.CANCELLABLE:
            return (
                f"cancellable until {self.until}: {self.reason}" if self.reason else f"cancellable until {self.until}"
            )
        if self.level == Reversibility.IRREVERSIBLE:
            return f"irreversible: {self.reason}" if self.reason else "irreversible"
        return "reversible"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"class": str(self.level), "reason": self.reason}
        if self.until is not None:
            out["until"] = self.until
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Irreversibility:
        return cls(Reversibility(data["class"]), str(data.get("reason", "")), data.get("until"))
