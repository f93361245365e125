"""Which recorded resources refer to which artifacts: what ``ls`` shows and ``gc`` keeps.

A record refers to an artifact by keeping its digest (``sha256:<hex>``) anywhere in its
outputs, observed or private values; the engine needs no list of kinds, so a third-party
kind that records ``str(ctx.artifacts.put(...))`` is covered like the built-in ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from ..state.base import ResourceState, StateStore
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


def published_files(resources: Iterable[ResourceState]) -> dict[str, str]:
    """path -> ``sha256:<hex>`` of every file the records say was put in the store: each
    ``{"path": ..., "artifact": "sha256:..."}`` in their outputs (a ``local.Files`` entry, an
    ``all_zip``, an export), so an operation on another machine can fetch what a spec names."""
    found: dict[str, str] = {}

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            path, artifact = value.get("path"), value.get("artifact")
            if isinstance(path, str) and isinstance(artifact, str) and list(referenced(artifact)):
                found[path] = artifact
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for resource in resources:
        walk(resource.outputs)
    return found
