"""The ``skyform`` entry points, read straight from the installed distributions' metadata.

Why not ``importlib.metadata.entry_points(group=...)``: importing ``importlib.metadata``
(it pulls in ``email``, ``zipfile``, ``csv`` and friends) and scanning every distribution's
metadata through it cost 50-80 ms of every command's start-up, a third of ``skyform
validate`` (issue 16). Here one ``os.listdir`` per ``sys.path`` directory finds the
``*.dist-info`` / ``*.egg-info`` folders, and only their ``entry_points.txt`` files are
read; a distribution's name and version (its ``METADATA`` headers) are read only when a
plugin is loaded or listed.

The rules are importlib.metadata's (Python 3.11-3.13): ``sys.path`` in order, the first
distribution of a (normalised) name wins, ``[group]`` sections of ``name = value`` lines.
Wherever this reader could differ - a zip file on ``sys.path``, a meta-path finder that
offers distributions of its own - it hands over to ``importlib.metadata`` itself.

A process that builds many plugin managers (a reconciler, the test suite's in-process CLI
runs) scans once per state of ``sys.path``: the answer is kept per group with a signature of
the ``sys.path`` folders (their inode and modification time - installing or removing a
distribution adds or removes a folder there, which changes the folder's time). As git does
for its index, a folder modified within the last two seconds is not trusted (file times are
coarse), so a distribution installed just now is seen by the very next scan.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SUFFIXES = (".dist-info", ".egg-info")


@dataclass
class Distribution:
    """An installed distribution's folder; its name and version are read on first use."""

    path: Path
    _headers: dict[str, str] | None = field(default=None, repr=False)

    def _header(self, key: str) -> str:
        if self._headers is None:
            self._headers = {}
            for name in ("METADATA", "PKG-INFO"):
                try:
                    text = (self.path / name).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                for line in text.splitlines():
                    if not line.strip():
                        break  # the headers end at the first blank line (then the description)
                    head, sep, value = line.partition(":")
                    if sep and not line[:1].isspace():
                        self._headers.setdefault(head.strip().lower(), value.strip())
                break
        return self._headers.get(key, "")

    @property
    def name(self) -> str:
        return self._header("name") or self.path.name.rsplit(".", 1)[0].split("-", 1)[0]

    @property
    def version(self) -> str:
        return self._header("version")


@dataclass
class EntryPoint:
    """One ``name = module[:attr]`` line of a group, with the distribution that declares it."""

    name: str
    value: str
    group: str
    dist: Any = None  # a Distribution here, an importlib.metadata one in the fallback

    def load(self) -> Any:
        """Import the module and follow the attribute path, as importlib.metadata does."""
        import importlib

        module_name, _, attrs = self.value.partition(":")
        target: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, (a.strip() for a in attrs.split("[", 1)[0].split("."))):
            target = getattr(target, attr)
        return target


#: group -> (signature of the sys.path folders, their entry points of that group)
_scanned: dict[str, tuple[tuple[tuple[str, int, int], ...], list[EntryPoint]]] = {}
_UNSETTLED_NS = 2_000_000_000  # a folder changed this recently may change again within its time's tick


def entry_points(group: str) -> list[EntryPoint]:
    """Every entry point of ``group``, in sys.path order, one distribution per name."""
    if not _plain_path():
        return _from_importlib(group)
    signature = _path_signature()
    cached = _scanned.get(group)
    if signature is not None and cached is not None and cached[0] == signature:
        return list(cached[1])
    found = _scan(group)
    if signature is not None:
        _scanned[group] = (signature, found)
    return list(found)


def _path_signature() -> tuple[tuple[str, int, int], ...] | None:
    """(folder, inode, mtime) of each ``sys.path`` entry; None while one was changed just now."""
    settled = time.time_ns() - _UNSETTLED_NS
    parts = []
    for entry in sys.path:
        root = os.path.abspath(entry or ".")
        try:
            st = os.stat(root)
        except OSError:
            parts.append((root, -1, -1))
            continue
        if st.st_mtime_ns > settled:
            return None
        parts.append((root, st.st_ino, st.st_mtime_ns))
    return tuple(parts)


def _scan(group: str) -> list[EntryPoint]:
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for folder in _distributions():
        key = _normalized(folder.name)
        if key in seen:
            continue
        seen.add(key)
        try:
            text = (folder / "entry_points.txt").read_text(encoding="utf-8")
        except OSError:
            continue
        if f"[{group}]" not in text:
            continue
        dist = Distribution(folder)
        found += [EntryPoint(name, value, group, dist) for name, value in _section(text, group)]
    return found


def _plain_path() -> bool:
    """True when only plain directories on sys.path can hold distributions."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if finder is not PathFinder and hasattr(finder, "find_distributions"):
            return False
    return not any(entry and os.path.isfile(entry) for entry in sys.path)


def _distributions() -> Iterator[Path]:
    for entry in sys.path:
        root = entry or "."
        try:
            names = sorted(os.listdir(root))  # importlib.metadata's order within one folder is not defined
        except OSError:
            continue
        for name in names:
            if name.lower().endswith(_SUFFIXES):
                folder = Path(root, name)
                if folder.is_dir():
                    yield folder


def _normalized(folder: str) -> str:
    """The distribution's name as importlib.metadata compares it: ``Foo.Bar-1.0.dist-info`` → ``foo_bar``."""
    stem = folder.rsplit(".", 1)[0].split("-", 1)[0]
    return re.sub(r"[-_.]+", "_", stem).lower()


def _section(text: str, group: str) -> Iterator[tuple[str, str]]:
    """The ``name = value`` lines of ``[group]`` (comments and blank lines skipped)."""
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current == group:
            name, sep, value = line.partition("=")
            if sep:
                yield name.strip(), value.strip()


def _from_importlib(group: str) -> list[EntryPoint]:
    from importlib import metadata

    return [EntryPoint(ep.name, ep.value, group, ep.dist) for ep in metadata.entry_points(group=group)]
