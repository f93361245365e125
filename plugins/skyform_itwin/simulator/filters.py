"""The OData ``$filter`` subset the jobs list documents, parsed into a predicate.

Documented (jobs-get-all): properties id, iTwinId, name, email, type, state,
createdDateTime, inputId, outputId; operators eq lt le gt ge ne in, joined by and / or,
with parentheses. Strings are single-quoted ('' escapes a quote); dates may be quoted or
bare ISO 8601. Anything else is refused, as the service does, with a 422.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

PROPERTIES = ("id", "iTwinId", "name", "email", "type", "state", "createdDateTime", "inputId", "outputId")
COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|([(),])|([^\s(),']+))")

Job = dict[str, Any]
Predicate = Callable[[Job], bool]


class FilterError(ValueError):
    """The $filter text is not one the service accepts."""


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"unexpected character at position {pos}")
        out.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _literal(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    try:
        return float(token)
    except ValueError:
        return token  # bare dates and the like


def _as_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _values(job: Job, prop: str) -> list[Any]:
    if prop == "inputId":
        return [i.get("id") for i in job.get("inputs", [])]
    if prop == "outputId":
        return [o.get("id") for o in job.get("jobSettings", {}).get("outputs", []) if o.get("id")]
    return [job.get(prop)]


def _compare(left: Any, op: str, right: Any, prop: str) -> bool:
    if prop == "createdDateTime":
        left, right = _as_time(left), _as_time(right)
        if left is None or right is None:
            return False
    elif isinstance(left, str) and isinstance(right, str):
        left, right = left.lower(), right.lower()  # OData string equality here is case-insensitive [I]
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    try:
        return bool(
            {
                "lt": lambda: left < right,
                "le": lambda: left <= right,
                "gt": lambda: left > right,
                "ge": lambda: left >= right,
            }[op]()
        )
    except TypeError:  # e.g. a number compared with a string
        return False


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise FilterError("unexpected end of $filter")
        self.pos += 1
        return token

    def expr(self) -> Predicate:
        parts = [self.conjunction()]
        while (self.peek() or "").lower() == "or":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda job: any(p(job) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.atom()]
        while (self.peek() or "").lower() == "and":
            self.take()
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda job: all(p(job) for p in parts))

    def atom(self) -> Predicate:
        token = self.take()
        if token == "(":
            inner = self.expr()
            if self.take() != ")":
                raise FilterError("missing ')'")
            return inner
        if token not in PROPERTIES:
            raise FilterError(f"property '{token}' cannot be filtered on; allowed: {', '.join(PROPERTIES)}")
        prop, op = token, self.take().lower()
        if op == "in":
            if self.take() != "(":
                raise FilterError("'in' expects a parenthesised list")
            choices = [_literal(self.take())]
            while self.peek() == ",":
                self.take()
                choices.append(_literal(self.take()))
            if self.take() != ")":
                raise FilterError("missing ')'")
            return lambda job: any(_compare(v, "eq", c, prop) for v in _values(job, prop) for c in choices)
        if op not in COMPARISONS:
            raise FilterError(f"unknown operator '{op}'; allowed: {', '.join(COMPARISONS)}, in")
        right = _literal(self.take())
        return lambda job: any(_compare(v, op, right, prop) for v in _values(job, prop))


def parse(text: str) -> Predicate:
    """A predicate over stored jobs for ``$filter`` text; raises FilterError when invalid."""
    parser = _Parser(_tokens(text))
    predicate = parser.expr()
    if parser.peek() is not None:
        raise FilterError(f"unexpected '{parser.peek()}'")
    return predicate
