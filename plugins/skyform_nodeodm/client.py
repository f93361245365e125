"""Talking to NodeODM nodes over HTTP with the engine's error and redaction policy.

Why httpx (``skyform.http.ServiceClient``) and not pyodm for the calls themselves: pyodm
1.5.13 reads every image fully into memory, reports upload progress only as a file
percentage, sleeps between upload retries inside ``create_task``, downloads through
``requests`` without a hash or a size check and then extracts with ``extractall`` (no
zip-slip guard), raises ``NodeResponseError`` with the error text only (the structured list
of invalid options is lost), and carries the two defects REFERENCE.md lists: ``Node.url()``
writes the token into a shared mutable default (every ``Node`` in the process then sends
it, a leak across nodes) and ``TaskInfo`` raises KeyError on a task without a name. Going
through ServiceClient gives streaming uploads and downloads, byte progress, timeouts and
redaction in one place. pyodm is still the reference client of the simulator's tests.

NodeODM answers every error with HTTP 200 and ``{"error": ...}``; :func:`unwrap` turns those
bodies into skyform errors. ClusterODM answers a bad token with a bare 401, which
ServiceClient already maps to AuthError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from skyform import redact
from skyform.errors import AuthError, NotFound, PermanentError, RemoteError, TransientError
from skyform.http import ServiceClient

PROVIDER = "nodeodm"
TOKEN_HINT = "check the token in the nodeodm provider settings (sent as the ?token= query parameter)"


def unwrap(body: Any, what: str, *, uuid: str | None = None) -> Any:
    """The body, or the skyform error a NodeODM ``{"error": ...}`` answer stands for."""
    if not isinstance(body, dict) or ("error" not in body and body.get("success") is not False):
        return body
    text = str(body.get("error") or "the node refused the request")
    message = f"{PROVIDER}: {what}: {redact.redact(text)}"
    if "authentication token" in text.lower() or text == "Unauthorized":
        return _raise(AuthError(message, provider=PROVIDER, hint=TOKEN_HINT))
    if text.endswith(" not found"):
        return _raise(NotFound(message, provider=PROVIDER, remote_id=uuid))
    if text.startswith("Invalid set-uuid"):
        return _raise(UuidTaken(message, provider=PROVIDER, remote_id=uuid))
    if text in ("No nodes available", "Asset not ready"):
        return _raise(TransientError(message, provider=PROVIDER, retry_after=30.0))
    invalid = invalid_options(text)
    if invalid is not None:
        details = "; ".join(f"options.{i.get('name')}: {i.get('error')}" for i in invalid)
        return _raise(
            PermanentError(
                f"{PROVIDER}: {what}: the node refused the options: {details}",
                provider=PROVIDER,
                body=invalid,
                field="options",
            )
        )
    return _raise(PermanentError(message, provider=PROVIDER, body=redact.redact_data(body)))


class UuidTaken(PermanentError):
    """``set-uuid`` was refused: a task with that uuid exists (or the uuid is malformed)."""


def invalid_options(text: str) -> list[dict[str, Any]] | None:
    """The ``[{name, error}]`` list NodeODM encodes into ``error`` for invalid options."""
    if not text.startswith("[{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, list) and all(isinstance(i, dict) and "name" in i for i in data) else None


def _raise(error: RemoteError) -> Any:
    raise error


@dataclass(frozen=True)
class NodeAddress:
    """One node as configured: its URL and optional token."""

    url: str
    token: str | None = None


class NodeClient:
    """One NodeODM (or ClusterODM) endpoint; the token goes as the ``token`` query parameter."""

    def __init__(self, address: NodeAddress, *, timeout: float = 60.0) -> None:
        self.url = address.url.rstrip("/")
        params = {"token": address.token} if address.token else None
        self.http = ServiceClient(
            self.url,
            provider=PROVIDER,
            params=params,
            secrets=[address.token] if address.token else [],
            timeout=timeout,
        )
        self._options: list[dict[str, Any]] | None = None

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, what: str, *, uuid: str | None = None, **kw: Any) -> Any:
        """GET JSON and unwrap NodeODM's 200-with-error answers."""
        response = self.http.request("GET", path, **kw)
        return unwrap(_json(response, what), what, uuid=uuid)

    def post(self, path: str, what: str, *, uuid: str | None = None, **kw: Any) -> Any:
        """POST and unwrap NodeODM's 200-with-error answers."""
        response = self.http.request("POST", path, **kw)
        return unwrap(_json(response, what), what, uuid=uuid)

    def info(self) -> dict[str, Any]:
        return self.get("/info", "GET /info")

    def options(self) -> list[dict[str, Any]]:
        """The node's option catalogue, fetched once per run."""
        if self._options is None:
            self._options = list(self.get("/options", "GET /options"))
        return self._options

    def task_info(self, uuid: str, *, with_output: int | None = None) -> dict[str, Any] | None:
        """A task's TaskInfo, or None when the node does not know the uuid."""
        params = {"with_output": with_output} if with_output is not None else None
        try:
            return self.get(f"/task/{uuid}/info", f"task {uuid}", uuid=uuid, params=params)
        except NotFound:
            return None

    def task_output(self, uuid: str, line: int = 0) -> list[str]:
        return list(self.get(f"/task/{uuid}/output", f"output of task {uuid}", uuid=uuid, params={"line": line}))

    def command(self, action: str, uuid: str, **fields: Any) -> None:
        """``POST /task/{cancel,remove,restart}`` with the uuid (and restart's options)."""
        self.post(f"/task/{action}", f"{action} task {uuid}", uuid=uuid, data={"uuid": uuid, **fields})


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        snippet = redact.redact(response.text[:200])
        raise TransientError(
            f"{PROVIDER}: {what}: the node answered with something that is not JSON: {snippet!r}",
            provider=PROVIDER,
            status=response.status_code,
        ) from None


def addresses(settings: Mapping[str, Any]) -> list[NodeAddress]:
    """The configured nodes: ``nodes`` when given, else the single ``url``/``token``."""
    nodes = settings.get("nodes") or []
    if nodes:
        return [NodeAddress(str(n["url"]), n.get("token") or None) for n in nodes]
    return [NodeAddress(str(settings["url"]), settings.get("token") or None)]
