"""Secret redaction: every secret value known to the process is replaced before printing.

Secrets are registered as soon as they are resolved (``secrets.*`` expressions, provider
settings named secret, tokens fetched from OAuth servers); every line skyform writes
(output, JSON events, logs, error messages, state) passes through :func:`redact`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(value: object) -> None:
    """Remember a secret value so that it is masked wherever it would be printed."""
    global _pattern
    if not isinstance(value, str) or len(value) < 4:
        return  # too short to mask without destroying ordinary text
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def redact_data(value: object) -> object:
    """A copy of JSON-like data with secrets masked in every string."""
    if _pattern is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value


def has_secrets() -> bool:
    """True once any secret is registered (a lock-free test for the hot paths)."""
    return _pattern is not None


@contextmanager
def isolated() -> Iterator[None]:
    """Within the block, no secret is known yet, as in a new process; the registry is restored after.

    For running the CLI in-process several times (``skyform.testing.run_cli``): each run must
    mask and seal only what it resolved itself, or a leak of an earlier run's secret would be
    hidden by that earlier registration.
    """
    global _secrets, _pattern
    with _lock:
        saved = _secrets, _pattern
        _secrets, _pattern = set(), None
    try:
        yield
    finally:
        with _lock:
            _secrets, _pattern = saved


def known_secrets() -> frozenset[str]:
    """The registered secrets (for leak scanners in tests)."""
    with _lock:
        return frozenset(_secrets)


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is not None:
            record.msg = redact(record.getMessage())
            record.args = None
        return True
