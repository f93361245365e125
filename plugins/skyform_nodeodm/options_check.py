"""Plan-time checks of a task's ``options`` against the node's own ``GET /options``.

NodeODM drops unknown option names without a word and converts values loosely
(``parseInt("2.5")`` is 2); skyform refuses both at plan time instead: every name must be
in the node's list (with a "did you mean"), every value must have the option's type
(bool, int, float, enum, string) and sit inside its domain, using the domain grammar NodeODM
itself understands ("positive integer", "integer: 1 <= x <= 14", "float > 0.0", "percent",
"json", or the list of an enum's choices).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from skyform.errors import Issue
from skyform.spec.values import is_known

BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False}


def check_options(options: Mapping[str, Any], catalog: list[dict[str, Any]]) -> Iterable[Issue]:
    """One Issue per unknown name or bad value, at ``("options", name)``."""
    by_name = {o["name"]: o for o in catalog}
    for name, value in options.items():
        path = ("options", name)
        option = by_name.get(name)
        if option is None:
            close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "the node's GET /options lists the valid names"
            yield Issue(path, f"unknown NodeODM option '{name}' (the node would silently ignore it)", hint=hint)
            continue
        if not is_known(value):
            continue
        problem = value_problem(option, value)
        if problem is not None:
            yield Issue(path, f"option '{name}': {problem[0]}", hint=problem[1])


def value_problem(option: Mapping[str, Any], value: Any) -> tuple[str, str | None] | None:
    """(message, hint) when ``value`` does not fit the option's type and domain, else None."""
    kind, domain = option.get("type"), option.get("domain")
    if kind == "bool":
        if isinstance(value, bool) or (isinstance(value, str) and value in BOOL_TEXT):
            return None
        return f"expects a boolean (true or false), got {value!r}", None
    if kind == "enum" or isinstance(domain, list):
        choices = [str(c) for c in domain or []]
        if isinstance(value, str) and value in choices:
            return None
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        near = [c for c in choices if c.lower() == str(value).lower()] or close
        hint = f"did you mean '{near[0]}'?" if near else None
        return f"{value!r} is not one of: {', '.join(choices)}", hint
    if kind == "int":
        number = _number(value, integer=True)
        if number is None:
            return f"expects an integer, got {value!r}", None
        return _domain_problem(domain, number)
    if kind == "float":
        number = _number(value, integer=False)
        if number is None:
            return f"expects a number, got {value!r}", None
        return _domain_problem(domain, number)
    if domain == "json":
        if isinstance(value, (dict, list)):
            return None
        try:
            json.loads(value if isinstance(value, str) else "")
        except ValueError:
            return f"expects JSON (an object, a list, or a string holding JSON), got {value!r}", None
        return None
    if not isinstance(value, str):
        return f"expects a string, got {value!r}", None
    return None


def _number(value: Any, *, integer: bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        pattern = r"[+-]?\d+" if integer else r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
        if not re.fullmatch(pattern, text):
            return None
        value = float(text)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if integer and not float(value).is_integer():
        return None
    return float(value)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _domain_problem(domain: Any, x: float) -> tuple[str, str | None] | None:
    """NodeODM's domain grammar, applied strictly."""
    if not isinstance(domain, str) or domain in ("", "integer", "float", "string", "path"):
        return None
    m = re.fullmatch(r"(positive|negative) (integer|float)", domain)
    if m:
        ok = x >= 0 if m.group(1) == "positive" else x <= 0
        word = "zero or more" if m.group(1) == "positive" else "zero or less"
        return None if ok else (f"{_fmt(x)} is out of range: must be {word} ({domain})", None)
    if domain == "percent":
        return None if 0 <= x <= 100 else (f"{_fmt(x)} is out of range: must be between 0 and 100 (percent)", None)
    m = re.fullmatch(r"(float|integer): ([\-+.\d]+) <= x <= ([\-+.\d]+)", domain)
    if m:
        low, high = float(m.group(2)), float(m.group(3))
        if low <= x <= high:
            return None
        return f"{_fmt(x)} is out of range: must be between {_fmt(low)} and {_fmt(high)}", None
    m = re.fullmatch(r"(float|integer) (>=|>|<|<=) ([\-+.\d]+)", domain)
    if m:
        bound = float(m.group(3))
        ok = {">=": x >= bound, ">": x > bound, "<=": x <= bound, "<": x < bound}[m.group(2)]
        return None if ok else (f"{_fmt(x)} is out of range: must be {m.group(2)} {_fmt(bound)}", None)
    return None  # a domain this version does not know: let the node judge
