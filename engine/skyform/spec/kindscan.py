"""Whether a file holds a mission document, read as YAML events without building anything.

Discovery (gitops) and the engine's choice of a directory's JSON files both ask this. A file
is a mission when one of its documents says ``kind: Mission`` at its top level, in any
spelling YAML allows: block or flow style, JSON, quoted, tagged ``!!str``. Two things keep
it cheap for a repository of hundreds of files: a file whose bytes never say ``Mission`` is
not parsed at all (so a Helm template or a JSON-with-comments file beside the missions is
never an error), and the C parser's events are read only up to the first ``kind: Mission``.
A file that mentions ``Mission`` but does not parse before saying so is a
:class:`~skyform.errors.SpecError` with its file, line and column: it may be a broken
mission, and is never silently left out. (A ``kind`` spelled with YAML escapes,
``"\\x4dission"``, is not recognised.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, Location, SpecError
from .yamlsource import MAX_BYTES, event_parser

MISSION_KIND = "Mission"
_MISSION_BYTES = MISSION_KIND.encode()
YAML_SUFFIXES = (".yaml", ".yml")
MISSION_SUFFIXES = (*YAML_SUFFIXES, ".json")  # JSON is YAML; a .json file counts when it declares a mission


def file_declares_mission(path: str | Path) -> bool:
    """:func:`declares_mission` for a file; a file larger than a mission may be is not one."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size > MAX_BYTES:
            return False
        data = handle.read()
    return declares_mission(data, str(path))


def declares_mission(data: bytes, source: str) -> bool:
    """Whether a YAML (or JSON) stream has a document whose top level says ``kind: Mission``.

    Raises :class:`SpecError` (one diagnostic, with file, line and column) for a file that
    is not YAML text or does not parse before its mission document.
    """
    if _MISSION_BYTES not in data:
        return False
    if len(data) > MAX_BYTES or b"\x00" in data:
        raise SpecError(Diagnostic("", "not a YAML text file (binary or too large)", Location(source, 1, 1)))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(Diagnostic("", f"not valid UTF-8 (byte {exc.start})", Location(source, line, 1))) from None
    # ruamel.yaml only now: a mission read from a .yaml file never asks, and start-up matters
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    parser = event_parser(text)
    try:
        return _scan(parser)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(source, mark.line + 1, mark.column + 1) if mark is not None else Location(source, 1, 1)
        message = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError(Diagnostic("", f"invalid YAML: {message}", where)) from None
    except YAMLError as exc:
        raise SpecError(Diagnostic("", f"invalid YAML: {exc}", Location(source, 1, 1))) from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


def _scan(parser: Any) -> bool:
    """Walk the events: in a document's top-level mapping, items alternate key, value."""
    from ruamel.yaml.events import (
        AliasEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )

    depth, top_is_map, index, key = 0, False, 0, None
    while True:
        event = parser.get_event()
        cls = type(event)
        if cls is ScalarEvent or cls is AliasEvent:
            if depth == 1 and top_is_map:
                if index % 2 == 0:
                    key = event.value if cls is ScalarEvent else None
                elif key == "kind" and cls is ScalarEvent and event.value == MISSION_KIND:
                    return True
                index += 1
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            if depth == 0:
                top_is_map, index = cls is MappingStartEvent, 0
            depth += 1
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            depth -= 1
            if depth == 1:  # a container was the item: as a key it is never "kind"
                key = None if index % 2 == 0 else key
                index += 1
        elif cls is StreamEndEvent:
            return False
