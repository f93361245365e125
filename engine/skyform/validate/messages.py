"""Messages a person reads: a JSON Schema failure told in the words of the mission's author.

jsonschema's own texts are written for schema authors ("[] is not valid under any of the
given schemas", "'maybe' is not of type 'boolean'"). Here each failing keyword becomes a
sentence about the field, by its name, with what was given: "prevent_destroy must be true
or false, not the string 'maybe'". For ``anyOf``/``oneOf`` the message names the accepted
forms and the closest one, and says why that one failed. A provider's ``errorMessage`` on
a schema (its documented wording) always wins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..suggest import did_you_mean
from .schema_paths import describe

if TYPE_CHECKING:  # jsonschema is imported only once a spec is found invalid (start-up time)
    from jsonschema.exceptions import ValidationError


def field_name(path: Sequence[Any]) -> str:
    """The field a path ends at, as a user names it: ``retries``, ``item 2 of images``."""
    if not path:
        return "the mission"
    last = path[-1]
    if isinstance(last, int):
        return f"item {last} of {field_name(path[:-1])}" if len(path) > 1 else f"item {last}"
    return "the spec" if last == "spec" and len(path) == 3 and path[0] == "resources" else str(last)


def given(value: Any) -> str:
    """A value as it was given, with its kind: ``the string 'maybe'``, ``a list ([])``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return f"the number {value:g}" if isinstance(value, float) else f"the number {value}"
    if isinstance(value, str):
        return f"the string {_short(value)!r}"
    text = json.dumps(value, default=str)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"a list ({text})" if isinstance(value, list) else f"an object ({text})"


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _form(schema: Any, index: int) -> str:
    """One alternative of an anyOf/oneOf, described by what it asks for."""
    if isinstance(schema, Mapping):
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            return describe(t for t in types if isinstance(t, str))
        if "const" in schema:
            return repr(schema["const"])
        if isinstance(schema.get("required"), list) and schema["required"]:
            return "with " + " and ".join(str(k) for k in schema["required"])
        if isinstance(schema.get("description"), str):
            return schema["description"]
    return f"form {index + 1}"


def _closest(error: ValidationError) -> tuple[int, ValidationError] | None:
    """The alternative that came nearest (fewest failures, then jsonschema's relevance) and
    its most relevant failure."""
    from jsonschema.exceptions import relevance

    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        if sub.schema_path:
            branch = sub.schema_path[0]
            if isinstance(branch, int):
                by_branch.setdefault(branch, []).append(sub)
    if not by_branch:
        return None

    def distance(i: int) -> tuple[int, int, int]:  # a branch whose type fits is nearer than one whose type does not
        errors = by_branch[i]
        return (len(errors), sum(e.validator == "type" for e in errors), -len(max(errors, key=relevance).path))

    index = min(by_branch, key=distance)
    return index, max(by_branch[index], key=relevance)


def explain(error: ValidationError, path: Sequence[Any]) -> tuple[str, str | None]:
    """(message, hint) for one failing keyword at ``path`` (the instance's full path)."""
    schema: Any = error.schema
    custom = schema.get("errorMessage") if isinstance(schema, Mapping) else None
    if isinstance(custom, str):  # a provider's documented wording for this field
        return custom, None
    field, value, rule = field_name(path), error.instance, error.validator
    expected: Any = error.validator_value
    if rule == "required" and isinstance(value, Mapping):
        missing = [k for k in expected if k not in value] or list(expected)
        quoted = [repr(k) for k in missing]
        names = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
        return (
            f"the required field {names} is missing"
            if len(missing) == 1
            else f"the required fields {names} are missing"
        ), None
    if rule == "type":
        types = expected if isinstance(expected, list) else [expected]
        return f"{field} must be {describe(types)}, not {given(value)}", None
    if rule == "enum":
        options = ", ".join(repr(v) for v in expected)
        return (
            f"{field} must be one of {options}, not {_short(repr(value))}",
            did_you_mean(str(value), [str(v) for v in expected]) if isinstance(value, str) else None,
        )
    if rule == "const":
        return f"{field} must be {expected!r}, not {_short(repr(value))}", None
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
    }
    if rule in bounds:
        return f"{field} must be {bounds[rule]} {_number(expected)}, not {_number(value)}", None
    if rule == "multipleOf":
        return f"{field} must be a multiple of {_number(expected)}, not {_number(value)}", None
    if rule in ("minLength", "maxLength") and isinstance(value, str):
        if rule == "minLength" and expected == 1:
            return f"{field} must not be empty", None
        word = "at least" if rule == "minLength" else "at most"
        return f"{field} must be {word} {expected} character{'s' if expected != 1 else ''} long, not {len(value)}", None
    if rule in ("minItems", "maxItems") and isinstance(value, list):
        if rule == "minItems" and expected == 1:
            return f"{field} must list at least one item", None
        word = "at least" if rule == "minItems" else "at most"
        return f"{field} must list {word} {expected} item{'s' if expected != 1 else ''}, not {len(value)}", None
    if rule in ("minProperties", "maxProperties") and isinstance(value, Mapping):
        word = "at least" if rule == "minProperties" else "at most"
        return f"{field} must hold {word} {expected} entr{'ies' if expected != 1 else 'y'}, not {len(value)}", None
    if rule == "uniqueItems" and isinstance(value, list):
        repeated = next((v for i, v in enumerate(value) if v in value[:i]), None)  # the first repeat
        return (
            f"{field} lists {_short(json.dumps(repeated, default=str))} more than once; each item must be unique",
            None,
        )
    if rule == "pattern":
        about = schema.get("description") if isinstance(schema, Mapping) else None
        if "propertyNames" in error.relative_schema_path:  # a key, not a value
            return (
                f"{_short(repr(value))} is not a valid name in {field}"
                + (f": {about}" if isinstance(about, str) else f" (names must match {expected})")
            ), None
        return (
            f"{_short(repr(value))} is not a valid {field}"
            + (f": {about}" if isinstance(about, str) else f" (it must match the pattern {expected})")
        ), None
    if rule == "propertyNames":
        return f"{_short(repr(value))} is not a valid name here", None
    if rule == "format":
        return f"{_short(repr(value))} is not a valid {expected} ({field})", None
    if rule == "dependentRequired" and isinstance(value, Mapping):
        for key, needs in expected.items():
            missing = [n for n in needs if key in value and n not in value]
            if missing:
                return f"{key} needs {' and '.join(missing)} as well", None
    if rule == "not" and isinstance(expected, Mapping) and isinstance(expected.get("required"), list):
        keys = [k for k in expected["required"] if isinstance(value, Mapping) and k in value]
        return f"{' and '.join(keys) or 'this field'} must not be given here", None
    if rule in ("anyOf", "oneOf") and isinstance(expected, list):
        return _alternatives(error, path, field, expected), None
    return error.message, None


def _either(words: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _alternatives(error: ValidationError, path: Sequence[Any], field: str, forms: list[Any]) -> str:
    described = [_form(f, i) for i, f in enumerate(forms)]
    if all(isinstance(f, Mapping) and set(f) <= {"required", "not"} and f.get("required") for f in forms):
        keys = [" and ".join(map(str, f["required"])) for f in forms]
        given_all = [
            k
            for f, k in zip(forms, keys, strict=True)
            if isinstance(error.instance, Mapping) and all(r in error.instance for r in f["required"])
        ]
        if len(given_all) > 1 or (given_all and error.validator == "oneOf"):
            return f"{field} gives {' and '.join(given_all)}; give only one of them"
        return f"{field} needs {_either(keys)}"
    if error.validator == "oneOf" and not error.context:  # valid under several
        return (
            f"{field} fits more than one of its {len(forms)} accepted forms ({_either(described)}); "
            "it must fit exactly one"
        )
    closest = _closest(error)
    head = f"{field} fits none of its {len(forms)} accepted forms ({_either(described)})"
    if closest is None:
        return head
    index, why = closest
    inner, _ = explain(why, list(path) + list(why.relative_path))
    return f"{head}; the closest, {described[index]}, fails: {inner}"
