"""Every error skyform raises, in one tree, each with the exit code the CLI ends with.

::

    SkyformError                      exit 1
    ├── UsageError                    exit 64   bad flags or arguments
    ├── SpecError                     exit 3    the mission is invalid (carries Diagnostics)
    ├── PluginError                   exit 4    a plugin failed to load or clashes with another
    ├── StateError                    exit 5    unreadable, corrupt or too-new state
    │   └── LockHeld                  exit 6    another run holds the mission's lock
    ├── PlanRefused                   exit 7    stale saved plan, prevent_destroy, no approval
    ├── RemoteError                   exit 1    a service answered badly
    │   ├── TransientError                      retried: connection, timeout, 429, 5xx
    │   │   └── RateLimited                     429, with the server's Retry-After
    │   └── PermanentError                      not retried: 4xx, a failed remote job
    │       ├── AuthError                       credentials refused; the message says what to do
    │       ├── NotFound                        the remote object is gone
    │       ├── BudgetExceeded                  a cost estimate above lifecycle.max_cost
    │       ├── AdoptError                      a crashed create cannot be matched safely
    │       └── OperationTimeLimit              a worker stopped it at the longest an operation may run
    ├── ArtifactError                 exit 1    the artifact store cannot give the bytes asked for
    │   ├── ArtifactMissing                     no object has that digest
    │   └── ArtifactCorrupt                     the stored bytes do not hash to their digest
    ├── BrokerError                   exit 1    the task broker (RabbitMQ, Redis) cannot be used
    │   └── WorkerTimeout                       no worker took or kept an operation (--worker-timeout)
    ├── ApplyFailed                   exit 1    some resources failed (details were reported)
    └── Interrupted                   exit 130  Ctrl-C; state was written, apply again resumes

Errors carry structured attributes (provider, status, retry_after, diagnostics...) so that
callers decide on types and fields, never on message text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """The documented exit codes of the ``skyform`` command (README, ``skyform --help``)."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # plan --detailed-exitcode: changes present
    INVALID_SPEC = 3
    PLUGIN = 4
    STATE = 5
    LOCKED = 6
    REFUSED = 7
    OVER_BUDGET = 8  # plan --detailed-exitcode: changes present, and an estimate is above its ceiling
    USAGE = 64
    INTERNAL = 70
    INTERRUPTED = 130


class SkyformError(Exception):
    """Base of every error skyform knows how to report without a traceback."""

    exit_code: int = ExitCode.ERROR
    hint: str | None = None

    def __init__(self, message: str = "", *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class UsageError(SkyformError):
    """The command line itself is wrong."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Location:
    """Where a value stands in a mission file (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a mission, pointing at its source.

    ``path`` is the dotted path from the mission root (``resources.flight.spec.latitude``);
    ``type`` is the resource type it concerns (``dronebundle.Job``) or ``mission``.
    """

    path: str
    message: str
    location: Location | None = None
    type: str | None = None
    hint: str | None = None
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        what = f" [{self.type}]" if self.type else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message}{what}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "message": self.message, "severity": self.severity}
        if self.location:
            out.update(file=self.location.file, line=self.location.line, column=self.location.column)
        if self.type:
            out["type"] = self.type
        if self.hint:
            out["hint"] = self.hint
        return out


class SpecError(SkyformError):
    """The mission is invalid; ``diagnostics`` holds every problem found, in source order."""

    exit_code = ExitCode.INVALID_SPEC

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic, message: str | None = None) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = diagnostics
        count = len([d for d in diagnostics if d.severity == "error"])
        super().__init__(message or f"{count} error{'s' if count != 1 else ''} in the mission")


class PluginError(SkyformError):
    """A plugin could not be loaded, or two plugins claim the same name."""

    exit_code = ExitCode.PLUGIN


class StateError(SkyformError):
    """The state store cannot be read or written safely; nothing was changed."""

    exit_code = ExitCode.STATE


class LockHeld(StateError):
    """Another run holds this mission's lock."""

    exit_code = ExitCode.LOCKED

    def __init__(self, message: str, *, holder: dict[str, Any] | None = None) -> None:
        super().__init__(message, hint="wait for it to finish, or run `skyform force-unlock` if it is gone")
        self.holder = holder or {}


class PlanRefused(SkyformError):
    """A plan may not be applied as it stands (stale, blocked by prevent_destroy, not approved)."""

    exit_code = ExitCode.REFUSED


class RemoteError(SkyformError):
    """A remote service refused or failed a request.

    ``remote_id`` is set when the failing operation had already created a remote object,
    so that the engine records it rather than losing it.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        body: Any = None,
        hint: str | None = None,
        remote_id: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        self.status = status
        self.body = body
        self.remote_id = remote_id
        self.field = field


class TransientError(RemoteError):
    """Worth retrying: connection failures, timeouts, 429 and 5xx answers."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The service asked us to slow down (HTTP 429); ``retry_after`` is its wish in seconds."""


class PermanentError(RemoteError):
    """Retrying cannot help: the request or the remote job is wrong."""


class AuthError(PermanentError):
    """Credentials were refused; the message says what to do about it."""


class NotFound(PermanentError):
    """The remote object does not exist (any more)."""


class BudgetExceeded(PermanentError):
    """A cost estimate is above the allowed budget; nothing was submitted."""


class AdoptError(PermanentError):
    """An interrupted create cannot be matched to a remote object without guessing.

    ``candidates`` lists the remote ids that matched (several: ambiguous; none known: the
    service offers no way to look).
    """

    def __init__(self, message: str, *, candidates: list[str] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.candidates = candidates or []


class ArtifactError(SkyformError):
    """The artifact store cannot give the bytes asked for; ``digest`` names the object."""

    def __init__(self, message: str, *, digest: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.digest = digest


class ArtifactMissing(ArtifactError):
    """No object in the store has the digest asked for."""


class ArtifactCorrupt(ArtifactError):
    """A stored object's bytes do not hash to its digest: it is never used, only reported."""


class BrokerError(SkyformError):
    """The Celery broker (``--broker`` / ``SKYFORM_BROKER``) is unreachable or refused us."""


class WorkerTimeout(BrokerError):
    """No worker took, or kept, an operation within the coordinator's ``--worker-timeout``:
    nobody consumes its queue, or the worker running it stopped without giving it back."""


class OperationTimeLimit(PermanentError):
    """A worker stopped an operation at the longest one may run (``SKYFORM_LONGEST_OPERATION``)."""


class ApplyFailed(SkyformError):
    """One or more resources failed; each failure was already reported in the output."""


class Interrupted(SkyformError):
    """The run was interrupted; in-flight work was recorded and `apply` again resumes."""

    exit_code = ExitCode.INTERRUPTED


@dataclass
class Issue:
    """A problem a provider's semantic or plan-time check found, relative to a resource spec.

    ``path`` is a tuple of keys and indexes inside ``spec`` (``("options", "dsm")``); the
    engine turns it into a Diagnostic with the file, line and column.
    """

    path: tuple[str | int, ...]
    message: str
    hint: str | None = None
    severity: str = "error"
    extra: dict[str, Any] = field(default_factory=dict)
