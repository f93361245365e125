"""JavaScript's value conversions, as NodeODM (a Node.js program) applies them.

NodeODM converts option defaults and submitted values with ``parseInt``, ``parseFloat`` and
``String()``; their quirks (``parseInt("12abc")`` is 12, ``String(18.0)`` is ``"18"``,
``String(1e-7)`` is ``"1e-7"``) are what clients see, so the simulator reproduces them.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

NAN = float("nan")


def number_string(value: float) -> str:
    """ECMAScript ``Number::toString`` (radix 10): the shortest digits, JS exponent rules."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()[1:]
    digits = "".join(map(str, digits_tuple))
    k, n = len(digits), int(exponent) + len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def string(value: Any) -> str:
    """ECMAScript ``String(value)`` for the JSON values a request can carry."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return number_string(float(value))
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if v is None else string(v) for v in value)
    return str(value)


def parse_int(value: Any) -> float:
    """JavaScript ``Number.parseInt``: leading integer digits, else NaN."""
    m = re.match(r"^\s*([+-]?\d+)", string(value))
    return float(int(m.group(1))) if m else NAN


def parse_float(value: Any) -> float:
    """JavaScript ``Number.parseFloat``: the longest leading decimal literal, else NaN."""
    text = string(value).strip()
    if text.startswith(("Infinity", "+Infinity")):
        return math.inf
    if text.startswith("-Infinity"):
        return -math.inf
    m = re.match(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text)
    return float(m.group(0)) if m else NAN
