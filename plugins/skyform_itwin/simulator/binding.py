"""How the service binds JSON to its typed model: numbers and booleans may come as strings.

The ContextCapture API is an ASP.NET service, and its JSON binder converts a string that
holds a number into a number field, and "True"/"false" into a boolean field. Bentley's own
SDK (reality_apis 1.4.0) relies on it: ``get_job_estimated_cost`` sends ``gigaPixels`` and
``megaPoints`` as ``str(float)`` ("2.5"), and ``CCJobSettings.to_json`` sends
``createCache`` as ``str(bool)`` ("True"). The simulator binds those fields the same way
before it checks a body against the documented schema, and stores (and answers) the typed
value, so a number given as text comes back as a number. Anything else keeps its documented
type: a string that is no number is still refused with the documented 422.
"""

from __future__ import annotations

import re
from typing import Any

NUMBER_TEXT = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
INTEGER_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")

#: (object path, field) -> the field's documented type
_NUMBERS = {("costEstimationParameters", "gigaPixels"), ("costEstimationParameters", "megaPoints")}
_INTEGERS = {("settings", "processingEngines")}
_BOOLEANS = {("settings", "cacheSettings", "createCache")}


def _bound(kind: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if kind == "number" and NUMBER_TEXT.match(value):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    if kind == "integer" and INTEGER_TEXT.match(value):
        return int(value)
    if kind == "boolean" and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def bind(body: Any) -> Any:
    """``body`` with the string-typed numbers and booleans converted (a new dict; others as given)."""
    if not isinstance(body, dict):
        return body
    out = dict(body)
    for paths, kind in ((_NUMBERS, "number"), (_INTEGERS, "integer"), (_BOOLEANS, "boolean")):
        for path in paths:
            parent = out
            for key in path[:-1]:
                child = parent.get(key)
                if not isinstance(child, dict):
                    break
                parent[key] = child = dict(child)
                parent = child
            else:
                if path[-1] in parent:
                    parent[path[-1]] = _bound(kind, parent[path[-1]])
    return out
