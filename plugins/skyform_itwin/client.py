"""The ContextCapture v1 API as Python calls: workspaces, jobs, progress, listing.

One :class:`ItwinClient` per run (what ``connect`` returns). It sends the versioned Accept
header on every call, authenticates with a static token or OAuth2 client credentials
(scope ``itwin-platform``; fetched, cached, refreshed once on 401), and maps failures
through :mod:`.errors`. It also carries the provider-level settings the kinds need
(``budget``, the progress poll backoff).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from skyform import redact
from skyform.http import ClientCredentials, ServiceClient, StaticToken

from .errors import PROVIDER, describe

DEFAULT_URL = "https://api.bentley.com/contextcapture"
DEFAULT_TOKEN_URL = "https://ims.bentley.com/connect/token"
DEFAULT_REALITY_URL = "https://api.bentley.com/reality-management"
DEFAULT_SCOPE = "itwin-platform"
ACCEPT = "application/vnd.bentley.itwin-platform.v1+json"
#: documented progress backoff: 15, 30, 60, 120 s, restarted when the percentage changes
DEFAULT_BACKOFF = (15.0, 30.0, 60.0, 120.0)


def auth_for(settings: Mapping[str, Any]) -> httpx.Auth:
    """The request auth the settings describe: a static bearer token or client credentials."""
    if settings.get("token"):
        return StaticToken(str(settings["token"]))
    return ClientCredentials(
        str(settings.get("token_url") or DEFAULT_TOKEN_URL),
        str(settings["client_id"]),
        str(settings["client_secret"]),
        scope=str(settings.get("scope") or DEFAULT_SCOPE),
        provider=PROVIDER,
    )


@dataclass
class ItwinClient:
    """Calls of the v1 ContextCapture API plus the provider's budget and poll backoff."""

    http: ServiceClient
    budget: float | None = None
    backoff: tuple[float, ...] = DEFAULT_BACKOFF
    auth: httpx.Auth | None = field(default=None, repr=False)
    #: Reality Management (a finished job's outputs: read access to their containers); None:
    #: results are not downloaded (``download_results: false``)
    reality: ServiceClient | None = field(default=None, repr=False)
    #: job id -> resource address, for jobs this run created or adopted: adopt must not hand
    #: one resource's job to another resource of the same name and workspace
    claims: dict[str, str] = field(default_factory=dict, repr=False)
    _claims_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim(self, job_id: str, address: str) -> bool:
        """Record that ``address`` owns ``job_id``; False when another resource already does."""
        with self._claims_lock:
            owner = self.claims.setdefault(job_id, address)
            return owner == address

    def claimed_by_other(self, job_id: str, address: str) -> bool:
        with self._claims_lock:
            return self.claims.get(job_id, address) != address

    @classmethod
    def connect(cls, settings: Mapping[str, Any]) -> ItwinClient:
        """Build the client from resolved provider settings, registering secrets for redaction."""
        for name in ("token", "client_secret"):
            if settings.get(name):
                redact.register(str(settings[name]))
        auth = auth_for(settings)

        def service(url: str) -> ServiceClient:
            """The Reality Modeling and the Reality Management APIs: one token, one timeout."""
            return ServiceClient(
                url,
                provider=PROVIDER,
                headers={"Accept": ACCEPT},
                auth=auth,
                timeout=float(settings.get("timeout") or 30.0),
                describe_error=describe,
            )

        budget = settings.get("budget")
        backoff = tuple(float(s) for s in settings.get("poll_backoff") or DEFAULT_BACKOFF)
        reality = None
        if settings.get("download_results", True):
            reality = service(str(settings.get("reality_url") or DEFAULT_REALITY_URL))
        return cls(
            http=service(str(settings.get("url") or DEFAULT_URL)),
            budget=float(budget) if budget is not None else None,
            backoff=backoff,
            auth=auth,
            reality=reality,
        )

    def close(self) -> None:
        self.http.close()
        if self.reality is not None:
            self.reality.close()

    # -- workspaces -------------------------------------------------------------------
    def create_workspace(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.http.post("/workspaces", json=dict(body))["workspace"]

    def get_workspace(self, workspace_id: str) -> dict[str, Any] | None:
        r = self.http.request("GET", f"/workspaces/{workspace_id}", ok=(404,))
        return None if r.status_code == 404 else r.json()["workspace"]

    def delete_workspace(self, workspace_id: str) -> None:
        self.http.request("DELETE", f"/workspaces/{workspace_id}", ok=(404,))

    # -- jobs -------------------------------------------------------------------------
    def create_job(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.http.post("/jobs", json=dict(body))["job"]

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        r = self.http.request("GET", f"/jobs/{job_id}", ok=(404,))
        return None if r.status_code == 404 else r.json()["job"]

    def patch_job(self, job_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.http.patch(f"/jobs/{job_id}", json=dict(body))["job"]

    def delete_job(self, job_id: str) -> None:
        self.http.request("DELETE", f"/jobs/{job_id}", ok=(404,))

    def progress(self, job_id: str) -> dict[str, Any] | None:
        """``jobProgress`` of a job, None when the service no longer has it (after 30 days)."""
        r = self.http.request("GET", f"/jobs/{job_id}/progress", ok=(404,))
        return None if r.status_code == 404 else r.json()["jobProgress"]

    def list_jobs(self, filter: str, top: int = 100) -> Iterator[dict[str, Any]]:
        """Every job matching an OData ``$filter``, following ``_links.next`` page by page."""
        page: Any = self.http.get("/jobs", params={"$filter": filter, "$top": str(top)})
        while True:
            yield from page.get("jobs", [])
            nxt = ((page.get("_links") or {}).get("next") or {}).get("href")
            if not nxt:
                return
            page = self.http.get(nxt)
