"""What a worker is sent to run one mission of a gitops run: a :class:`MissionOrder`.

JSON-safe and small: the repository as workers reach it, the commit, the mission's path
and how to run it. Never files (a worker exports the commit itself) and never secrets:
the state URL travels without its password (:func:`without_password`; a worker brings
its own with ``skyform worker --state``), secret names resolve on the worker.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from ..providers.base import DEFAULT_PARALLELISM


@dataclass(frozen=True)
class MissionOrder:
    """What a worker needs to run one mission of a gitops run (JSON-safe, no secrets)."""

    repository: str  # as the worker reaches it: a URL, or a path on a shared file system
    repository_id: str  # the identity recorded in state
    commit: str
    path: str
    apply: bool
    state_url: str  # without a password: the worker brings its own (``skyform worker --state``)
    refresh: bool = True
    refresh_only: bool = False
    parallelism: int = DEFAULT_PARALLELISM

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> MissionOrder:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def without_password(url: str) -> str:
    """``url`` with the password of its user removed (the user and host kept)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = (f"{parts.username}@" if parts.username else "") + (parts.hostname or "")
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


class MissionsElsewhere(Protocol):
    """Where a gitops run sends its missions instead of running them here (Celery workers).

    ``run`` blocks until the mission's report is back; ``interrupt`` (Ctrl-C, a runner's
    shutdown) makes waiting calls return at once, the missions going on where they run.
    """

    def run(self, order: MissionOrder) -> Any: ...

    def interrupt(self) -> None: ...
