"""The DroneBundle API client: the documented endpoints, Bearer auth and a rate limiter.

Built on :class:`skyform.http.ServiceClient` (timeouts, redaction, error translation; no
retries: the engine retries ``RateLimited`` and other transient errors). The client-side
limiter keeps a large mission under the documented 1,000 requests per minute per key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from skyform import redact
from skyform.errors import AuthError, PermanentError, RemoteError
from skyform.http import RateLimiter, ServiceClient, StaticToken

from .errors import describe as describe_refusal
from .vocabulary import DEFAULT_URL, DOCUMENTED_RATE_LIMIT


def sliding_window_limiter(limit: int, window: float = 60.0) -> RateLimiter:
    """A token bucket that never sends more than ``limit`` requests in any ``window`` seconds.

    A bucket admits at most ``burst + rate * window`` requests in a window, so the rate gets
    85% and the burst 10% of the limit: 5% margin for requests that queue in flight.
    """
    burst = max(1, int(limit * 0.10))
    per_window = max(1.0, limit * 0.85)
    return RateLimiter(per_minute=per_window * 60.0 / window, burst=burst)


#: answers after which the service certainly made nothing (it refused, or was not serving)
_REFUSED_STATUS = frozenset(range(400, 500)) | {503}


def certainly_not_created(exc: RemoteError) -> bool:
    """True when a failed create certainly made nothing: the service answered a refusal.
    A timeout, a dropped connection or a 500/502/504 may come after the object was made."""
    return exc.status in _REFUSED_STATUS


class CreateOutcomes:
    """What this run's create attempts did, per idempotency key: the id made, or None for a
    create the service certainly refused. Lets adopt answer for retries within one run; after
    a crash (a new process) nothing is known and adopt must not guess."""

    def __init__(self) -> None:
        self._outcomes: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def record(self, key: str, remote_id: str | None) -> None:
        """Remember what the create for ``key`` did."""
        with self._lock:
            self._outcomes[key] = remote_id

    def recall(self, key: str) -> tuple[bool, str | None]:
        """(known, remote id or None)."""
        with self._lock:
            return key in self._outcomes, self._outcomes.get(key)


class DroneBundleClient:
    """One connection to a DroneBundle workspace (one API key)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str = "",
        *,
        rate_limit: int = DOCUMENTED_RATE_LIMIT,
        window: float = 60.0,
        timeout: float = 30.0,
    ) -> None:
        if not api_key:
            raise AuthError(
                "dronebundle: no api_key in the provider settings: create a key on the "
                "DroneBundle dashboard's API Keys page and pass it as api_key",
                provider="dronebundle",
            )
        redact.register(api_key)
        self.url = url.rstrip("/")
        self.outcomes = CreateOutcomes()
        self.limiter = sliding_window_limiter(rate_limit, window)
        self.service = ServiceClient(
            self.url,
            provider="dronebundle",
            auth=StaticToken(api_key),
            secrets=[api_key],
            headers={"Accept": "application/json"},
            timeout=timeout,
            rate_limiter=self.limiter,
            describe_error=describe_refusal,
        )

    def close(self) -> None:
        self.service.close()

    # -- projects --------------------------------------------------------------------------
    def create_project(self, body: Mapping[str, Any]) -> str:
        """POST /projects; the API answers only ``{"id"}``."""
        return _created_id(self.service.post("/projects", json=dict(body)), "POST /projects")

    def get_project(self, project_id: str) -> dict[str, Any] | None:
        """GET /projects/{id}; None when it does not exist."""
        response = self.service.request("GET", f"/projects/{project_id}", ok=(404,))
        return None if response.status_code == 404 else dict(response.json())

    def update_project(self, project_id: str, body: Mapping[str, Any]) -> None:
        """PATCH /projects/{id} with the fields to change."""
        self.service.patch(f"/projects/{project_id}", json=dict(body))

    def list_projects(self, *, status: str | None = None, archived: bool = False) -> Iterator[dict[str, Any]]:
        """Every project, following the ``cursor`` until it is null (pages of up to 50)."""
        params: dict[str, str] = {}
        if status:
            params["status"] = status
        if archived:
            params["archived"] = "true"
        cursor: str | None = None
        while True:
            page = self.service.get("/projects", params={**params, **({"cursor": cursor} if cursor else {})})
            yield from page.get("projects", [])
            cursor = page.get("cursor")
            if not cursor:
                return

    # -- jobs ------------------------------------------------------------------------------
    def create_job(self, project_id: str, body: Mapping[str, Any]) -> str:
        """POST /projects/{projectId}/jobs; the API answers only ``{"id"}``."""
        return _created_id(
            self.service.post(f"/projects/{project_id}/jobs", json=dict(body)), f"POST /projects/{project_id}/jobs"
        )

    def get_job(self, project_id: str, job_id: str) -> dict[str, Any] | None:
        """GET /projects/{projectId}/jobs/{jobId}; None when it does not exist."""
        response = self.service.request("GET", f"/projects/{project_id}/jobs/{job_id}", ok=(404,))
        return None if response.status_code == 404 else dict(response.json())

    def update_job(self, project_id: str, job_id: str, body: Mapping[str, Any]) -> None:
        """PATCH /projects/{projectId}/jobs/{jobId}: only the fields sent change; null clears."""
        self.service.patch(f"/projects/{project_id}/jobs/{job_id}", json=dict(body))


def _created_id(answer: Any, where: str) -> str:
    """The id a create answered with; anything but a non-empty string is refused, never recorded."""
    created = answer.get("id") if isinstance(answer, dict) else None
    if not isinstance(created, str) or not created.strip():
        raise PermanentError(
            f"dronebundle: {where} answered without an id ({str(answer)[:80]!r})", provider="dronebundle"
        )
    return created
