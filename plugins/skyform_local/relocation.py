"""Where a ``local.Files`` record with absolute paths was made: the proof behind ``relocate``.

Until paths were recorded relative to the mission directory, a record named each file by
its absolute path, and the dependants' specs (a ``nodeodm.Task``'s ``images``) hold the
same strings. Rewriting them needs the directory the record was made in, which may be
another checkout's; it is taken only from evidence the record carries:

1. the current mission directory, when every file the spec's patterns matched lies in it
   (the same checkout, upgraded in place);
2. the directory over which the record's ``manifest_sha256`` (relative names, the digest's
   form since before the paths were) is reproduced exactly (a copied checkout);
3. for the oldest records, whose digest hashed absolute paths: the directory under which
   every file's relative name matches one of the spec's patterns (or relative ``paths``)
   and names a file of the same size in the current mission directory.

Nothing else is guessed: with no proof the record stays as it is, and the plan shows what
differs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any


def relative_path(path: str, base: Path) -> str:
    """``path`` relative to ``base`` (POSIX) when it is an absolute path inside it, else as it is."""
    if not Path(path).is_absolute():
        return path
    try:
        return PurePosixPath(path).relative_to(base.as_posix()).as_posix()
    except ValueError:
        return path


def recorded_in(
    spec: Mapping[str, Any], files: Sequence[Mapping[str, Any]], manifest: str, mission_dir: Path
) -> Path | None:
    """The directory the record of ``files`` (absolute paths) was made in, or None without proof."""
    movable = [str(f["path"]) for f in files if str(f["path"]) not in _explicit(spec)]
    if not movable:
        return None  # every file was named by an absolute path: they stay as they are
    if all(relative_path(p, mission_dir) != p for p in movable):
        return mission_dir
    for candidate in PurePosixPath(movable[0]).parents:
        if _digest(files, Path(candidate)) == manifest:
            return Path(candidate)
    for candidate in PurePosixPath(movable[0]).parents:
        base = Path(candidate)
        if all(_same_file_here(f, base, spec, mission_dir) for f in files if str(f["path"]) in movable):
            return base
    return None


def _explicit(spec: Mapping[str, Any]) -> set[str]:
    """The spec's absolute ``paths`` entries: files outside the mission, recorded as they are."""
    named = spec.get("paths") or []
    return {str(Path(p).resolve()) for p in named if isinstance(p, str) and Path(p).is_absolute()} | {
        p for p in named if isinstance(p, str) and Path(p).is_absolute()
    }


def _digest(files: Sequence[Mapping[str, Any]], base: Path) -> str:
    """The relative manifest digest over ``base`` (as ``files.manifest_digest`` computes it)."""
    return hashlib.sha256(
        "".join(f"{relative_path(str(f['path']), base)}\0{f['sha256']}\n" for f in files).encode()
    ).hexdigest()


def _same_file_here(entry: Mapping[str, Any], base: Path, spec: Mapping[str, Any], mission_dir: Path) -> bool:
    """Whether ``entry`` (recorded under ``base``) is named by the spec and present here, same size."""
    name = relative_path(str(entry["path"]), base)
    if name == str(entry["path"]) or not _named_by_spec(name, spec):
        return False
    here = mission_dir / name
    return here.is_file() and here.stat().st_size == entry.get("bytes", here.stat().st_size)


def _named_by_spec(name: str, spec: Mapping[str, Any]) -> bool:
    """Whether the relative ``name`` is one the spec's ``glob`` or relative ``paths`` selects."""
    patterns = spec.get("glob")
    listed = [patterns] if isinstance(patterns, str) else list(patterns or [])
    parts = PurePosixPath(name).parts
    if any(isinstance(p, str) and _matches(parts, PurePosixPath(p).parts) for p in listed):
        return True
    named = [p for p in spec.get("paths") or [] if isinstance(p, str) and not Path(p).is_absolute()]
    return any(PurePosixPath(p).as_posix() == name for p in named)


def _matches(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """A whole-path glob match, ``**`` standing for any number of directories (as ``Path.glob``)."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_matches(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], pattern[0]) and _matches(parts[1:], pattern[1:])
