"""Which recorded resources refer to which artifacts: what ``ls`` shows and ``gc`` keeps.

A record refers to an artifact by keeping its digest (``sha256:<hex>``) anywhere in its
outputs, observed or private values; the engine needs no list of kinds, so a third-party
kind that records ``str(ctx.artifacts.put(...))`` is covered like the built-in ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..state.base import StateStore
from .digest import Digest, referenced


def referrers(store: StateStore, missions: Iterable[str] | None = None) -> dict[Digest, list[str]]:
    """digest -> ``mission/resource`` addresses that record it, for ``missions`` (None: all the store has)."""
    names = [m.name for m in store.missions()] if missions is None else list(missions)
    found: dict[Digest, list[str]] = defaultdict(list)
    for mission in names:
        for address, resource in store.resources(mission).items():
            digests = set(referenced([resource.outputs, resource.observed, resource.private]))
            for digest in digests:
                found[digest].append(f"{mission}/{address}")
    return {digest: sorted(addresses) for digest, addresses in found.items()}


def merge(*maps: dict[Digest, list[str]]) -> dict[Digest, list[str]]:
    """One map of referrers from several state stores."""
    merged: dict[Digest, set[str]] = defaultdict(set)
    for mapping in maps:
        for digest, addresses in mapping.items():
            merged[digest].update(addresses)
    return {digest: sorted(addresses) for digest, addresses in merged.items()}
