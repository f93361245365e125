"""Which resources a run acts on: ``--target`` and ``--exclude`` (OpenTofu's ``-exclude``).

``--target ID`` narrows a run to ID and what it needs; ``--exclude ID`` widens nothing and
leaves out ID and everything that would break without it. Which side of the graph comes
along depends on the direction of the run:

- apply: a target brings what it depends on (it cannot be created without them); an
  exclusion takes along what depends on it (that cannot be planned without it).
- destroy: a target brings what depends on it (children go before their parent); an
  exclusion keeps what it depends on (a kept child keeps its parents).

An id that names no resource, in the mission or in state, is a usage error (exit 64)
naming it and the nearest id, so a typo never silently plans the whole mission.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .. import graph
from ..errors import UsageError
from ..suggest import did_you_mean


@dataclass(frozen=True)
class Selection:
    """The ids a run may act on, and the ids it leaves out because of ``--exclude``."""

    chosen: frozenset[str]
    excluded: tuple[str, ...] = field(default_factory=tuple)

    def __contains__(self, rid: object) -> bool:
        return rid in self.chosen


def check_ids(flag: str, ids: Iterable[str], known: Iterable[str]) -> None:
    """Refuse ids that are neither in the mission nor in state (exit 64, nearest id named)."""
    options = sorted(set(known))
    for rid in ids:
        if rid in options:
            continue
        hint = did_you_mean(rid, options) or (
            f"resources: {', '.join(options)}" if options else "the mission has no resources"
        )
        raise UsageError(f"{flag} {rid!r}: no resource {rid!r} in the mission or its state", hint=hint)


def select(
    deps: Mapping[str, list[str]],
    every: Iterable[str],
    *,
    targets: Iterable[str] = (),
    excludes: Iterable[str] = (),
    destroy: bool = False,
) -> Selection:
    """The resources a run acts on, from the dependency map ``deps`` (id → ids it depends on)."""
    graph_deps = {rid: list(ds) for rid, ds in deps.items()}
    dependents = graph.reverse(graph_deps)
    every, targets, excludes = list(every), list(targets), list(excludes)
    chosen = set(every)
    if targets:
        chosen &= graph.closure(dependents if destroy else graph_deps, targets)
    left_out: set[str] = set()
    if excludes:
        left_out = graph.closure(graph_deps if destroy else dependents, excludes)
    excluded = tuple(rid for rid in every if rid in left_out and rid in chosen)
    return Selection(frozenset(chosen - left_out), excluded)
