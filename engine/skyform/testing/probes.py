"""Malformed requests for every route of a simulator: bad input must never look like a crash.

The issue's rule for simulators: a bad request is answered the way the documented service
answers it (a 4xx with its error body), never with a 5xx or a stack trace. These probes
build a concrete path for every route (placeholder ids that exist nowhere) and send bodies
that no handler expects.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from ..sandbox.host import Running

BODIES = (b"{not json", b'{"unexpected": [1, {"deep": null}]}', b"[]", b"null")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _placeholder(converter: Any) -> Any:
    name = type(converter).__name__
    items = getattr(converter, "items", None)  # werkzeug's any(a, b) converter
    if items:
        return sorted(items)[0]
    if "Integer" in name or "Number" in name:
        return 0
    if "UUID" in name:
        return uuid.uuid4()
    return "x"


def routes(running: Running) -> Iterator[tuple[str, str]]:
    """(method, path) for every route of the simulator's API, with placeholder path values."""
    for rule in running.simulator.url_map.iter_rules():
        values = {arg: _placeholder(conv) for arg, conv in rule._converters.items()}
        try:
            path = rule.build(values, append_unknown=False)
        except (ValueError, TypeError):
            continue  # a converter we cannot satisfy generically
        if path is None:
            continue
        for method in METHODS:
            if method in (rule.methods or ()):
                yield method, path[1]


def server_errors(running: Running, client: httpx.Client | None = None) -> list[str]:
    """The malformed requests answered with a 5xx or a trace (``client`` may carry auth)."""
    http = client or httpx.Client(timeout=10)
    found = []
    try:
        for method, path in routes(running):
            for body in BODIES:
                response = http.request(
                    method, running.base_url + path, content=body, headers={"Content-Type": "application/json"}
                )
                if response.status_code >= 500 or "Traceback" in response.text:
                    found.append(f"{method} {path} {body!r} -> {response.status_code} {response.text[:120]!r}")
    finally:
        if client is None:
            http.close()
    return found
