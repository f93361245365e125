"""Safe, bounded, location-keeping YAML loading.

Mission files are parsed with ruamel.yaml's safe loader and C parser; a small constructor
builds plain dicts and lists (:class:`MDict`, :class:`MList`) that remember the line and
column of every key and item, so every later error can point at its source without a
second parse. Timestamps stay strings (services want ISO text, not ``datetime``).

ruamel.yaml is imported by :func:`parse`, not by this module: a mission read from the
content-hash cache (``spec/cache.py``) is made of MDicts without any parsing, and importing
the parser costs a sixth of ``skyform validate``'s start-up (issue 16).

Limits: one document per file, no unknown tags (no object construction of any kind), alias
expansion bounded by the size of the expanded tree (a "billion laughs" document is refused
before anything is expanded), nesting depth bounded, input must be UTF-8 text.
"""

from __future__ import annotations

import gc
import io
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, Location, SpecError

MAX_NODES = 2_000_000  # expanded nodes a document may stand for (aliases included)
MAX_DEPTH = 200
MAX_BYTES = 16 * 1024 * 1024  # missions are written by people; this parses in seconds


class MDict(dict):
    """A mapping that remembers where each key stands (``marks[key] = (line, column)``)."""

    __slots__ = ("column", "line", "marks", "source")
    # set by the builder right after construction (slots, so declared here for type checkers)
    marks: dict[Any, tuple[Any, ...]]  # (line, column) or (line, column, file)
    source: str
    line: int
    column: int

    def mark(self, key: Any) -> Location | None:
        pos = self.marks.get(key) if hasattr(self, "marks") else None
        if pos is None:
            return self.location()
        # merged missions keep (line, column, file) for entries from another file
        return Location(pos[2] if len(pos) > 2 else self.source, pos[0], pos[1])

    def location(self) -> Location | None:
        if not hasattr(self, "source"):
            return None
        return Location(self.source, self.line, self.column)


class MList(list):
    """A sequence that remembers where each item stands."""

    __slots__ = ("column", "line", "marks", "source")
    # set by the builder right after construction (slots, so declared here for type checkers)
    marks: list[tuple[int, int]]
    source: str
    line: int
    column: int

    def mark(self, index: int) -> Location | None:
        marks = getattr(self, "marks", None)
        if marks is not None and isinstance(index, int) and 0 <= index < len(marks):
            return Location(self.source, marks[index][0], marks[index][1])
        return self.location()

    def location(self) -> Location | None:
        if not hasattr(self, "source"):
            return None
        return Location(self.source, self.line, self.column)


def _error(source: str, message: str, mark: Any = None, hint: str | None = None) -> SpecError:
    loc = Location(source, mark.line + 1, mark.column + 1) if mark is not None else Location(source, 1, 1)
    return SpecError(Diagnostic(path="", message=message, location=loc, hint=hint))


_NOKEY = object()
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL = {
    ".inf": math.inf,
    ".Inf": math.inf,
    ".INF": math.inf,
    "+.inf": math.inf,
    "+.Inf": math.inf,
    "+.INF": math.inf,
    "-.inf": -math.inf,
    "-.Inf": -math.inf,
    "-.INF": -math.inf,
    ".nan": math.nan,
    ".NaN": math.nan,
    ".NAN": math.nan,
}
_CORE = "tag:yaml.org,2002:"


def _plain(value: str) -> Any:
    """A plain scalar under the YAML 1.2 core schema (timestamps stay text)."""
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    first = value[0]
    if first.isdigit() or first in "+-.":
        if _INT.fullmatch(value):
            return int(value)
        if value.startswith(("0x", "0o")) and len(value) > 2:
            try:
                return int(value[2:], 16 if value[1] == "x" else 8)
            except ValueError:
                return value
        if _FLOAT.fullmatch(value):
            return float(value)
        if value in _SPECIAL:
            return _SPECIAL[value]
    return value


def _tagged(tag: str, value: str, source: str, mark: Any) -> Any:
    """A scalar with an explicit core tag; any other tag is refused (no object construction)."""
    if tag in ("!", _CORE + "str"):
        return value
    kind = tag[len(_CORE) :] if tag.startswith(_CORE) else None
    if kind in ("int", "float", "bool", "null"):
        parsed = _plain(value)
        ok = {
            "int": isinstance(parsed, int) and not isinstance(parsed, bool),
            "float": isinstance(parsed, (int, float)) and not isinstance(parsed, bool),
            "bool": isinstance(parsed, bool),
            "null": parsed is None,
        }[kind]
        if not ok:
            raise _error(source, f"{value!r} is not a valid !!{kind}", mark)
        return float(parsed) if kind == "float" else parsed
    raise _error(source, f"YAML tag {tag!r} is not allowed in a mission (only plain data)", mark)


class _Mark:
    """A 0-based position like the parser's marks."""

    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


class _Frame:
    """An open mapping or sequence while events are read."""

    __slots__ = ("anchor", "container", "is_map", "key", "key_mark", "key_plain", "merged", "start")

    def __init__(self, container: Any, is_map: bool, anchor: str | None, start: int) -> None:
        self.container, self.is_map, self.anchor, self.start = container, is_map, anchor, start
        self.key: Any = _NOKEY
        self.key_mark: tuple[int, int] = (0, 0)
        self.key_plain = False
        self.merged: set[Any] = set()


def _build(parser: Any, source: str) -> Any:
    """Build MDict/MList/scalars straight from the C parser's events.

    No node graph, no Python resolver: this is what makes loading cheaper than ruamel's own
    safe load. Anchors hold built values; every alias adds the size of what it stands for
    to the count of expanded values, so an alias bomb is refused as soon as the count
    passes MAX_NODES, before anything is expanded.
    """
    from ruamel.yaml.events import (
        AliasEvent,
        DocumentStartEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )

    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int]] = {}
    open_anchors: set[str] = set()
    root: Any = None
    expanded = 0
    documents = 0
    while True:
        event = parser.get_event()
        cls = type(event)
        mark = event.start_mark
        size = 1
        if cls is ScalarEvent:
            if event.tag is not None and event.implicit[0] is False and event.tag != "!":
                value = _tagged(event.tag, event.value, source, mark)
            elif event.implicit[0] and not event.style:
                value = _plain(event.value)
            else:
                value = event.value
            expanded += 1
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            expected = _CORE + ("map" if cls is MappingStartEvent else "seq")
            if event.tag is not None and event.tag not in (expected, "!"):
                if event.tag in (_CORE + "map", _CORE + "seq"):
                    raise _error(source, f"YAML tag {event.tag!r} does not fit this value", mark)
                raise _error(source, f"YAML tag {event.tag!r} is not allowed in a mission (only plain data)", mark)
            if len(stack) >= MAX_DEPTH:
                raise _error(source, f"nesting deeper than {MAX_DEPTH} levels is not allowed", mark)
            container: Any = MDict() if cls is MappingStartEvent else MList()
            container.source, container.line, container.column = source, mark.line + 1, mark.column + 1
            container.marks = {} if cls is MappingStartEvent else []
            expanded += 1
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            stack.append(_Frame(container, cls is MappingStartEvent, event.anchor, expanded))
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            frame = stack.pop()
            value = frame.container
            size = 0  # already counted while it was built
            if frame.anchor is not None:
                open_anchors.discard(frame.anchor)
                anchors[frame.anchor] = (value, expanded - frame.start + 1)
        elif cls is AliasEvent:
            if event.anchor in open_anchors:
                raise _error(source, "a recursive alias (a node that contains itself) is not allowed", mark)
            if event.anchor not in anchors:
                raise _error(source, f"alias *{event.anchor} refers to no anchor", mark)
            value, size = anchors[event.anchor]
            expanded += size
        elif cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _error(
                    source, "a mission file holds one YAML document; split the others into their own files", mark
                )
            continue
        elif cls is StreamEndEvent:
            return root
        else:
            continue
        if expanded > MAX_NODES:
            raise _error(
                source, f"the document expands to more than {MAX_NODES:,} values (an alias bomb?); refused", mark
            )
        if not stack:
            root = value
            continue
        frame = stack[-1]
        if cls is MappingEndEvent or cls is SequenceEndEvent:  # a container stands where it starts
            position = (value.line, value.column)
            mark = _Mark(value.line - 1, value.column - 1)
        else:
            position = (mark.line + 1, mark.column + 1)
        if not frame.is_map:
            frame.container.append(value)
            frame.container.marks.append(position)
        elif frame.key is _NOKEY:
            if isinstance(value, (dict, list)):
                raise _error(source, "a mapping key must be a scalar", mark)
            if value in frame.container.marks and value not in frame.merged:
                first = frame.container.marks[value]
                raise _error(
                    source,
                    f"duplicate key {value!r} (first defined at line {first[0]})",
                    mark,
                    hint="remove or rename one of the two",
                )
            frame.key, frame.key_mark = value, position
            # only a plain, untagged << is a merge key; '<<' quoted is an ordinary key
            frame.key_plain = cls is ScalarEvent and event.tag is None and bool(event.implicit[0]) and not event.style
            frame.merged.discard(value)
        else:
            key, frame.key = frame.key, _NOKEY
            if key == "<<" and frame.key_plain and cls is not ScalarEvent:
                _merge(frame, value, source, mark)
                continue
            frame.container[key] = value
            frame.container.marks[key] = frame.key_mark


def _merge(frame: _Frame, value: Any, source: str, mark: Any) -> None:
    """``<<: *defaults`` (or a list of them): keys not set explicitly are taken over."""
    sources = value if isinstance(value, list) else [value]
    for merged in sources:
        if not isinstance(merged, MDict):
            raise _error(source, "a merge key (<<) takes a mapping or a list of mappings", mark)
        for k, v in merged.items():
            if k not in frame.container:
                frame.container[k] = v
                frame.container.marks[k] = merged.marks.get(k, (mark.line + 1, mark.column + 1))
                frame.merged.add(k)


def event_parser(text: str) -> Any:
    """ruamel.yaml's event parser over ``text`` (imported here, on first use; see above)."""
    try:  # the C parser (ruamel.yaml.clib): 4-7x faster than the pure-Python one
        from ruamel.yaml.clib._ruamel_yaml import CParser as Parser  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - other interpreters
        from ruamel.yaml.parser import Parser
    return Parser(io.StringIO(text))


def parse(text: str | bytes, source: str) -> Any:
    """Parse one YAML document into MDict/MList/scalars, or raise SpecError with a location."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _error(source, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        if b"\x00" in text:
            raise _error(source, "file is binary, not YAML text")
        raw = text
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise SpecError(
                Diagnostic("", f"file is not valid UTF-8 (byte {exc.start})", Location(source, line, 1))
            ) from None
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    gc_was_enabled = gc.isenabled()
    gc.disable()  # building allocates many small objects: pausing gc halves the time
    try:
        parser = event_parser(text)
        try:
            return _build(parser, source)
        finally:
            dispose = getattr(parser, "dispose", None)
            if dispose is not None:
                dispose()
    except SpecError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or exc.context or "invalid YAML").strip()
        raise _error(source, f"invalid YAML: {message}", mark) from None
    except (YAMLError, ValueError) as exc:
        raise _error(source, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise _error(source, f"nesting deeper than {MAX_DEPTH} levels is not allowed") from None
    finally:
        if gc_was_enabled:
            gc.enable()


def locate(root: Any, path: Iterable[Any]) -> Location | None:
    """The location of the value at ``path`` (keys and indexes), or of its nearest parent."""
    best: Location | None = root.location() if isinstance(root, (MDict, MList)) else None
    node = root
    for key in path:
        if (isinstance(node, MDict) and key in node) or (
            isinstance(node, MList) and isinstance(key, int) and 0 <= key < len(node)
        ):
            best = node.mark(key) or best
            node = node[key]
        else:
            break
    return best


def read_file(path: Path) -> Any:
    """Read and parse one file; unreadable files are SpecErrors naming them."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(Diagnostic("", f"cannot read {path}: {exc.strerror}", Location(str(path), 1, 1))) from None
    return parse(data, str(path))
