"""Values that are not plain data: secrets (redacted, stored as digests) and unknowns.

A ``Secret`` is a ``str`` so providers use it like any string, but the engine recognises it
when writing state, plans and output. An ``Unknown`` stands for a value that exists only
after an earlier step has been applied ("known after apply").
"""

from __future__ import annotations

import hashlib
from typing import Any


class Secret(str):
    """A string that came from ``secrets.*``: never written anywhere, only its digest."""

    __slots__ = ()

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return "Secret(***)"


class Unknown:
    """A value known only after apply; ``expression`` is the text it will be resolved from."""

    __slots__ = ("expression",)

    def __init__(self, expression: str) -> None:
        self.expression = expression

    def __repr__(self) -> str:
        return f"Unknown({self.expression!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash(("Unknown", self.expression))


SECRET_MARK = "$secret"
UNKNOWN_MARK = "$unknown"


def is_known(value: Any) -> bool:
    """True when ``value`` holds no Unknown anywhere inside it."""
    if isinstance(value, Unknown):
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def to_storable(value: Any) -> Any:
    """Plain JSON for state and plan files: secrets become digests, unknowns markers."""
    if isinstance(value, Secret):
        return {SECRET_MARK: value.digest}
    if isinstance(value, Unknown):
        return {UNKNOWN_MARK: value.expression}
    if isinstance(value, dict):
        return {k: to_storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_storable(v) for v in value]
    return value


def from_storable(value: Any) -> Any:
    """Inverse of :func:`to_storable` for unknowns; secret digests stay digests."""
    if isinstance(value, dict):
        if len(value) == 1 and UNKNOWN_MARK in value:
            return Unknown(value[UNKNOWN_MARK])
        return {k: from_storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_storable(v) for v in value]
    return value


def sealed(value: Any) -> Any:
    """Storable data in which any string holding a known secret became a secret digest.

    Services echo values back (a webhook URL with a token, a key in a description): what
    the engine stores from outputs and observed values must not carry them in clear.
    """
    from ..redact import known_secrets

    secrets = known_secrets()
    if not secrets:
        return to_storable(value)

    def walk(v: Any) -> Any:
        if isinstance(v, str) and not isinstance(v, Secret) and any(s in v for s in secrets):
            return to_storable(Secret(v))
        if isinstance(v, dict) and not isinstance(v, Secret):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        return to_storable(v)

    return walk(value)
