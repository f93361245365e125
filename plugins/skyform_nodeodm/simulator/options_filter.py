"""NodeODM's server-side option handling (``odmInfo.filterOptions``), JavaScript quirks included.

Unknown names are dropped silently, values are converted with the JS functions NodeODM uses
(``parseInt("12abc")`` is 12, ``parseInt("x")`` is NaN), domain violations are collected
into a list of ``{name, error}`` that the node returns JSON-encoded inside ``error``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .jsvalues import parse_float, parse_int, string


class InvalidOptions(Exception):
    """The options failed NodeODM's checks; ``str()`` is the body's ``error`` string."""


def parse_bool(value: Any) -> bool:
    """NodeODM's ``typeConversion.bool``: the strings true/1/false/0 or a JSON boolean."""
    if value in ("true", "1") and isinstance(value, str):
        return True
    if value in ("false", "0") and isinstance(value, str):
        return False
    if isinstance(value, bool):
        return value
    raise ValueError(f"Cannot convert {string(value)} to boolean")


CONVERT = {"float": parse_float, "int": parse_int, "bool": parse_bool}


def check_domain(domain: Any, value: Any) -> None:
    """Raise ValueError with NodeODM's message when ``value`` is outside ``domain``."""
    if isinstance(domain, list):
        if value not in domain:
            raise ValueError(f"Invalid value {string(value)} (not in enum)")
        return
    out_of_range = ValueError(f"Invalid value {string(value)} (out of range)")
    m = re.match(r"^(positive |negative )?(integer|float)$", domain)
    if m:
        if m.group(1) == "positive ":
            ok = value >= 0
        elif m.group(1) == "negative ":
            ok = value <= 0
        elif m.group(2) == "integer":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()
        else:
            ok = isinstance(value, (int, float)) and math.isfinite(value)
        if not ok:
            raise out_of_range
        return
    if domain == "percent":
        if not 0 <= value <= 100:
            raise out_of_range
        return
    m = re.match(r"^(float|integer): ([\-+.\d]+) <= x <= ([\-+.\d]+)$", domain)
    if m:
        parse = parse_float if m.group(1) == "float" else parse_int
        if not parse(m.group(2)) <= value <= parse(m.group(3)):
            raise out_of_range
        return
    m = re.match(r"^(float|integer) (>=|>|<|<=) ([\-+.\d]+)$", domain)
    if m:
        bound = (parse_float if m.group(1) == "float" else parse_int)(m.group(3))
        ok = {">=": value >= bound, ">": value > bound, "<=": value <= bound, "<": value < bound}[m.group(2)]
        if not ok:
            raise out_of_range
        return
    if domain == "json":
        try:
            if not isinstance(value, str):
                raise ValueError
            json.loads(value)
        except ValueError:
            raise out_of_range from None
        return
    if domain in ("string", "path"):
        return
    raise ValueError(f"Domain value cannot be handled: '{domain}' : '{string(value)}'")


def filter_options(raw: Any, catalog: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The accepted ``[{name, value}]`` list; raises InvalidOptions, or ValueError for bad JSON."""
    options = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(options, list):
        options = []  # an object instead of an array is silently treated as no options
    result, errors = [], []
    for known in catalog:
        given = next((o for o in options if isinstance(o, dict) and o.get("name") == known["name"]), None)
        if given is None:
            continue
        try:
            convert = CONVERT.get(known["type"])
            value = convert(given.get("value")) if convert else given.get("value")
            if known["domain"]:
                check_domain(known["domain"], value)
            if isinstance(value, float) and value.is_integer() and known["type"] == "int":
                value = int(value)
            result.append({"name": known["name"], "value": value})
        except ValueError as exc:
            errors.append({"name": given.get("name"), "error": str(exc)})
    if errors:
        raise InvalidOptions(json.dumps(errors, separators=(",", ":"), ensure_ascii=False))  # JSON.stringify
    return result
