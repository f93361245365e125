"""What an apply changed, counted from the plan's actions and the run's outcome.

The summary line is a promise the user checks against the plan: it counts only resources
that an action changed (created, updated, replaced, deleted, removed from state, waited
for), never the ones that were already up to date, so a re-apply of an unchanged mission
says that nothing was done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..plan.model import ActionKind

# (action kind, how the summary names what was done to it), in the order they are printed
DONE_WORDS = (("create", "created"), ("update", "updated"), ("replace", "replaced"), ("delete", "deleted"))
EXTRA_WORDS = (
    ("forget", "removed from state"),
    ("resume", "waited for"),
    ("record", "recorded in state"),
    ("accept", "accepted as changed outside skyform"),
    ("read", "read"),
    ("submit", "submitted and still running"),
)


@dataclass(frozen=True)
class ApplySummary:
    """Counts of what an apply did, by action kind, plus the failures and skips."""

    counts: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    skipped: int = 0

    @classmethod
    def of(cls, plan: Any, outcome: Any) -> ApplySummary:
        """Count the done resources by their planned action; no-ops are not counted."""
        kinds = {a.address: _kind(a) for a in plan.actions}
        counts: dict[str, int] = {}
        for address in outcome.done:
            kind = kinds.get(address)
            if kind is not None:
                counts[kind] = counts.get(kind, 0) + 1
        if outcome.detached:  # --detach: submitted, not finished; apply again records the result
            counts["submit"] = len(outcome.detached)
        return cls(counts, len(outcome.failed), len(outcome.skipped))

    @property
    def changed(self) -> int:
        """How many resources an action changed."""
        return sum(self.counts.values())

    def text(self, *, destroy: bool = False) -> str:
        """``2 created, 1 updated, 0 replaced, 0 deleted`` (+ extra kinds only when present;
        a destroy names only what it deleted)."""
        shown = DONE_WORDS[3:] if destroy else DONE_WORDS
        parts = [f"{self.counts.get(kind, 0)} {word}" for kind, word in shown]
        parts += [f"{self.counts[kind]} {word}" for kind, word in EXTRA_WORDS if self.counts.get(kind)]
        if self.failed or self.skipped:
            parts += [f"{self.failed} failed", f"{self.skipped} skipped"]
        return ", ".join(parts)


def _kind(action: Any) -> str | None:
    """The summary's kind of a planned action; None for a no-op that touches nothing."""
    if action.action == ActionKind.NOOP:
        if action.state_only:
            return "record"
        return "accept" if action.drift else None  # a no-op with drift is a refresh-only plan
    return str(action.action)
