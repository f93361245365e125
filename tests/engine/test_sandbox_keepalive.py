"""The sandbox keeps HTTP connections alive, as the real services do, and frames requests exactly.

A kept connection is only correct if every request ends where its framing says: a handler
that ignores a body must not leave it to be parsed as the next request line, and a client
that asks for ``Connection: close`` gets it. These talk raw HTTP/1.1 over one socket to a
simulator served by :class:`skyform.sandbox.host.SimulatorHost`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.faults import FaultRule
from skyform.sandbox.host import Running, SimulatorHost
from skyform.sandbox.simulator import Simulator, json_response


class Echo(Simulator):
    """Answers with the client's port (one port = one connection) and, for /echo, the body."""

    provider = "echo"

    def routes(self) -> list[Rule]:
        return [
            Rule("/port", endpoint="port", methods=["GET"]),
            Rule("/ignore", endpoint="ignore", methods=["POST"]),
            Rule("/echo", endpoint="echo", methods=["POST"]),
            Rule("/stream", endpoint="stream", methods=["GET"]),
        ]

    def port(self, request: Request) -> Response:
        return json_response({"port": request.environ["REMOTE_PORT"]})

    def ignore(self, request: Request) -> Response:
        return json_response({"ignored": True})

    def echo(self, request: Request) -> Response:
        return json_response({"body": request.get_data(as_text=True)})

    def stream(self, request: Request) -> Response:
        return Response(iter([b"one,", b"two"]), mimetype="text/plain")  # no length: chunked


@pytest.fixture(scope="module")
def served() -> Iterator[Running]:
    with SimulatorHost() as host:
        yield host.start(Echo())


def exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one request and read one whole response (by its Content-Length)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")).split(b":")[1])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_one_client_one_connection(served: Running) -> None:
    """Requests of one client reuse its connection: one TCP set-up, not one per request."""
    with httpx.Client(base_url=served.base_url) as client:
        answers = [client.get("/port") for _ in range(5)]
    assert {a.headers["connection"] for a in answers} == {"keep-alive"}
    assert answers[0].headers["keep-alive"] == "timeout=5"
    assert len({a.json()["port"] for a in answers}) == 1


def test_an_unread_body_is_not_the_next_request(served: Running) -> None:
    """A handler that never reads the body leaves the socket at the next request, not inside the body."""
    body = b"GET /port HTTP/1.1\r\n\r\n" * 3  # a body that would parse as requests if left unread
    with socket.create_connection(("127.0.0.1", served.server.server_port), timeout=10) as sock:
        first = exchange(sock, b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body))
        second = exchange(sock, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    assert b'"ignored": true' in first
    assert second.startswith(b"HTTP/1.1 200") and b'{"body": "hello"}' in second


def test_a_chunked_body_is_framed(served: Running) -> None:
    """A chunked upload (httpx streams a generator so) ends at its last chunk, read or not."""
    with httpx.Client(base_url=served.base_url) as client:
        echoed = client.post("/echo", content=iter([b"ab", b"cd"]))
        ignored = client.post("/ignore", content=iter([b"GET /port HTTP/1.1\r\n\r\n"]))
        after = client.get("/port")
    assert echoed.json() == {"body": "abcd"}
    assert ignored.json() == {"ignored": True} and after.status_code == 200
    assert echoed.headers["connection"] == after.headers["connection"] == "keep-alive"


def test_a_response_without_length_is_chunked_and_kept(served: Running) -> None:
    """A streamed answer is sent chunked, so the connection survives it."""
    with httpx.Client(base_url=served.base_url) as client:
        streamed = client.get("/stream")
        ports = {client.get("/port").json()["port"] for _ in range(2)}
    assert streamed.text == "one,two" and streamed.headers["transfer-encoding"] == "chunked"
    assert len(ports) == 1


def test_connection_close_is_honoured(served: Running) -> None:
    """A client that says ``Connection: close`` gets the connection closed after the answer."""
    with socket.create_connection(("127.0.0.1", served.server.server_port), timeout=10) as sock:
        answer = exchange(sock, b"GET /port HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"\r\nConnection: close\r\n" in answer
        assert sock.recv(1) == b""  # the server closed its end


def test_a_drop_fault_still_drops(served: Running) -> None:
    """The ``drop`` fault cuts the connection as before; the next request gets a new one."""
    served.simulator.faults.replace([FaultRule.from_dict({"fault": "drop", "match": "GET /port", "times": 1})])
    try:
        with httpx.Client(base_url=served.base_url) as client:
            with pytest.raises(httpx.TransportError):
                client.get("/port")
            assert client.get("/port").status_code == 200
    finally:
        served.simulator.faults.replace([])


def test_a_stopped_sandbox_ends_its_kept_connections() -> None:
    """After ``stop`` a kept connection is closed, not served: a stopped sandbox answers nothing."""
    host = SimulatorHost()
    running = host.start(Echo())
    with socket.create_connection(("127.0.0.1", running.server.server_port), timeout=10) as sock:
        assert b"keep-alive" in exchange(sock, b"GET /port HTTP/1.1\r\nHost: x\r\n\r\n")  # kept
        host.stop()
        try:
            sock.sendall(b"GET /port HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = sock.recv(65536)
        except OSError:  # reset: closed as well
            answer = b""
        assert answer == b""
