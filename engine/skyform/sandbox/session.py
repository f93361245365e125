"""Starting the simulators of a set of providers, and finding a running ``sandbox serve``.

``apply|plan|destroy --sandbox`` and ``skyform sandbox serve`` both call
:func:`start_sandbox`; every simulator persists its state in one file per provider
(``<state_dir>/<provider>.json``), so a second run sees what the first created.

A ``sandbox serve`` marks its directory with ``serve.json`` (pid, base URLs) guarded by an
OS lock on ``serve.lock``: the lock dies with the process, so a crashed serve never blocks
the next one, and a second serve on the same directory is refused while the first lives.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..providers.base import Provider
from .clock import SimClock
from .faults import Faults
from .host import SandboxError, SimulatorHost
from .simulator import SimulatorOptions

PROVIDERS_FILE = "providers.json"
SERVE_FILE = "serve.json"
LOCK_FILE = "serve.lock"
#: files in a sandbox directory that are not a simulator's state
BOOKKEEPING = frozenset({PROVIDERS_FILE, SERVE_FILE, LOCK_FILE})


def mission_sandbox_dir(mission: Path) -> Path:
    """Where ``--sandbox`` keeps a mission's simulator state: ``<mission dir>/.skyform/sandbox``."""
    mission_dir = mission.parent if mission.is_file() else mission
    return mission_dir / ".skyform" / "sandbox"


def simulated(providers: Iterable[Provider]) -> list[Provider]:
    """The providers that ship a simulator, by name (so ports and output are stable)."""
    return sorted((p for p in providers if p.simulator is not None), key=lambda p: p.name)


def ensure_writable(state_dir: Path) -> None:
    """Create ``state_dir`` or raise a SandboxError saying why it cannot hold state."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SandboxError(
            f"sandbox: cannot create state directory {state_dir}: {exc.strerror}",
            hint="pass a directory you can write to",
        ) from exc
    if not state_dir.is_dir():
        raise SandboxError(f"sandbox: {state_dir} is not a directory")
    if not os.access(state_dir, os.W_OK | os.X_OK):
        raise SandboxError(
            f"sandbox: state directory {state_dir} is not writable",
            hint="pass a directory you can write to, or fix its permissions",
        )


def environment_clock_factor() -> float:
    """``SKYFORM_SANDBOX_CLOCK`` as it is now (the clock module reads it once, at import)."""
    from .clock import DEFAULT_FACTOR

    text = os.environ.get("SKYFORM_SANDBOX_CLOCK", "")
    if not text:
        return DEFAULT_FACTOR
    try:
        factor = float(text)
    except ValueError:
        factor = 0.0
    if not factor > 0:
        raise SandboxError(
            f"sandbox: SKYFORM_SANDBOX_CLOCK={text!r} is not a positive number",
            hint="set it to simulated seconds per real second, e.g. 600",
        )
    return factor


def start_sandbox(
    providers: Iterable[Provider],
    state_dir: Path | None,
    *,
    clock_factor: float | None = None,
    faults: Faults | None = None,
    ports: dict[str, int] | None = None,
) -> SimulatorHost:
    """Start the simulator of every provider that has one; the caller stops the host.

    ``state_dir`` None keeps state in memory only. ``clock_factor`` None uses
    ``SKYFORM_SANDBOX_CLOCK`` (default 3600); ``faults`` None reads ``SKYFORM_SANDBOX_FAULTS``.
    All simulators share one clock and one fault set. ``ports`` maps provider names to
    fixed ports (default: a free port each). If one simulator fails to start, the ones
    already started are stopped before the error propagates.
    """
    if state_dir is not None:
        ensure_writable(state_dir)
    clock = SimClock(clock_factor if clock_factor is not None else environment_clock_factor())
    if faults is None:
        try:
            faults = Faults.from_environment()
        except (OSError, ValueError) as exc:
            raise SandboxError(f"sandbox: bad SKYFORM_SANDBOX_FAULTS: {exc}") from exc
    host = SimulatorHost()
    try:
        for provider in simulated(providers):
            assert provider.simulator is not None
            options = SimulatorOptions(state_dir=state_dir, clock=clock, faults=faults)
            try:
                simulator = provider.simulator(options)
            except (OSError, json.JSONDecodeError) as exc:
                raise SandboxError(
                    f"sandbox: cannot load the {provider.name} simulator's state from {state_dir}: {exc}",
                    hint="run `skyform sandbox reset` to start from an empty sandbox",
                ) from exc
            if not simulator.provider:
                simulator.provider = provider.name
            port = (ports or {}).get(provider.name, 0)
            if port:
                check_port_free(port)
            try:
                host.start(simulator, port=port)
            except SystemExit as exc:  # werkzeug's make_server exits on bind errors it printed itself
                raise SandboxError(f"sandbox: cannot listen on 127.0.0.1:{port} for {provider.name}") from exc
    except BaseException:
        host.stop()
        raise
    return host


def check_port_free(port: int) -> None:
    """Raise SandboxError if 127.0.0.1:``port`` cannot be bound (the server would exit instead)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the HTTP server does
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SandboxError(
                    f"sandbox: port {port} on 127.0.0.1 is already in use",
                    hint="choose another port (--port-base) or stop the process using it",
                ) from exc
            raise SandboxError(f"sandbox: cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc


def port_plan(providers: Iterable[Provider], port_base: int | None) -> dict[str, int]:
    """Fixed consecutive ports from ``port_base`` in provider-name order (None: free ports)."""
    if port_base is None:
        return {}
    return {p.name: port_base + i for i, p in enumerate(simulated(providers))}


# -- a running `sandbox serve` ---------------------------------------------------------------


@dataclass(frozen=True)
class ServeInfo:
    """What a running ``sandbox serve`` wrote about itself."""

    pid: int
    started_at: float
    servers: dict[str, str]  # provider name -> base URL (for /__sandbox__/ control calls)
    providers: dict[str, dict[str, Any]]  # provider name -> connection settings


class ServeLock:
    """The exclusive claim of one ``sandbox serve`` on a directory (an flock, dies with us)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        """Take the directory or raise SandboxError naming the serve that holds it."""
        ensure_writable(self.state_dir)
        fh = open(self.state_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held open: the open file holds the lock
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fh.close()
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise SandboxError(f"sandbox: cannot lock {self.state_dir}: {exc.strerror}") from exc
            info = read_serve(self.state_dir)
            who = f" (pid {info.pid})" if info else ""
            raise SandboxError(
                f"sandbox: another `skyform sandbox serve`{who} is already serving {self.state_dir}",
                hint="stop it with Ctrl-C, or pass another --dir",
            ) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh

    def publish(self, host: SimulatorHost) -> ServeInfo:
        """Write ``serve.json`` and ``providers.json`` for the simulators now running."""
        info = ServeInfo(
            pid=os.getpid(),
            started_at=time.time(),
            servers={name: r.base_url for name, r in sorted(host.running.items())},
            providers={name: r.settings() for name, r in sorted(host.running.items())},
        )
        _write_json(self.state_dir / PROVIDERS_FILE, info.providers)
        _write_json(
            self.state_dir / SERVE_FILE, {"pid": info.pid, "started_at": info.started_at, "servers": info.servers}
        )
        return info

    def release(self) -> None:
        """Remove ``serve.json`` (the serve is gone) and drop the lock."""
        if self._fh is None:
            return
        (self.state_dir / SERVE_FILE).unlink(missing_ok=True)
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()
        self._fh = None


def is_serving(state_dir: Path) -> bool:
    """Whether a live ``sandbox serve`` holds ``state_dir`` (its lock is taken)."""
    lock = state_dir / LOCK_FILE
    if not lock.exists():
        return False
    with open(lock) as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def read_serve(state_dir: Path) -> ServeInfo | None:
    """The running serve of ``state_dir``, or None when none is running there."""
    path = state_dir / SERVE_FILE
    if not path.exists() or not is_serving(state_dir):
        return None
    try:
        data = json.loads(path.read_text())
        providers = read_providers(state_dir)
    except (OSError, ValueError):
        return None
    return ServeInfo(
        pid=int(data["pid"]), started_at=float(data["started_at"]), servers=dict(data["servers"]), providers=providers
    )


def read_providers(state_dir: Path) -> dict[str, dict[str, Any]]:
    """``providers.json`` of a serve: provider name -> settings for a mission's ``providers:``."""
    path = state_dir / PROVIDERS_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise SandboxError(
            f"sandbox: {path} does not exist", hint=f"start `skyform sandbox serve --dir {state_dir}` first"
        ) from exc
    except ValueError as exc:
        raise SandboxError(f"sandbox: {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SandboxError(f"sandbox: {path} must hold a JSON object of provider settings")
    return data


def state_files(state_dir: Path) -> dict[str, Path]:
    """Provider name -> persisted simulator state file in ``state_dir``."""
    if not state_dir.is_dir():
        return {}
    return {p.stem: p for p in sorted(state_dir.glob("*.json")) if p.name not in BOOKKEEPING}


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
