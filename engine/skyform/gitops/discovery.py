"""Which directories of a checked-out commit hold missions, and which of them a change touches.

A directory holds a mission when one of its mission files (``*.yaml``, ``*.yml``, ``*.json``,
not hidden) has a document that says ``kind: Mission`` at its top level, in any spelling
YAML allows: block style, flow style (``{kind: Mission, ...}``), JSON, quoted, in any
document of a multi-document file. The engine then loads that directory as the mission
(see :func:`skyform.spec.mission.mission_files`). Hidden directories (``.git``,
``.skyform``, ``.github``) are never missions.

Files are scanned by :mod:`skyform.spec.kindscan` (YAML events, never built into
objects; a file that never says ``Mission`` is not parsed). A file that mentions ``Mission``
but does not parse is a :class:`~skyform.errors.Diagnostic` with file, line and column:
a directory holding one is reported by the caller as a failed mission, not left out.

``--path`` patterns are shell globs matched against the directory's path relative to the
repository root (``missions/*``, ``sites/a12``; ``.`` is the root itself).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import Diagnostic, Location, SpecError
from ..spec.kindscan import MISSION_SUFFIXES, file_declares_mission


@dataclass
class Found:
    """The mission directories under a root, and the files that could not be read as YAML."""

    missions: list[str] = field(default_factory=list)  # sorted posix paths relative to the root
    problems: dict[str, list[Diagnostic]] = field(default_factory=dict)  # directory -> its unreadable files


def _candidates(directory: str, names: Iterable[str]) -> list[str]:
    return [os.path.join(directory, n) for n in sorted(names) if n.endswith(MISSION_SUFFIXES) and not n.startswith(".")]


def scan_directory(directory: str | Path, names: Iterable[str] | None = None) -> tuple[bool, list[Diagnostic]]:
    """Whether a directory holds a mission, and its files that could not be read as YAML.

    ``names`` are the directory's file names when the caller already listed them (a walk).
    """
    if names is None:
        names = [e.name for e in os.scandir(directory) if e.is_file()]
    problems: list[Diagnostic] = []
    for path in _candidates(str(directory), names):
        try:
            if file_declares_mission(path):
                return True, []  # the engine reads every file of a mission and reports its errors
        except OSError as exc:
            problems.append(Diagnostic("", f"cannot read: {exc.strerror}", Location(path, 1, 1)))
        except SpecError as exc:
            problems += exc.diagnostics
    return False, problems


def holds_mission(directory: Path) -> bool:
    """Whether a directory's mission files include a mission document."""
    return scan_directory(directory)[0]


def discover(root: Path) -> Found:
    """Every mission directory under ``root``, and every file that could not be read as YAML."""
    found = Found()
    top = str(root)
    for current, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        mission, problems = scan_directory(current, files)
        rel = current[len(top) :].strip(os.sep).replace(os.sep, "/") or "."
        if mission:
            found.missions.append(rel)
        elif problems:
            found.problems[rel] = problems
    found.missions.sort()
    return found


def find_missions(root: Path) -> list[str]:
    """Every mission directory under ``root``, as sorted posix paths relative to it."""
    return discover(root).missions


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
