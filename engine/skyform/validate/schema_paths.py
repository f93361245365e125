"""What a kind's JSON Schema says about one field path: does it exist, what types may it hold.

Validation needs this where the JSON Schema check itself cannot look: an ``ignore_changes``
entry names a field by a dotted path, and an expression's value is not known before apply
although its type is. The answers are deliberately conservative - a field is "unknown"
only when a closed object lists no such property, and a type is "not admitted" only when
no alternative of the schema admits it - so that these checks never reject a valid mission.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: the JSON types; "integer" is a kind of "number"
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
_MAX_DEPTH = 32


def json_type(value: Any) -> str:
    """The JSON type of a plain value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object"


def _widened(types: Iterable[str]) -> frozenset[str]:
    """Types with "number" standing for integers too (a number field takes an integer)."""
    out = set(types)
    if "number" in out:
        out.add("integer")
    return frozenset(out)


def _ref(node: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """The schema a local ``$ref`` (``#/$defs/name``) points at, or {} when it is not local."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return {}
    target: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(target, Mapping) or part not in target:
            return {}
        target = target[part]
    return target


def _flat(node: Any, root: Mapping[str, Any], depth: int = 0) -> list[Mapping[str, Any]]:
    """``node`` and every schema it is composed of ($ref, allOf, anyOf, oneOf, then/else)."""
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return []
    out = [node]
    if "$ref" in node:
        out += _flat(_ref(node, root), root, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for part in node.get(key) or ():
            out += _flat(part, root, depth + 1)
    for key in ("then", "else"):
        out += _flat(node.get(key), root, depth + 1)
    return out


def child_schemas(node: Any, key: str | int, root: Mapping[str, Any]) -> list[Any] | None:
    """The schemas that describe ``key`` under ``node``; [] when nothing describes it (any
    value goes), None when ``node`` is a closed object that has no such property."""
    found: list[Any] = []
    for part in _flat(node, root):
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            index = int(key)
            prefix = part.get("prefixItems")
            if isinstance(prefix, list) and index < len(prefix):
                found.append(prefix[index])
            elif isinstance(part.get("items"), Mapping):
                found.append(part["items"])
            continue
        props = part.get("properties")
        if isinstance(props, Mapping) and key in props:
            found.append(props[key])
        for pattern, schema in (part.get("patternProperties") or {}).items():
            if re.search(pattern, key):
                found.append(schema)
        if isinstance(part.get("additionalProperties"), Mapping) and not (isinstance(props, Mapping) and key in props):
            found.append(part["additionalProperties"])
    if found:
        return found
    types = admitted_types(node, root)
    if types is not None and not types & {"object", "array"}:
        return None  # nothing lies below a string, a number or a boolean
    top = [node] + _flat(_ref(node, root), root) if isinstance(node, Mapping) else []
    if any(
        isinstance(p, Mapping) and p.get("additionalProperties") is False and isinstance(p.get("properties"), Mapping)
        for p in top
    ) and not isinstance(key, int):
        return None
    return []


def schemas_at(schema: Mapping[str, Any], path: Iterable[str | int]) -> list[Any] | None:
    """The schemas describing the value at ``path`` (see :func:`child_schemas`)."""
    nodes: list[Any] = [schema]
    for key in path:
        below: list[Any] = []
        for node in nodes:
            found = child_schemas(node, key, schema)
            if found is None:
                continue
            if not found:
                return []  # something along the way admits anything
            below += found
        if not below:
            return None
        nodes = below
    return nodes


def admitted_types(node: Any, root: Mapping[str, Any], depth: int = 0) -> frozenset[str] | None:
    """The JSON types a value may have under ``node``; None when the schema does not say."""
    if node is False:
        return frozenset()
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return None
    result: frozenset[str] | None = None

    def narrow(types: frozenset[str] | None) -> None:
        nonlocal result
        if types is not None:
            result = types if result is None else result & types

    declared = node.get("type")
    if isinstance(declared, str):
        narrow(_widened([declared]))
    elif isinstance(declared, list):
        narrow(_widened(t for t in declared if isinstance(t, str)))
    if "const" in node:
        narrow(_widened([json_type(node["const"])]))
    elif isinstance(node.get("enum"), list):
        narrow(_widened(json_type(v) for v in node["enum"]))
    if "$ref" in node:
        narrow(admitted_types(_ref(node, root), root, depth + 1))
    for part in node.get("allOf") or ():
        narrow(admitted_types(part, root, depth + 1))
    for key in ("anyOf", "oneOf"):
        alternatives = [admitted_types(part, root, depth + 1) for part in node.get(key) or ()]
        if alternatives and all(a is not None for a in alternatives):
            narrow(frozenset().union(*[a for a in alternatives if a is not None]))
    return result


def types_at(schema: Mapping[str, Any], path: Iterable[str | int]) -> frozenset[str] | None:
    """The JSON types the value at ``path`` may have; None when the schema does not say."""
    nodes = schemas_at(schema, path)
    if not nodes:
        return None
    union: set[str] = set()
    for node in nodes:  # alternatives: a value fitting any one of them may be valid
        types = admitted_types(node, schema)
        if types is None:
            return None
        union |= types
    return frozenset(union)


def fits(produced: Iterable[str], admitted: frozenset[str]) -> bool:
    """True when a value of one of the ``produced`` types may be valid where ``admitted``."""
    return bool(_widened(produced) & admitted)


_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object (a mapping)",
    "null": "null",
}


def describe(types: Iterable[str]) -> str:
    """Types in a user's words: "an integer", "a string or a list"."""
    names = sorted(set(types), key=JSON_TYPES.index)
    if "number" in names and "integer" in names:
        names.remove("integer")
    words = [_WORDS.get(t, t) for t in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
