"""Which directories of a checked-out commit hold missions, and which of them a change touches.

A directory holds a mission when one of its ``*.yaml``/``*.yml`` files (not hidden) says
``kind: Mission`` at the top level; the engine then loads every YAML file of that directory
as the mission. Hidden directories (``.git``, ``.skyform``, ``.github``) are never missions.
``--path`` patterns are shell globs matched against the directory's path relative to the
repository root (``missions/*``, ``sites/a12``; ``.`` is the root itself).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

_MISSION_KIND = re.compile(rb"^kind:[ \t]*[\"']?Mission[\"']?[ \t]*(#.*)?\r?$", re.MULTILINE)


def _yaml_files(directory: Path) -> list[Path]:
    return [
        p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file() and not p.name.startswith(".")
    ]


def holds_mission(directory: Path) -> bool:
    """Whether a directory's YAML files include a mission document."""
    for path in _yaml_files(directory):
        try:
            if _MISSION_KIND.search(path.read_bytes()):
                return True
        except OSError:
            continue
    return False


def find_missions(root: Path) -> list[str]:
    """Every mission directory under ``root``, as sorted posix paths relative to it."""
    found = []
    for current, dirs, _files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        here = Path(current)
        if holds_mission(here):
            rel = here.relative_to(root).as_posix()
            found.append(rel or ".")
    return sorted(found)


def matches(path: str, patterns: Sequence[str]) -> bool:
    """Whether a mission directory is selected by ``--path`` globs (none given: all are)."""
    if not patterns:
        return True
    return any(fnmatch.fnmatchcase(path, p.rstrip("/") or ".") for p in patterns)


def touched(missions: Iterable[str], changed: Iterable[str]) -> list[str]:
    """The missions with at least one changed file in or below their directory.

    Files below a mission directory count (data a mission reads, such as ``data/*.JPG``);
    a file inside a nested mission counts for the deepest mission only.
    """
    missions = sorted(missions, key=lambda m: -len(m))  # the deepest owner wins
    hit: set[str] = set()
    for path in changed:
        parent = PurePosixPath(path).parent
        for mission in missions:
            if mission == "." or parent == PurePosixPath(mission) or PurePosixPath(mission) in parent.parents:
                hit.add(mission)
                break
    return sorted(hit)
