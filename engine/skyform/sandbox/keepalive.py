"""The simulators' HTTP/1.1 request handler: connections stay open between requests.

The real services keep connections alive - NodeODM 2.2.4 (Express on Node's http server)
answers ``Connection: keep-alive`` with ``Keep-Alive: timeout=5``, and the hosted APIs
(CVAT, iTwin, Satellogic) sit behind proxies that do the same - so a client that polls
thousands of jobs pays TCP set-up once per connection, not once per request. werkzeug's
development server closes every connection (``Connection: close``, its request body drained
by a 10 ms wait that would swallow a next request on the same socket), which made every
request against the sandbox pay a connect that it never pays against the service.

:class:`KeepAliveHandler` is werkzeug's handler (its WSGI environ, its dechunked input)
with a response writer that keeps the connection: the request body is bounded by its
``Content-Length`` (or its chunked framing) and the unread rest is drained exactly, so the
next request on the socket starts where it should. A client that says ``Connection:
close`` (or speaks HTTP/1.0) gets its connection closed, as does any request whose body
cannot be framed; an idle connection is closed after :data:`IDLE_TIMEOUT` seconds, as
NodeODM's is. A server that stops ends its kept connections too
(:func:`end_connections`): a stopped sandbox answers nothing, as before.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import IO, Any, cast

from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import DechunkedInput, WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

log = logging.getLogger("skyform.sandbox")

#: seconds an idle kept-alive connection stays open (Node's ``keepAliveTimeout``)
IDLE_TIMEOUT = 5.0
#: an unread request body larger than this is not drained: the connection is closed instead
DRAIN_LIMIT = 64 * 1024 * 1024


_REGISTRY_LOCK = threading.Lock()


def handlers(server: Any) -> set[KeepAliveHandler]:
    """The handlers of ``server`` that hold a connection open now."""
    with _REGISTRY_LOCK:
        found: set[KeepAliveHandler] | None = getattr(server, "_kept_handlers", None)
        if found is None:
            found = server._kept_handlers = set()
        return found


def end_connections(server: Any) -> None:
    """End the kept connections of a stopped server: an idle one at once, one serving a
    request after its answer."""
    server._stopping = True
    for handler in list(handlers(server)):
        if not handler.busy:
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class KeepAliveHandler(WSGIRequestHandler):
    """WSGI over HTTP/1.1 with persistent connections (see the module docstring)."""

    protocol_version = "HTTP/1.1"
    busy = False

    def setup(self) -> None:
        super().setup()
        handlers(self.server).add(self)

    def finish(self) -> None:
        handlers(self.server).discard(self)
        super().finish()

    def handle_one_request(self) -> None:
        # waiting for the next request on a kept connection: give up after the idle timeout
        self.connection.settimeout(IDLE_TIMEOUT)
        super().handle_one_request()

    def run_wsgi(self) -> None:
        self.busy = True
        try:
            self._serve()
        finally:
            self.busy = False
            if getattr(self.server, "_stopping", False):
                self.close_connection = True

    def _serve(self) -> None:
        self.connection.settimeout(None)  # a request under way is never cut short
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        body = self._framed_body(environ)
        sent: dict[str, Any] = {}  # "status", "headers" as set; "chunked" once the head is written

        def write(data: bytes) -> None:
            if "chunked" not in sent:
                self._write_head(environ, sent)
            if data:
                if sent["chunked"]:
                    self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
            self.wfile.flush()

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info and "chunked" in sent:
                raise exc_info[1].with_traceback(exc_info[2])
            sent["status"], sent["headers"] = status, headers
            return write

        try:
            chunks = self.server.app(environ, start_response)
            try:
                for data in chunks:
                    write(data)
                if "chunked" not in sent:
                    write(b"")
                if sent["chunked"]:
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
            self._drain(body)
        except (OSError, ClientDisconnected) as exc:  # the client went (or a drop fault cut it)
            self.close_connection = True
            self.connection_dropped(exc, environ)
        except Exception:
            # a failure past the head cannot be told to the client: the connection ends
            log.exception("sandbox: error serving %s %s", self.command, self.path)
            self.close_connection = True
            if "chunked" not in sent:
                self.send_error(500)

    def _framed_body(self, environ: dict[str, Any]) -> Any:
        """The request body as a stream that ends where the request does (None: no body)."""
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug dechunks it
            return environ["wsgi.input"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            self.close_connection = True
            return None
        if length <= 0:
            return None
        stream = LimitedStream(cast(IO[bytes], self.rfile), length)  # a buffered socket file
        environ["wsgi.input"] = stream
        return stream

    def _drain(self, body: Any) -> None:
        """Read what the handler left of the request body, so the next request parses."""
        if body is None or self.close_connection:
            return
        if isinstance(body, LimitedStream):
            if body.limit - body.tell() > DRAIN_LIMIT:
                self.close_connection = True
            else:
                body.exhaust()
            return
        if isinstance(body, DechunkedInput):
            total = 0
            while chunk := body.read(1 << 16):
                total += len(chunk)
                if total > DRAIN_LIMIT:
                    self.close_connection = True
                    return

    def _write_head(self, environ: dict[str, Any], sent: dict[str, Any]) -> None:
        status = sent.get("status")
        assert status is not None, "write() before start_response"
        code_text, _, message = status.partition(" ")
        code = int(code_text)
        self.send_response(code, message)
        keys = set()
        for key, value in sent["headers"]:
            self.send_header(key, value)
            keys.add(key.lower())
        sent["chunked"] = not (
            "content-length" in keys or environ["REQUEST_METHOD"] == "HEAD" or 100 <= code < 200 or code in (204, 304)
        )
        if sent["chunked"]:
            self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        else:
            self.send_header("Connection", "keep-alive")
            self.send_header("Keep-Alive", f"timeout={int(IDLE_TIMEOUT)}")
        self.end_headers()
