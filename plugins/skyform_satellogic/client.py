"""The connection to the Satellogic Tasking API: auth headers, paging and the calls we make.

Satellogic authenticates with an ``authorizationToken: Bearer <token>`` header (not
``Authorization``), the token coming from an OAuth2 client-credentials exchange or given
directly; Aleph accounts also send ``X-Satellogic-Contract-Id``. Every list endpoint pages
with ``limit``/``offset`` and answers ``{count, next, previous, results}`` where ``next`` is
a full URL, which we follow (only on the configured origin, so the token never leaves it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from skyform import redact
from skyform.errors import AuthError, NotFound, PermanentError, RemoteError
from skyform.http import ClientCredentials, ServiceClient, StaticToken, error_text

PROVIDER = "satellogic"
DEFAULT_URL = "https://api.satellogic.com/tasking"
DEFAULT_TOKEN_URL = "https://auth.platform.satellogic.com/oauth/token"
DEFAULT_AUDIENCE = "https://api.satellogic.com/"
AUTH_HEADER = "authorizationToken"
CONTRACT_HEADER = "X-Satellogic-Contract-Id"
PAGE_LIMIT = 100

AUTH_HINT = (
    "check `token`, or `client_id` and `client_secret`, in the satellogic provider settings; "
    "Aleph accounts also need `contract_id` (GET https://api.satellogic.com/contracts lists them)"
)


def describe_error(response: httpx.Response) -> RemoteError | None:
    """Satellogic's error answers as skyform errors: 400 field lists and 401 unauthorized."""
    status = response.status_code
    where = f"{response.request.method} {urlsplit(str(response.request.url)).path}"
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if status == 401:
        return AuthError(
            f"{PROVIDER}: {where}: unauthorized (HTTP 401): {error_text(body)}",
            provider=PROVIDER,
            status=status,
            body=redact.redact_data(body),
            hint=AUTH_HINT,
        )
    if status == 400:
        text, first = field_errors(body)
        return PermanentError(
            f"{PROVIDER}: {where}: the API rejected the request: {text}",
            provider=PROVIDER,
            status=status,
            body=redact.redact_data(body),
            field=first,
        )
    return None


def field_errors(body: Any) -> tuple[str, str | None]:
    """A readable line from a Django REST Framework style error body, and its first field."""
    if isinstance(body, dict):
        if set(body) == {"detail"}:
            return error_text(body["detail"]), None
        parts = []
        for key, value in body.items():
            msgs = value if isinstance(value, list) else [value]
            parts.append(f"{key}: {'; '.join(str(m) for m in msgs)}")
        first = next(iter(body), None)
        return error_text("; ".join(parts)), None if first == "non_field_errors" else first
    return error_text(body), None


class SatellogicClient:
    """What ``connect`` returns: the calls the kinds make, with a per-run product cache."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.base_url = str(settings.get("url") or DEFAULT_URL).rstrip("/")
        headers: dict[str, str] = {}
        contract = settings.get("contract_id")
        if contract:
            headers[CONTRACT_HEADER] = str(contract)
        secrets: list[str] = []
        auth: httpx.Auth
        if settings.get("token"):
            secrets.append(str(settings["token"]))
            auth = StaticToken(str(settings["token"]), header=AUTH_HEADER, scheme="Bearer")
        else:
            secrets.append(str(settings["client_secret"]))
            auth = ClientCredentials(
                str(settings.get("token_url") or DEFAULT_TOKEN_URL),
                str(settings["client_id"]),
                str(settings["client_secret"]),
                header=AUTH_HEADER,
                scheme="Bearer",
                extra={"audience": str(settings.get("audience") or DEFAULT_AUDIENCE)},
                provider=PROVIDER,
            )
        self.auth = auth
        self.http = ServiceClient(
            self.base_url,
            provider=PROVIDER,
            headers=headers,
            auth=auth,
            secrets=secrets,
            timeout=float(settings.get("timeout", 30.0)),
            describe_error=describe_error,
        )
        self._products: list[dict[str, Any]] | None = None
        self._clients: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    # -- paging -------------------------------------------------------------------------
    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every result of a list endpoint, following ``next`` until it is null."""
        query: dict[str, Any] | None = {"limit": PAGE_LIMIT, "offset": 0, **(params or {})}
        url: str = path
        while True:
            body = self.http.get(url, params=query)  # later pages: the query is in `next`
            if not isinstance(body, dict) or "results" not in body:
                raise PermanentError(
                    f"{PROVIDER}: GET {path}: expected a paginated list, got {error_text(body)}", provider=PROVIDER
                )
            yield from body["results"]
            nxt = body.get("next")
            if not nxt or not body["results"]:
                return
            url, query = self._same_origin(nxt, path), None

    def _same_origin(self, url: str, path: str) -> str:
        """``next`` as a path on our base URL; a link elsewhere would leak the token."""
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise PermanentError(
                f"{PROVIDER}: GET {path}: the next page points to another host ({theirs.netloc})", provider=PROVIDER
            )
        rel = theirs.path[len(ours.path) :] if theirs.path.startswith(ours.path) else theirs.path
        return rel + (f"?{theirs.query}" if theirs.query else "")

    # -- account configuration -----------------------------------------------------------
    def products(self) -> list[dict[str, Any]]:
        """The products available for tasking (``[{pk, name}]``), fetched once per run."""
        with self._lock:
            if self._products is None:
                self._products = list(self.pages("/products/"))
            return self._products

    def clients(self) -> list[dict[str, Any]]:
        """The account's clients with their priority ranges and geofences, fetched once per run.

        The documentation shows one object for a single-client account; a multi-client
        account is read as a list or a paginated list.
        """
        with self._lock:
            if self._clients is None:
                body = self.http.get("/clients/")
                if isinstance(body, list):
                    self._clients = body
                elif isinstance(body, dict) and "results" in body:
                    self._clients = list(body["results"])
                    if body.get("next"):
                        self._clients += list(self.pages("/clients/", {"offset": len(self._clients)}))
                else:
                    self._clients = [body]
            return self._clients

    # -- tasks ---------------------------------------------------------------------------
    def create_task(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /tasks/: the created task (status received)."""
        return self.http.post("/tasks/", json=dict(body))

    def get_task(self, task_id: str | int) -> dict[str, Any] | None:
        """The task, or None when the service does not know it (404)."""
        response = self.http.request("GET", f"/tasks/{task_id}/", ok=(404,))
        return None if response.status_code == 404 else response.json()

    def project_tasks(self, project_name: str) -> Iterator[dict[str, Any]]:
        """Every task of a project, across pages."""
        return self.pages("/tasks/", {"project_name": project_name})

    def captures(self, task_id: str | int) -> list[dict[str, Any]]:
        """Every capture of a task, across pages."""
        return list(self.pages(f"/tasks/{task_id}/captures/"))

    def cancel_task(self, task_id: str | int) -> None:
        """Cancel a task; a task the service no longer knows counts as cancelled."""
        try:
            self.http.patch(f"/tasks/{task_id}/cancel/")
        except NotFound:
            return
