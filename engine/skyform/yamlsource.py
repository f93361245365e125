"""Safe, bounded, location-keeping YAML loading.

Mission files are parsed with ruamel.yaml's safe loader and C parser; a small constructor
builds plain dicts and lists (:class:`MDict`, :class:`MList`) that remember the line and
column of every key and item, so every later error can point at its source without a
second parse. Timestamps stay strings (services want ISO text, not ``datetime``).

Limits: one document per file, no unknown tags (no object construction of any kind), alias
expansion bounded by the size of the expanded tree (a "billion laughs" document is refused
before anything is expanded), nesting depth bounded, input must be UTF-8 text.
"""

from __future__ import annotations

import gc
import io
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Diagnostic, Location, SpecError

MAX_NODES = 2_000_000  # expanded nodes a document may stand for (aliases included)
MAX_DEPTH = 200
MAX_BYTES = 64 * 1024 * 1024


class MDict(dict):  # type: ignore[type-arg]
    """A mapping that remembers where each key stands (``marks[key] = (line, column)``)."""

    __slots__ = ("marks", "source", "line", "column")

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


class MList(list):  # type: ignore[type-arg]
    """A sequence that remembers where each item stands."""

    __slots__ = ("marks", "source", "line", "column")

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


class _Constructor(SafeConstructor):
    """Builds MDict/MList with marks; refuses duplicate keys and unknown tags."""

    source = "<string>"

    def construct_yaml_map(self, node: MappingNode) -> Any:  # type: ignore[override]
        data = MDict()
        data.source = self.source
        data.line = node.start_mark.line + 1
        data.column = node.start_mark.column + 1
        marks: dict[Any, tuple[int, int]] = {}
        data.marks = marks
        yield data
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _error(self.source, "a mapping key must be a scalar", key_node.start_mark) from None
            if key in marks:
                first = marks[key]
                raise _error(self.source, f"duplicate key {key!r} (first defined at line {first[0]})",
                             key_node.start_mark, hint="remove or rename one of the two")
            marks[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            data[key] = self.construct_object(value_node, deep=True)

    def construct_yaml_seq(self, node: SequenceNode) -> Any:  # type: ignore[override]
        data = MList()
        data.source = self.source
        data.line = node.start_mark.line + 1
        data.column = node.start_mark.column + 1
        data.marks = [(n.start_mark.line + 1, n.start_mark.column + 1) for n in node.value]
        yield data
        data.extend(self.construct_object(child, deep=True) for child in node.value)

    def construct_yaml_timestamp(self, node: ScalarNode, values: Any = None) -> Any:  # type: ignore[override]
        return node.value

    def construct_undefined(self, node: Node) -> Any:  # type: ignore[override]
        raise _error(self.source, f"YAML tag {node.tag!r} is not allowed in a mission (only plain data)",
                     node.start_mark)


_Constructor.add_constructor("tag:yaml.org,2002:map", _Constructor.construct_yaml_map)
_Constructor.add_constructor("tag:yaml.org,2002:seq", _Constructor.construct_yaml_seq)
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)
_Constructor.add_constructor(None, _Constructor.construct_undefined)  # type: ignore[arg-type]
# omap/pairs/set build Python objects we do not want in specs
for _tag in ("omap", "pairs", "set", "binary"):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _Constructor.construct_undefined)


def _check_size(root: Node, source: str) -> None:
    """Refuse alias bombs, recursive aliases and absurd nesting before constructing."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            if isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            else:
                children = node.value
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_NODES:
                raise _error(source, f"the document expands to more than {MAX_NODES:,} values "
                             "(an alias bomb?); refused", node.start_mark)
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise _error(source, "a recursive alias (a node that contains itself) is not allowed",
                         node.start_mark)
        if depth > MAX_DEPTH:
            raise _error(source, f"nesting deeper than {MAX_DEPTH} levels is not allowed", node.start_mark)
        if isinstance(node, ScalarNode):
            sizes[key] = 1
            continue
        on_path.add(key)
        stack.append((node, depth, True))
        children = [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else node.value
        for child in children:
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))


def parse(text: str | bytes, source: str) -> Any:
    """Parse one YAML document into MDict/MList/scalars, or raise SpecError with a location."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _error(source, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        if b"\x00" in text:
            raise _error(source, "file is binary, not YAML text")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            raise SpecError(Diagnostic("", f"file is not valid UTF-8 (byte {exc.start})",
                                       Location(source, line, 1))) from None
    yaml = YAML(typ="safe")
    yaml.Constructor = _Constructor
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the constructor allocates millions of small objects: pausing gc halves the time
    try:
        constructor, parser = yaml.get_constructor_parser(io.StringIO(text))
        constructor.source = source
        try:
            node = constructor.composer.get_single_node()
            if node is None:
                return None
            _check_size(node, source)
            return constructor.construct_document(node)
        finally:
            parser.dispose()
    except SpecError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or exc.context or "invalid YAML").strip()
        if "expected a single document" in str(exc):
            message = "a mission file holds one YAML document; split the others into their own files"
        raise _error(source, f"invalid YAML: {message}", mark) from None
    except ConstructorError as exc:
        raise _error(source, f"invalid YAML: {exc.problem}", exc.problem_mark) from None
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
        if isinstance(node, MDict) and key in node:
            best = node.mark(key) or best
            node = node[key]
        elif isinstance(node, MList) and isinstance(key, int) and 0 <= key < len(node):
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
