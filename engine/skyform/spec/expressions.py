"""The expression language: ``${{ root.path.to[0].value }}``, nothing more.

Roots are ``resources`` (``resources.<id>.outputs.<name>...``), ``var``, ``secrets`` and
``mission``. There are no operators, calls or templates that run code: an expression is a
dotted path. A value that is exactly one expression keeps the type of what it points at;
expressions inside a longer string are interpolated as text. What cannot be known before
apply resolves to :class:`~skyform.spec.values.Unknown`; what comes from ``secrets`` to
:class:`~skyform.spec.values.Secret`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .values import Secret, Unknown

ROOTS = ("resources", "var", "secrets", "mission")
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
_ROOT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class ExpressionError(ValueError):
    """An expression that does not parse or points nowhere; ``hint`` may suggest a fix."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Reference:
    """A parsed expression: its root and the path below it."""

    text: str
    root: str
    path: tuple[str | int, ...]

    @property
    def resource(self) -> str | None:
        """The resource id for ``resources.<id>...`` references."""
        return str(self.path[0]) if self.root == "resources" and self.path else None

    def __str__(self) -> str:
        return "${{ " + self.text + " }}"


def parse(text: str) -> Reference:
    """Parse the inside of ``${{ … }}``."""
    body = text.strip()
    m = _ROOT.match(body)
    if not m:
        raise ExpressionError(f"expression {text.strip()!r} must start with one of: {', '.join(ROOTS)}")
    root = m.group(0)
    if root not in ROOTS:
        from ..suggest import did_you_mean

        raise ExpressionError(
            f"unknown root {root!r} in expression {body!r}; roots are {', '.join(ROOTS)}",
            hint=did_you_mean(root, ROOTS),
        )
    path: list[str | int] = []
    pos = m.end()
    while pos < len(body):
        seg = _SEGMENT.match(body, pos)
        if not seg:
            raise ExpressionError(
                f"expression {body!r} is not a dotted path (at {body[pos:]!r}); "
                "expressions hold only paths like resources.<id>.outputs.<name>, var.<name>, "
                "secrets.<NAME>, mission.name"
            )
        path.append(seg.group(1) if seg.group(1) is not None else int(seg.group(2)))
        pos = seg.end()
    if root == "resources":
        if len(path) < 3 or path[1] != "outputs":
            raise ExpressionError(
                f"expression {body!r}: resource references read outputs: resources.<id>.outputs.<name>"
            )
    elif not path:
        raise ExpressionError(f"expression {body!r} names only the root {root!r}; add a name after it")
    return Reference(body, root, tuple(path))


def spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inside) of every ``${{ ... }}`` in ``text``, in one linear scan.

    (A lazy regex rescans to the end of the text from every unclosed ``${{``: quadratic.)
    """
    out: list[tuple[int, int, str]] = []
    pos = 0
    while True:
        start = text.find("${{", pos)
        if start < 0:
            return out
        end = text.find("}}", start + 3)
        if end < 0:
            raise ExpressionError(f"unclosed expression: {text[start : start + 40]!r} has no closing }}}}")
        out.append((start, end + 2, text[start + 3 : end]))
        pos = end + 2


def find(text: str) -> list[Reference]:
    """Every expression in a string (parse errors raise ExpressionError)."""
    return [parse(inner) for _, _, inner in spans(text)] if "${{" in text else []


def walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, string) for every string inside ``value`` that holds an expression."""
    if isinstance(value, str):
        if "${{" in value:
            yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, path + (i,))


Lookup = Callable[[Reference], Any]


def resolve(value: Any, lookup: Lookup) -> Any:
    """A copy of ``value`` with every expression replaced through ``lookup``."""
    if isinstance(value, str):
        return _resolve_string(value, lookup) if "${{" in value else value
    if isinstance(value, dict):
        return {k: resolve(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, lookup) for v in value]
    return value


def _resolve_string(text: str, lookup: Lookup) -> Any:
    matches = spans(text)
    if len(matches) == 1 and matches[0][:2] == (0, len(text)):
        return lookup(parse(matches[0][2]))
    parts: list[str] = []
    secret = False
    unknown = False
    last = 0
    for start, end, inner in matches:
        parts.append(text[last:start])
        value = lookup(parse(inner))
        if isinstance(value, Unknown):
            unknown = True
        elif isinstance(value, Secret):
            secret = True
            parts.append(str(value))
        elif isinstance(value, str):
            parts.append(value)
        else:
            parts.append(json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else str(value))
        last = end
    parts.append(text[last:])
    if unknown:
        return Unknown(text)
    joined = "".join(parts)
    return Secret(joined) if secret else joined


def dig(value: Any, path: tuple[str | int, ...], text: str) -> Any:
    """Follow ``path`` into ``value``; a missing step is an ExpressionError."""
    for i, step in enumerate(path):
        if isinstance(value, Unknown):
            return value
        if isinstance(value, dict) and step in value:  # noqa: SIM114 - two arms: mypy narrows step to int for a list
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            from ..suggest import did_you_mean

            where = ".".join(str(p) for p in path[:i]) or "(root)"
            options = list(value) if isinstance(value, dict) else []
            raise ExpressionError(
                f"{text}: {step!r} not found under {where}", hint=did_you_mean(str(step), [str(o) for o in options])
            )
    return value
