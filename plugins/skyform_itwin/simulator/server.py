"""A local simulator of the Bentley ContextCapture v1 API and its OAuth2 token endpoint.

Served paths: ``POST /connect/token`` (IMS client credentials, scope ``itwin-platform``) and,
under ``/contextcapture``: workspaces (create, get, delete) and jobs (create, get, list
with ``$filter``/``$top``/``continuationToken``, PATCH transitions and settings, delete,
progress), and the Reality Management read access to a finished job's outputs with a
blob container serving their bytes (:mod:`.reality`). Every API call needs
``Authorization: Bearer <token from the token endpoint>`` (401 ``HeaderNotFound``
otherwise); bad bodies get the documented 422; request faults (429 with Retry-After, 5xx)
carry the documented error body. The job endpoints are a
handler object, :class:`.jobs.Jobs`, that the simulator composes and routes to as
``jobs.<method>``.
"""

from __future__ import annotations

import math
import secrets
import time
import uuid
from collections import deque
from collections.abc import Iterable
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.simulator import Simulator, SimulatorOptions, json_response

from .answers import GUID, detail, error, invalid
from .jobs import Jobs, job_routes
from .processing import iso
from .reality import Reality, reality_routes

SANDBOX_CLIENT_ID = "skyform-sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-itwin-client-secret"
SCOPE = "itwin-platform"
TOKEN_PATH = "/connect/token"
RATE_PER_MINUTE = 5000  # documented Basic/Premium tier limit (Trial: 500)
TOKEN_LIFETIME = 3600  # real seconds, as IMS issues them
CONTEXTCAPTURE_VERSION = "23.1.0.5055"
SANDBOX_ITWIN = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
SANDBOX_WORKSPACE = "6881117d-9fd2-4900-870b-9b721dc90f25"
_FAULT_CODES = {
    429: (
        "RateLimitExceeded",
        "The client sent more requests than allowed by this API for the current tier of the client.",
    )
}


class ItwinSimulator(Simulator):
    """The iTwin ContextCapture v1 service, faithful to the documented contract."""

    provider = "itwin"
    base_path = "/contextcapture"

    def __init__(self, options: SimulatorOptions | None = None) -> None:
        self.jobs = Jobs(self, self.gate)
        self.reality = Reality(self)
        super().__init__(options)
        self.accept_headers: deque[str] = deque(maxlen=1000)  # what clients sent, for tests of the versioned header
        self.token_requests = 0
        self.tier, self.rate_per_minute = "Basic", RATE_PER_MINUTE
        self.request_times: dict[str, deque[float]] = {}

    def routes(self) -> Iterable[Rule]:
        p = self.base_path
        yield Rule(TOKEN_PATH, methods=["POST"], endpoint="issue_token")
        yield Rule(f"{p}/workspaces", methods=["POST"], endpoint="create_workspace")
        yield Rule(f"{p}/workspaces/<wid>", methods=["GET"], endpoint="get_workspace")
        yield Rule(f"{p}/workspaces/<wid>", methods=["DELETE"], endpoint="delete_workspace")
        yield from job_routes(p)
        yield from reality_routes()  # a finished job's outputs: read access, then their bytes

    def initial_data(self) -> dict[str, Any]:
        # one existing workspace (the documented example's id), so a job spec can name a
        # workspace without creating one first
        workspace = {
            "id": SANDBOX_WORKSPACE,
            "createdDateTime": iso(self.clock.now()),
            "name": "sandbox",
            "iTwinId": SANDBOX_ITWIN,
            "contextCaptureVersion": CONTEXTCAPTURE_VERSION,
        }
        return {"tokens": {}, "workspaces": {SANDBOX_WORKSPACE: workspace}, "jobs": {}}

    def settings(self, base_url: str) -> dict[str, Any]:
        # the documented backoff (15, 30, 60, 120 s) compressed by the sandbox clock
        backoff = [max(0.05, round(s / self.clock.factor, 3)) for s in (15, 30, 60, 120)]
        return {
            "url": base_url + self.base_path,
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "token_url": base_url + TOKEN_PATH,
            "poll_backoff": backoff,
            "reality_url": base_url + "/reality-management",
        }

    def objects(self) -> dict[str, int]:
        """Live workspaces (not counting the pre-made sandbox one) and jobs."""
        workspaces = [w for w in self.data["workspaces"] if w != SANDBOX_WORKSPACE]
        return {"workspace": len(workspaces), "job": len(self.data["jobs"])}

    def not_found(self, request: Request) -> Response:
        return error(404, "ResourceNotFound", f"The requested resource {request.path} was not found.")

    def server_error(self, request: Request, exc: Exception) -> Response:
        return error(500, "InternalServerError", "The server encountered an internal error.")

    def _fault_response(self, request: Request, environ: dict[str, Any]) -> Response | None:
        """Request faults answered with the service's own error body (Retry-After kept).

        The token endpoint stands for IMS, a separate service: API faults do not hit it.
        """
        if request.path == TOKEN_PATH:
            return None
        response = super()._fault_response(request, environ)
        if response is None or response.status_code < 400 or not response.get_data():
            return response
        status = response.status_code
        code, message = _FAULT_CODES.get(
            status, ("ServiceUnavailable" if status >= 500 else "BadRequest", f"The service answered HTTP {status}.")
        )
        headers = {k: v for k, v in response.headers.items() if k == "Retry-After"}
        return error(status, code, message, headers=headers)

    # -- auth ---------------------------------------------------------------------------
    def revoke_tokens(self) -> None:
        """Expire every issued token (as IMS does after an hour): clients must fetch anew."""
        with self.lock:
            self.data["tokens"] = {}
            self.save()

    def issue_token(self, request: Request) -> Response:
        self.token_requests += 1
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        if form.get("client_id") != SANDBOX_CLIENT_ID or form.get("client_secret") != SANDBOX_CLIENT_SECRET:
            return json_response({"error": "invalid_client"}, 400)
        if SCOPE not in (form.get("scope") or "").split():
            return json_response({"error": "invalid_scope"}, 400)
        token = "sbx." + secrets.token_urlsafe(24)
        self.data["tokens"][token] = self.clock.now() + TOKEN_LIFETIME
        return json_response(
            {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer", "scope": SCOPE}
        )

    def gate(self, request: Request) -> Response | None:
        """The 401 (no valid bearer token) or 429 (tier limit) for a request, None to serve it."""
        self.accept_headers.append(request.headers.get("Accept", ""))
        header = request.headers.get("Authorization")
        if not header:
            return error(401, "HeaderNotFound", "Header Authorization was not found in the request. Access denied.")
        scheme, _, token = header.partition(" ")
        expires = self.data["tokens"].get(token)
        if scheme.lower() != "bearer" or expires is None or expires < self.clock.now():
            return error(401, "InvalidToken", "Access token is invalid or has expired. Access denied.")
        return self._rate_limited(token)

    def _rate_limited(self, token: str) -> Response | None:
        """The documented tier limit: requests per real minute per client (Basic tier: 5000)."""
        now = time.monotonic()
        window = self.request_times.setdefault(token, deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) >= self.rate_per_minute:
            wait = max(1, math.ceil(60.0 - (now - window[0])))
            return error(
                429,
                "RateLimitExceeded",
                _FAULT_CODES[429][1],
                headers={"Retry-After": str(wait), "ITwinPlatform-RateLimited-Tier": self.tier},
            )
        window.append(now)
        return None

    # -- workspaces ---------------------------------------------------------------------
    def _workspace(self, wid: str) -> dict[str, Any] | None:
        return self.data["workspaces"].get(wid)

    def create_workspace(self, request: Request) -> Response:
        if (denied := self.gate(request)) is not None:
            return denied
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return invalid("Cannot create workspace.", [detail("body", "The request body is not valid JSON.")])
        problems = [
            detail(k, f"Unknown '{k}' parameter.")
            for k in sorted(set(body) - {"name", "iTwinId", "contextCaptureVersion"})
        ]
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            problems.append(detail("name", "Missing 'name' parameter.", "MissingParameter"))
        itwin = body.get("iTwinId")
        if itwin is not None and (not isinstance(itwin, str) or not GUID.match(itwin)):
            problems.append(detail("iTwinId"))
        if problems:
            return invalid("Cannot create workspace.", problems)
        workspace = {
            "id": str(uuid.uuid4()),
            "createdDateTime": iso(self.clock.now()),
            "name": body["name"],
            "iTwinId": itwin or SANDBOX_ITWIN,
            "contextCaptureVersion": body.get("contextCaptureVersion") or CONTEXTCAPTURE_VERSION,
        }
        self.data["workspaces"][workspace["id"]] = workspace
        return json_response({"workspace": workspace}, 201)

    def get_workspace(self, request: Request, wid: str) -> Response:
        if (denied := self.gate(request)) is not None:
            return denied
        workspace = self._workspace(wid)
        if workspace is None:
            return error(404, "WorkspaceNotFound", f"Workspace '{wid}' was not found.")
        return json_response({"workspace": workspace})

    def delete_workspace(self, request: Request, wid: str) -> Response:
        if (denied := self.gate(request)) is not None:
            return denied
        if self.data["workspaces"].pop(wid, None) is None:
            return error(404, "WorkspaceNotFound", f"Workspace '{wid}' was not found.")
        return Response(status=204)
