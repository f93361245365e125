"""The base of every service simulator: a WSGI application with state, a clock and faults.

A provider's simulator subclasses :class:`Simulator`, lists its routes in ``routes()`` as
werkzeug ``Rule`` objects whose ``endpoint`` names a method (``"create_job"``) or, for a
simulator composed of handler objects, an attribute path (``"jobs.create"``: the ``create``
method of the simulator's ``jobs`` handler), and keeps everything it knows
in ``self.data`` (plain JSON), which is persisted atomically after every mutating request
when the simulator has a state directory. Handlers run one at a time (``self.lock``), so
they need no locking of their own; time-dependent states (a job's progress) are computed
from ``self.clock`` when read, so nothing runs in the background.

Control endpoints under ``/__sandbox__/`` serve tests and ``skyform sandbox objects``:
``GET objects`` (counts per kind), ``GET/POST faults``, ``POST reset``.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .clock import SimClock
from .faults import FaultRule, Faults


@dataclass
class SimulatorOptions:
    """How a simulator is set up: where it keeps state, its clock and its faults."""

    state_dir: Path | None = None
    clock: SimClock = field(default_factory=SimClock)
    faults: Faults = field(default_factory=Faults)
    seed: int = 0


_MAPS: dict[tuple[Any, ...], Map] = {}
_MAPS_LOCK = threading.Lock()


def _url_map(rules: list[Rule]) -> Map:
    """The URL map of ``rules``, compiled once per process for each distinct set of routes.

    Compiling a map is the costliest part of starting a simulator (werkzeug generates code
    for each rule: ~0.1 s for CVAT's 135 routes), and a process that starts the sandbox
    many times (the test suite, a gitops run) would pay it each time. A Map is shared by
    the threads of a WSGI server anyway; the key holds everything that defines the routes.
    """
    key = tuple(
        (
            r.rule,
            tuple(sorted(r.methods or ())),
            r.endpoint,
            r.strict_slashes,
            r.defaults and tuple(sorted(r.defaults.items())),
        )
        for r in rules
    )
    with _MAPS_LOCK:
        found = _MAPS.get(key)
        if found is None:
            found = _MAPS[key] = Map(rules, strict_slashes=False, merge_slashes=False)
        return found


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response, the way the simulated services answer."""
    return Response(json.dumps(data), status=status, headers=headers, mimetype="application/json")


class Simulator:
    """Base class of service simulators (see the module docstring)."""

    provider: str = ""
    #: the path prefix of the API on the simulator (e.g. "/v1"); part of the base URL
    base_path: str = ""

    def __init__(self, options: SimulatorOptions | None = None) -> None:
        self.options = options or SimulatorOptions()
        self.clock = self.options.clock
        self.faults = self.options.faults
        self.lock = threading.RLock()
        self.url_map = _url_map(list(self.routes()))
        self.data: dict[str, Any] = self.initial_data()
        self._state_file: Path | None = None
        if self.options.state_dir is not None:
            self.options.state_dir.mkdir(parents=True, exist_ok=True)
            self._state_file = self.options.state_dir / f"{self.provider}.json"
            if self._state_file.exists():
                self.data = json.loads(self._state_file.read_text())
        self.requests = 0

    # -- to override --------------------------------------------------------------------
    def routes(self) -> Iterable[Rule]:
        """The API's routes; each ``endpoint`` names a handler method, dotted for a handler object's."""
        return ()

    def initial_data(self) -> dict[str, Any]:
        """The state of a fresh simulator (fixtures such as products or option lists go here)."""
        return {}

    def settings(self, base_url: str) -> dict[str, Any]:
        """Provider connection settings that point at this simulator (``base_url`` has no path)."""
        return {"url": base_url + self.base_path}

    def objects(self) -> dict[str, int]:
        """How many live objects of each kind the simulator holds (for duplicate checks)."""
        return {}

    def not_found(self, request: Request) -> Response:
        """The service's answer to an unknown path."""
        return json_response({"detail": "Not found."}, 404)

    def server_error(self, request: Request, exc: Exception) -> Response:
        """The service's answer when a handler fails (never a stack trace)."""
        return json_response({"detail": "Internal server error"}, 500)

    # -- machinery ----------------------------------------------------------------------
    def save(self) -> None:
        """Persist ``self.data`` atomically (temp file + rename), if there is a state dir."""
        if self._state_file is None:
            return
        fd, tmp = tempfile.mkstemp(dir=self._state_file.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as fh:
            json.dump(self.data, fh)
        os.replace(tmp, self._state_file)

    def reset(self) -> None:
        with self.lock:
            self.data = self.initial_data()
            self.save()

    def _control(self, request: Request, what: str) -> Response:
        if what == "objects":
            with self.lock:
                return json_response(self.objects())
        if what == "faults":
            if request.method == "POST":
                rules = request.get_json(force=True, silent=True)
                try:
                    self.faults.replace(FaultRule.from_dict(r) for r in rules or [])
                except (TypeError, ValueError) as exc:
                    return json_response({"error": str(exc)}, 400)
            return json_response({"rules": [r.to_dict() for r in self.faults.rules], "fired": self.faults.counts()})
        if what == "reset" and request.method == "POST":
            self.reset()
            return json_response({"reset": True})
        if what == "stats":
            return json_response({"requests": self.requests})
        return json_response({"error": "unknown control endpoint"}, 404)

    def _fault_response(self, request: Request, environ: dict[str, Any]) -> Response | None:
        for rule in self.faults.for_request(self.provider, request.method, request.path):
            if rule.fault == "latency":
                time.sleep(rule.delay)
            elif rule.fault == "drop":
                sock = environ.get("werkzeug.socket")
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return Response(b"", status=500)
            elif rule.fault == "status":
                headers = {}
                if rule.retry_after is not None:
                    headers["Retry-After"] = str(
                        int(rule.retry_after) if float(rule.retry_after).is_integer() else rule.retry_after
                    )
                return json_response({"detail": f"simulated fault: HTTP {rule.status}"}, rule.status, headers)
        return None

    def dispatch(self, request: Request, environ: dict[str, Any]) -> Response:
        if request.path.startswith("/__sandbox__/"):
            return self._control(request, request.path[len("/__sandbox__/") :].strip("/"))
        self.requests += 1
        faulted = self._fault_response(request, environ)
        if faulted is not None:
            return faulted
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return self.not_found(request)
        except MethodNotAllowed as exc:
            return json_response(
                {"detail": f'Method "{request.method}" not allowed.'},
                405,
                {"Allow": ", ".join(exc.valid_methods or [])},
            )
        except HTTPException as exc:  # redirects and the like
            return exc.get_response(environ)
        handler: Callable[..., Response] = attrgetter(str(endpoint))(self)
        with self.lock:
            try:
                response = handler(request, **args)
            except HTTPException as exc:
                return exc.get_response(environ)
            except Exception as exc:  # a simulator bug must look like a server error, not a trace
                import logging

                logging.getLogger("skyform.sandbox").exception("simulator %s failed", self.provider)
                return self.server_error(request, exc)
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                self.save()
        return response

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request, environ)
        return response(environ, start_response)
