"""What an operation sees besides the spec and the record: its context and its reporter.

Split from :mod:`skyform.providers.base` (which re-exports both) because it is one idea of
its own: the engine builds an :class:`OperationContext` per call - the connected client, the
paths, the idempotency key, the artifact store, the published inputs - and a
:class:`Reporter` that routes progress, phases and log lines to output and the live log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..artifacts.store import ArtifactStore


class Reporter:
    """Where an operation reports progress and warnings; the engine routes them to output."""

    def progress(self, fraction: float | None, message: str = "") -> None:  # pragma: no cover
        """Report progress of a long call (uploads, downloads): fraction 0..1 and a text."""

    def warn(self, message: str) -> None:  # pragma: no cover
        """Show a warning for this resource (also recorded as an event)."""

    def phase(self, name: str) -> None:  # pragma: no cover
        """Say what the running call now spends its time on (``uploading``, ``downloading``:
        :data:`skyform.events.PROVIDER_PHASES`); recorded in the history, so the run's
        timeline shows where the time went. The phase lasts until the next one or the
        resource's next status."""

    def log(self, level: str, message: str) -> None:  # pragma: no cover
        """A line of the provider's log for this resource (``ctx.log`` reaches here by
        itself); shown live beside the graph, never recorded in the state."""


@dataclass
class OperationContext:
    """Everything an operation may use besides the spec and the record.

    ``client`` is what ``Provider.connect`` returned for this run's settings. ``artifacts``
    is the mission's content-addressed store (``put(path|stream) -> Digest``, ``open``,
    ``fetch``, ``exists``): a kind that downloads a product puts it there and records
    ``str(digest)`` in its outputs, so any machine can fetch and verify the same bytes and
    ``skyform artifacts gc`` keeps them (docs/plugins.md, "Artifacts").
    """

    client: Any
    settings: Mapping[str, Any]
    provider: str
    address: str
    mission: str
    mission_dir: Path
    #: <mission>/.skyform/artifacts/<resource id>/; not created by the engine: an operation
    #: that writes there creates it first (mkdir(parents=True, exist_ok=True))
    artifacts_dir: Path
    idempotency_key: str
    intent_at: float
    lifecycle: Mapping[str, Any] = field(default_factory=dict)
    reporter: Reporter = field(default_factory=Reporter)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("skyform.provider"))
    #: None when built: the mission's own store under ``<mission>/.skyform/store``
    artifacts: ArtifactStore = field(default=None)  # type: ignore[assignment]
    #: path as recorded (relative to the mission directory, or absolute outside it) ->
    #: ``sha256:<hex>`` of the files the run's records published (a worker on another machine
    #: lacks the paths; :meth:`local_file` fetches them by digest instead)
    inputs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.artifacts is None:
            from ..artifacts.location import DEFAULT_DIR, local_store

            self.artifacts = local_store(self.mission_dir / ".skyform" / DEFAULT_DIR, shared=False)

    def path(self, relative: str | Path) -> Path:
        """A path from the spec, resolved against the mission directory."""
        p = Path(relative)
        return p if p.is_absolute() else self.mission_dir / p

    def local_file(self, relative: str | Path) -> Path:
        """A spec path as a file on this machine: the file itself when it is here, else the copy
        the artifact store holds under the digest recorded for it (fetched once, verified, into
        ``<mission>/.skyform/inputs/<hex>/<name>``, so the file name is kept). A path that is
        neither here nor published comes back as it is: the caller reports it missing."""
        path = self.path(relative)
        if path.is_file() or not self.inputs:
            return path
        digest = self.inputs.get(str(relative)) or self.inputs.get(str(path))
        if digest is None and path.is_relative_to(self.mission_dir):  # an absolute spelling of a recorded name
            digest = self.inputs.get(path.relative_to(self.mission_dir).as_posix())
        if digest is None:
            return path
        from ..artifacts.digest import Digest

        wanted = Digest.parse(digest)
        copy = self.mission_dir / ".skyform" / "inputs" / wanted.hex / path.name
        return copy if copy.is_file() else self.artifacts.fetch(wanted, copy)


@dataclass(frozen=True)
class CheckContext:
    """What an offline semantic check may use: today's date and the mission directory."""

    today: date
    mission_dir: Path
    address: str
