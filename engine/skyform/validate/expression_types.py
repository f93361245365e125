"""Expression types: a ``${{ }}`` whose value can never fit the field it fills.

Before apply, most references are Unknown (an output exists only once its resource is
made), so the JSON Schema check skips them and the mistake would surface hours later,
when the value is resolved before the request. Their *type* is known already: an output's
type is declared in its kind's outputs schema, a secret is a string, and an expression
inside a longer string makes a string. This compares that type with the types the field's
schema admits and reports certain mismatches only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import Diagnostic
from ..spec.expressions import ExpressionError, find, spans, walk
from ..spec.values import Unknown
from ..spec.yamlsource import locate
from .schema_paths import describe, fits, types_at


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        if (isinstance(value, dict) and step in value) or (
            isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
        ):
            value = value[step]
        else:
            return None
    return value


def _produced(text: str, mission: Any, registry: Any) -> tuple[frozenset[str], str] | None:
    """(the JSON types ``text`` resolves to, where that type comes from), or None if unsure."""
    found = spans(text)
    if not (len(found) == 1 and found[0][:2] == (0, len(text))):
        return frozenset({"string"}), "text with an expression inside"
    (ref,) = find(text)
    if ref.root == "secrets":
        return frozenset({"string"}), "a secret"
    if ref.root != "resources" or registry is None:
        return None  # var and mission values are known at validate time: the schema checks them
    resource = mission.resources.get(ref.resource)
    kind = registry.resolve_type(resource.type) if resource is not None else None
    if kind is None:
        return None
    outputs_schema = kind[1].outputs_schema
    types = types_at(outputs_schema, ref.path[2:])
    if not types:
        return None
    name = ".".join(str(p) for p in ref.path[2:])
    return types, f"output {name} of {resource.type}"


def expression_type_diagnostics(
    raw: Any,
    resolved: Any,
    schema: Mapping[str, Any],
    mission: Any,
    registry: Any,
    base: tuple[Any, ...],
    type_name: str,
) -> Iterable[Diagnostic]:
    """A diagnostic for each expression in ``raw`` (a resource spec) that is still Unknown in
    ``resolved`` and whose type the field at its path cannot take."""
    for path, text in walk(raw):
        if not isinstance(_at(resolved, path), Unknown):
            continue  # resolved already: the JSON Schema check has seen the real value
        try:
            produced = _produced(text, mission, registry)
        except ExpressionError:
            continue  # reported by the reference check
        admitted = types_at(schema, path)
        if produced is None or admitted is None or fits(produced[0], admitted):
            continue
        types, origin = produced
        field = str(path[-1]) if path and not isinstance(path[-1], int) else ".".join(map(str, path))
        full = base + path
        yield Diagnostic(
            ".".join(map(str, full)),
            f"{text.strip()} is {describe(types)} ({origin}), but {field} must be {describe(admitted)}",
            locate(mission.document, full),
            type_name,
        )
