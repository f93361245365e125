"""NodeODM 2.2.4's ``odmInfo.getOptions``: ODM's argparse dump turned into ``GET /options``.

NodeODM does not publish ODM's options as they are. It drops the ones "not useful to the end
user" (:data:`NOT_PUBLISHED`), takes the type from argparse's ``type`` (only ``int`` and
``float`` count; a ``True``/``False`` default makes a ``bool``), the domain from the
``metavar`` without its angle brackets, or the ``choices`` list (the default put first when
it is not a choice), and prints every default with JavaScript's ``String()``: ODM's float
default ``18.0`` comes out as ``"18"``. This module is that function, line for line, so the
simulator serves exactly what a NodeODM 2.2.4 in front of the same ODM would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .jsvalues import parse_float, parse_int, string

# libs/odmInfo.js, getOptions: "Not all options are useful to the end user"
NOT_PUBLISHED = frozenset(
    [
        "-h",
        "--project-path",
        "--cmvs-maxImages",
        "--time",
        "--zip-results",
        "--pmvs-num-cores",
        "--start-with",
        "--gcp",
        "--images",
        "--geo",
        "--align",
        "--split-image-groups",
        "--copy-to",
        "--rerun-all",
        "--rerun",
        "--slam-config",
        "--video",
        "--version",
        "name",
    ]
)

INT_TYPES = ("<type 'int'>", "<class 'int'>")
FLOAT_TYPES = ("<type 'float'>", "<class 'float'>")


def _domain(metavar: str | None) -> str:
    if metavar is None:
        return ""
    return re.sub(r"[<>]$", "", re.sub(r"^[<>]", "", metavar)).strip()


def _choices(raw: str | None) -> Any:
    if not raw:
        return raw
    try:
        return json.loads(raw.replace("'", '"'))
    except ValueError:
        return raw  # NodeODM logs "Cannot parse choices" and keeps the string


def option(flag: str, values: Mapping[str, str]) -> dict[str, Any]:
    """One published option ``{name, type, value, domain, help}`` from its argparse record."""
    default = values.get("default")
    kind = (values.get("type") or "").strip()
    value: Any
    if kind in INT_TYPES:
        type_, value = "int", parse_int(default) if default is not None else 0.0
    elif kind in FLOAT_TYPES:
        type_, value = "float", parse_float(default) if default is not None else 0.0
    else:
        type_, value = "string", default.strip() if default is not None else ""
    if default == "True":
        type_, value = "bool", True
    elif default == "False":
        type_, value = "bool", False
    text = string(value)
    domain: Any = _domain(values.get("metavar"))
    choices = _choices(values.get("choices"))
    if isinstance(choices, list):
        type_, domain = "enum", list(choices)
        if text not in domain:
            domain.insert(0, text)
    return {
        "name": flag[2:] if flag.startswith("--") else flag,
        "type": type_,
        "value": text,
        "domain": domain,
        "help": values.get("help") or "",
    }


def published_options(dump: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """``GET /options`` for an ``odmOptionsToJson.py`` dump, in the dump's order."""
    return [option(flag, values) for flag, values in dump.items() if flag not in NOT_PUBLISHED]
