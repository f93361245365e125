"""The DroneBundle simulator: the documented endpoints over real HTTP on 127.0.0.1.

Routes (base path ``/v1``): projects (list with cursor pagination, create, get, update),
jobs (create, get, update, unassign pilots), team and webhooks (a handler object,
:mod:`.workspace`). Answers are the documented shapes: create ``{"id"}``, update
``{"message": "... updated"}``, 400 ``{"message"}``, 403 ``{"message", "code_name"}``, 404
``{"message"}``, 429 past the per-key limit (a sliding window; the limit and window are
constructor arguments so tests reach them quickly). No list-jobs and no delete endpoints:
the documentation has none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.simulator import Simulator, SimulatorOptions, json_response

from .. import vocabulary as v
from ..schedule import occurrences
from .access import SANDBOX_KEY, SlidingWindow, initial_keys, refusal, retry_after_header
from .ids import uuid7
from .validation import job_error, project_error, today_utc
from .workspace import WorkspaceEndpoints, seed_team, workspace_rules

#: a project every sandbox workspace starts with, so a mission can use a fixed project_id
SANDBOX_PROJECT_ID = "01900000-0000-7000-8000-000000000001"
JOB_TYPES = ["drone_inspection", "thermal_inspection", "3d_mapping", "survey_flight", "lidar_scan"]
PROJECT_FIELDS = ("name", "description", "status", "other_status_reason", "archived")
_REGENERATING = frozenset({"job_pattern", "start_date", "end_date", *v.RECURRING_FIELDS})


class BadRequest(HTTPException):
    """A 400 answer with the API's ``{"message"}`` body (raised from handlers)."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        return json_response({"message": self.message}, 400)


class DroneBundleSimulator(Simulator):
    """Simulated DroneBundle workspace(s): keys, projects, jobs and their occurrences."""

    provider = "dronebundle"
    base_path = "/v1"

    def __init__(
        self,
        options: SimulatorOptions | None = None,
        *,
        rate_limit: int = v.DOCUMENTED_RATE_LIMIT,
        rate_window: float = 60.0,
        page_size: int = 50,
    ) -> None:
        self.workspace = WorkspaceEndpoints(self, self._workspace, page_size)
        super().__init__(options)
        self.window = SlidingWindow(rate_limit, rate_window)
        self.page_size = page_size

    # -- setup -----------------------------------------------------------------------------
    def routes(self) -> Iterable[Rule]:
        return [
            Rule("/v1/projects", methods=["GET"], endpoint="list_projects"),
            Rule("/v1/projects", methods=["POST"], endpoint="create_project"),
            Rule("/v1/projects/<project_id>", methods=["GET"], endpoint="get_project"),
            Rule("/v1/projects/<project_id>", methods=["PATCH"], endpoint="update_project"),
            Rule("/v1/projects/<project_id>/jobs", methods=["POST"], endpoint="create_job"),
            Rule("/v1/projects/<project_id>/jobs/<job_id>", methods=["GET"], endpoint="get_job"),
            Rule("/v1/projects/<project_id>/jobs/<job_id>", methods=["PATCH"], endpoint="update_job"),
            Rule("/v1/projects/<project_id>/jobs/<job_id>/unassign", methods=["POST"], endpoint="unassign"),
            *workspace_rules(),
        ]

    def initial_data(self) -> dict[str, Any]:
        return {
            "keys": initial_keys(),
            "workspaces": {
                "sandbox": {"plan": "enterprise", "job_types": JOB_TYPES},
                "starter": {"plan": "starter", "job_types": JOB_TYPES},
                "other": {"plan": "enterprise", "job_types": JOB_TYPES},
            },
            "projects": {
                SANDBOX_PROJECT_ID: {
                    "id": SANDBOX_PROJECT_ID,
                    "name": "Sandbox project",
                    "description": None,
                    "status": "in_progress",
                    "other_status_reason": None,
                    "archived": False,
                    "created": 1719792000000,
                    "updated": 1719792000000,
                    "workspace": "sandbox",
                }
            },
            "jobs": {},
            "occurrences": {},
            "assignments": {},
            "team": seed_team(),
            "webhooks": {},
        }

    def settings(self, base_url: str) -> dict[str, Any]:
        return {"url": base_url + self.base_path, "api_key": SANDBOX_KEY}

    def objects(self) -> dict[str, int]:
        made = [p for p in self.data["projects"] if p != SANDBOX_PROJECT_ID]  # the seed is a fixture
        return {"project": len(made), "job": len(self.data["jobs"])}

    def not_found(self, request: Request) -> Response:
        return json_response({"message": "Not found"}, 404)

    def server_error(self, request: Request, exc: Exception) -> Response:
        return json_response({"message": "Internal server error"}, 500)

    # -- access: every API request passes the rate limit, then the key checks ----------------
    def dispatch(self, request: Request, environ: dict[str, Any]) -> Response:
        """Rate limit, then key checks, then the route (control paths skip both)."""
        if request.path.startswith("/__sandbox__/"):
            return super().dispatch(request, environ)
        authorization = request.headers.get("Authorization")
        wait = self.window.admit(authorization or request.remote_addr or "anonymous")
        if wait is not None:
            return json_response(
                {"message": "Rate limit exceeded: 1000 requests per minute"},
                429,
                {"Retry-After": retry_after_header(wait)},
            )
        with self.lock:
            refused = refusal(self.data["keys"], self.data["workspaces"], request.method, request.path, authorization)
        if refused is not None:
            code, message = refused
            return json_response({"message": message, "code_name": code}, 403)
        return super().dispatch(request, environ)

    def _workspace(self, request: Request) -> str:
        token = request.headers["Authorization"][len("Bearer ") :].strip()
        return str(self.data["keys"][token]["workspace"])

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise BadRequest("Request body must be valid JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("Request body must be a JSON object")
        return body

    @staticmethod
    def _only(body: dict[str, Any], allowed: Iterable[str]) -> None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise BadRequest(f"Unknown field: {unknown[0]}")

    @staticmethod
    def _millis() -> int:
        return int(time.time() * 1000)

    # -- projects --------------------------------------------------------------------------
    def _project(self, request: Request, project_id: str) -> dict[str, Any] | None:
        project = self.data["projects"].get(project_id)
        if project is None or project["workspace"] != self._workspace(request):
            return None
        return project

    @staticmethod
    def _public_project(project: dict[str, Any]) -> dict[str, Any]:
        return {k: val for k, val in project.items() if k != "workspace"}

    def list_projects(self, request: Request) -> Response:
        """GET /projects: this workspace's projects, cursor-paginated, filtered by status/archived."""
        workspace = self._workspace(request)
        statuses = [s for s in request.args.get("status", "").split(",") if s]
        archived = request.args.get("archived") == "true"
        cursor = request.args.get("cursor")
        rows = sorted(
            (
                p
                for p in self.data["projects"].values()
                if p["workspace"] == workspace
                and bool(p.get("archived")) == archived
                and (not statuses or p.get("status") in statuses)
            ),
            key=lambda p: p["id"],
        )
        if cursor:
            rows = [p for p in rows if p["id"] > cursor]
        page = rows[: self.page_size]
        more = len(rows) > self.page_size
        return json_response(
            {
                "projects": [self._public_project(p) for p in page],
                "count": len(page),
                "cursor": page[-1]["id"] if more else None,
            }
        )

    def create_project(self, request: Request) -> Response:
        """POST /projects: 201 {"id"}."""
        body = self._body(request)
        self._only(body, PROJECT_FIELDS)
        project = {"status": "not_started", "archived": False, "description": None, "other_status_reason": None, **body}
        message = project_error(project)
        if message:
            raise BadRequest(message)
        now = self._millis()
        project.update(id=uuid7(), created=now, updated=now, workspace=self._workspace(request))
        self.data["projects"][project["id"]] = project
        return json_response({"id": project["id"]}, 201)

    def get_project(self, request: Request, project_id: str) -> Response:
        """GET /projects/{id}."""
        project = self._project(request, project_id)
        if project is None:
            return json_response({"message": "Project not found"}, 404)
        return json_response(self._public_project(project))

    def update_project(self, request: Request, project_id: str) -> Response:
        """PATCH /projects/{id}: {"message": "Project updated"}."""
        project = self._project(request, project_id)
        if project is None:
            return json_response({"message": "Project not found"}, 404)
        body = self._body(request)
        self._only(body, PROJECT_FIELDS)
        merged = {**project, **body}
        message = project_error(merged)
        if message:
            raise BadRequest(message)
        project.update(body, updated=self._millis())
        return json_response({"message": "Project updated"})

    # -- jobs ------------------------------------------------------------------------------
    def _job(self, request: Request, project_id: str, job_id: str) -> dict[str, Any] | None:
        if self._project(request, project_id) is None:
            return None
        job = self.data["jobs"].get(job_id)
        return job if job is not None and job["project_id"] == project_id else None

    def create_job(self, request: Request, project_id: str) -> Response:
        """POST /projects/{id}/jobs: validated, 201 {"id"}; occurrences generated."""
        if self._project(request, project_id) is None:
            return json_response({"message": "Project not found"}, 404)
        body = self._body(request)
        self._only(body, v.JOB_FIELDS)
        body.pop("project_id", None)
        job: dict[str, Any] = dict.fromkeys(v.JOB_FIELDS)
        job.update(v.JOB_DEFAULTS)
        job.update({k: val for k, val in body.items() if val is not None})
        job_types = self.data["workspaces"][self._workspace(request)]["job_types"]
        message = job_error(job, body, job_types, today_utc())
        if message:
            raise BadRequest(message)
        now = self._millis()
        job.update(id=uuid7(), project_id=project_id, created=now, updated=now)
        self.data["jobs"][job["id"]] = job
        self.data["occurrences"][job["id"]] = {"generation": 1, "dates": occurrences(job)}
        # no faults.job_fate(): a DroneBundle job has no server-side run that could fail or hang,
        # and drawing would use up job_fail/job_stuck rules meant for other services' jobs
        return json_response({"id": job["id"]}, 201)

    def get_job(self, request: Request, project_id: str, job_id: str) -> Response:
        """GET /projects/{id}/jobs/{jobId}: the whole job, created/updated in epoch ms."""
        job = self._job(request, project_id, job_id)
        if job is None:
            return json_response({"message": "Job not found"}, 404)
        return json_response(job)

    def update_job(self, request: Request, project_id: str, job_id: str) -> Response:
        """PATCH /projects/{id}/jobs/{jobId}: sent fields change, null clears; occurrences regenerated."""
        job = self._job(request, project_id, job_id)
        if job is None:
            return json_response({"message": "Job not found"}, 404)
        body = self._body(request)
        self._only(body, set(v.JOB_FIELDS) - {"project_id"})
        merged = {**job, **body}
        for field, default in v.JOB_DEFAULTS.items():
            if merged.get(field) is None:
                merged[field] = default
        if body.get("job_pattern") == "one_time":  # a one-time job keeps no recurrence
            for field in v.RECURRING_FIELDS:
                if field not in body:
                    merged[field] = None
        job_types = self.data["workspaces"][self._workspace(request)]["job_types"]
        message = job_error(merged, body, job_types, today_utc())
        if message:
            raise BadRequest(message)
        changed = {k for k in body if job.get(k) != merged.get(k)}
        merged["updated"] = self._millis()
        job.update(merged)
        if changed & _REGENERATING:
            record = self.data["occurrences"].setdefault(job_id, {"generation": 0, "dates": []})
            record.update(generation=record["generation"] + 1, dates=occurrences(job))
        return json_response({"message": "Job updated"})

    def unassign(self, request: Request, project_id: str, job_id: str) -> Response:
        """POST /projects/{id}/jobs/{jobId}/unassign: 400 if empty, 404 without such assignments."""
        if self._job(request, project_id, job_id) is None:
            return json_response({"message": "Job not found"}, 404)
        pilots = self._body(request).get("pilots")
        if not isinstance(pilots, list) or not pilots:
            raise BadRequest("pilots must be a non-empty array of user ids")
        assigned = self.data["assignments"].get(job_id, [])
        if not set(pilots) & set(assigned):
            return json_response({"message": "No assignments found for the given pilots"}, 404)
        self.data["assignments"][job_id] = [p for p in assigned if p not in pilots]
        return json_response({"message": "Pilots unassigned"})
