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


def is_sealed(value: Any) -> bool:
    """True when ``value`` is a stored secret: its digest marker."""
    return isinstance(value, dict) and len(value) == 1 and SECRET_MARK in value


def sensitive(value: Any, like: Any = None) -> Any:
    """``value`` (read from a service) with every string that is secret-derived made a Secret.

    A string is secret-derived when it holds a secret known to this process, or when it
    stands where ``like`` - the same place as last recorded, in stored form - holds a secret
    digest. The second rule is what keeps a value sensitive across a rotation: the service
    still answers with a value made from the *old* secret, which this process no longer
    knows, and it must neither be shown nor stored in clear. Such a string is registered for
    redaction when its digest matches the recorded one (it is surely the old secret-derived
    value, so no message may print it either).
    """
    from .. import redact

    secrets = redact.known_secrets()

    def walk(v: Any, was: Any) -> Any:
        if isinstance(v, (Secret, Unknown)):
            return v
        if isinstance(v, str):
            if is_sealed(was):
                if Secret(v).digest == was[SECRET_MARK]:
                    redact.register(v)
                return Secret(v)
            return Secret(v) if any(s in v for s in secrets) else v
        if isinstance(v, dict):
            return {k: walk(x, was.get(k) if isinstance(was, dict) else None) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x, was[i] if isinstance(was, list) and i < len(was) else None) for i, x in enumerate(v)]
        if v is not None and is_sealed(was):
            return Secret(str(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        return v

    return walk(value, like)


def sealed(value: Any, like: Any = None) -> Any:
    """Storable data in which every secret-derived string became a secret digest.

    Services echo values back (a webhook URL with a token, a key in a description, a name
    made from a secret): what the engine stores from outputs and observed values must not
    carry them in clear. ``like`` is the same data as last recorded (see :func:`sensitive`).

    The common case of a re-plan - the service answers what was recorded, and this process
    knows no secret - returns ``like`` itself: when ``value == like`` holds plain data only
    (no Secret, no Unknown), the two walks below would rebuild exactly ``like`` (a digest
    marker in ``like`` stands where ``value`` has the same marker, which stays as it is). It
    was a third of a 10,000-resource re-plan (issue 16).
    """
    if like is not None and value == like and _plain(value):
        from .. import redact

        if not redact.has_secrets():
            return like
    return to_storable(sensitive(value, like))


def _plain(value: Any) -> bool:
    """True when ``value`` is JSON-shaped data holding no Secret, Unknown or tuple anywhere."""
    cls = value.__class__
    if cls is dict:
        return all(_plain(v) for v in value.values())
    if cls is list:
        return all(_plain(v) for v in value)
    return cls in _PLAIN_SCALARS


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})
