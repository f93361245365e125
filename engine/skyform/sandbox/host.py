"""Runs simulators as real HTTP servers on 127.0.0.1, each on a free port, in threads."""

from __future__ import annotations

import errno
import logging
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, make_server

from ..errors import SkyformError
from .keepalive import KeepAliveHandler, end_connections
from .simulator import Simulator

log = logging.getLogger("skyform.sandbox")

#: Seconds a server's loop may sleep before it sees a stop request. Stopping waits up to this
#: long (once for all servers, see :meth:`SimulatorHost.stop`), and every ``--sandbox``
#: command stops its servers: at 0.1 s that was ~0.08 s of idle waiting per command. An idle
#: server waking 50 times a second costs no measurable CPU.
POLL_INTERVAL = 0.02


class _QuietHandler(KeepAliveHandler):
    """Request handler without access logs, with Nagle off (else it measures itself) and
    connections kept alive, as the real services keep them (:mod:`.keepalive`)."""

    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug("%s %s", type, message % args)


class SandboxError(SkyformError):
    """A simulator could not be started (port in use, unwritable directory, ...)."""


@dataclass
class Running:
    """A simulator served on a port."""

    simulator: Simulator
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def settings(self) -> dict[str, Any]:
        return self.simulator.settings(self.base_url)


class SimulatorHost:
    """Starts and stops a set of simulators; use as a context manager."""

    def __init__(self) -> None:
        self.running: dict[str, Running] = {}

    def start(self, simulator: Simulator, port: int = 0) -> Running:
        try:
            server = make_server("127.0.0.1", port, simulator, threaded=True, request_handler=_QuietHandler)
        except SystemExit as exc:  # werkzeug exits (after printing) when the port is taken
            raise SandboxError(
                f"sandbox: port {port} on 127.0.0.1 is already in use",
                hint="choose another port or stop the process using it",
            ) from exc
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SandboxError(
                    f"sandbox: port {port} on 127.0.0.1 is already in use",
                    hint="choose another port or stop the process using it",
                ) from exc
            raise SandboxError(f"sandbox: cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
        assert isinstance(server, ThreadedWSGIServer)  # threaded=True
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name=f"sandbox-{simulator.provider}",
            daemon=True,
        )
        thread.start()
        running = Running(simulator, server, thread)
        self.running[simulator.provider] = running
        return running

    def settings(self) -> dict[str, dict[str, Any]]:
        """Provider name → connection settings for every running simulator."""
        return {name: r.settings() for name, r in self.running.items()}

    def stop(self) -> None:
        """Stop every server, then save each simulator's objects.

        The stop requests go out together (``shutdown`` blocks until that server's loop
        notices), so N servers wait one poll interval, not N.
        """
        stoppers = [threading.Thread(target=r.server.shutdown, daemon=True) for r in self.running.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for running in self.running.values():
            running.server.server_close()
            end_connections(running.server)  # a kept connection is not served after the stop
            running.thread.join(timeout=5)
            with running.simulator.lock:
                running.simulator.save()
        self.running.clear()

    def __enter__(self) -> SimulatorHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
