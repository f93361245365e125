"""The simulator's job endpoints: create, get, list, PATCH transitions, delete, progress.

State machine (documented): a job is created ``unsubmitted``; ``PATCH {"state": "active"}``
submits it; ``PATCH {"state": "cancelled"}`` cancels an unsubmitted or active job;
settings and costEstimationParameters can be PATCHed only before submission; DELETE only
works on a job never submitted. Progress and the terminal state come from
:mod:`.processing` and the accelerated clock.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.clock import SimClock
from skyform.sandbox.simulator import Simulator, json_response

from ..pricing import pre_estimate
from . import binding, filters
from .answers import GUID, detail, error, invalid, job_body_details, patch_details
from .processing import estimated_units, iso, snapshot, warnings_for

EMAIL = "sandbox.user@example.com"
LOCATION = "East US"
MAX_TOP = 1000
PROGRESS_KEPT = 30 * 86400.0  # simulated seconds a finished job's progress stays available


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        return int(text.split(":", 1)[1]) if text.startswith("offset:") else None
    except (ValueError, UnicodeDecodeError):
        return None


#: the simulator's check of a request: the 401/429 answer, or None to serve it
Gate = Callable[[Request], Response | None]


def job_routes(p: str, handler: str = "jobs") -> Iterable[Rule]:
    """The job endpoints under API prefix ``p``, served by the simulator's ``handler`` attribute."""
    yield Rule(f"{p}/jobs", methods=["POST"], endpoint=f"{handler}.create_job")
    yield Rule(f"{p}/jobs", methods=["GET"], endpoint=f"{handler}.list_jobs")
    yield Rule(f"{p}/jobs/<jid>", methods=["GET"], endpoint=f"{handler}.get_job")
    yield Rule(f"{p}/jobs/<jid>", methods=["PATCH"], endpoint=f"{handler}.patch_job")
    yield Rule(f"{p}/jobs/<jid>", methods=["DELETE"], endpoint=f"{handler}.delete_job")
    yield Rule(f"{p}/jobs/<jid>/progress", methods=["GET"], endpoint=f"{handler}.job_progress")


class Jobs:
    """The job endpoints of :class:`~.server.ItwinSimulator`, a handler object it composes.

    It reads and writes the simulator's state, clock and faults, and asks ``gate`` (the
    simulator's bearer-token and rate-limit check) before serving any request.
    """

    def __init__(self, simulator: Simulator, gate: Gate) -> None:
        self.simulator = simulator
        self.gate = gate

    @property
    def data(self) -> dict[str, Any]:
        """The simulator's current JSON state (a sandbox reset replaces the dict)."""
        return self.simulator.data

    @property
    def clock(self) -> SimClock:
        """The sandbox clock."""
        return self.simulator.clock

    # -- rendering ----------------------------------------------------------------------
    def render(self, job: dict[str, Any]) -> dict[str, Any]:
        """The documented Job object for a stored job, as of now."""
        snap = snapshot(job, self.clock)
        out = {k: v for k, v in job.items() if not k.startswith("_")}
        out["state"] = snap.state
        settings = dict(job["jobSettings"])
        produced = snap.state == "success"
        settings["outputs"] = [{"format": f, "id": job["_outputIds"][f] if produced else None} for f in job["_formats"]]
        out["jobSettings"] = settings
        if "_submittedAt" in job:
            out["executionInformation"] = {
                "submittedDateTime": iso(job["_submittedAt"]),
                "startedDateTime": iso(snap.started_at) if snap.started_at else None,
                "endedDateTime": iso(snap.ended_at) if snap.ended_at else None,
                "estimatedUnits": estimated_units(job),  # a number: the SDK does float() on it
                "errors": snap.errors or None,
                "warnings": (warnings_for(job) or None) if snap.state == "success" else None,
            }
        return out

    def _job(self, jid: str) -> dict[str, Any] | None:
        return self.data["jobs"].get(jid)

    def _missing(self, jid: str) -> Response:
        return error(404, "JobNotFound", f"Job '{jid}' was not found.")

    # -- handlers -----------------------------------------------------------------------
    def create_job(self, request: Request) -> Response:
        if (denied := self.gate(request)) is not None:
            return denied
        body = binding.bind(request.get_json(force=True, silent=True))
        if not isinstance(body, dict):
            return invalid("Cannot create job.", [detail("body", "The request body is not valid JSON.")])
        problems = job_body_details(body)
        if not problems:
            if body["workspaceId"] not in self.data["workspaces"]:
                problems.append(detail("workspaceId", f"Workspace '{body['workspaceId']}' was not found."))
            problems += [
                detail(f"inputs[{i}].id", f"Invalid 'inputs[{i}].id' parameter: not a reality data id.")
                for i, item in enumerate(body["inputs"])
                if not GUID.match(item["id"])
            ]
        if problems:
            return invalid("Cannot create job.", problems)
        now = self.clock.now()
        settings = body["settings"]
        formats = list(dict.fromkeys(settings["outputs"]))
        job: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "name": body["name"],
            "type": body["type"],
            "state": "unsubmitted",
            "createdDateTime": iso(now),
            "lastModifiedDateTime": iso(now),
            "iTwinId": self.data["workspaces"][body["workspaceId"]]["iTwinId"],
            "location": LOCATION,
            "email": EMAIL,
            "workspaceId": body["workspaceId"],
            "inputs": body["inputs"],
            "jobSettings": {k: v for k, v in settings.items() if k != "outputs"},
            "_formats": formats,
            "_outputIds": {f: str(uuid.uuid4()) for f in formats},
            "_createdAt": now,
            "_fate": self.simulator.faults.job_fate(self.simulator.provider, f"Job {body['name']}"),
        }
        self._set_cost(job, body.get("costEstimationParameters"))
        self.data["jobs"][job["id"]] = job
        return json_response({"job": self.render(job)}, 201)

    def _set_cost(self, job: dict[str, Any], parameters: dict[str, Any] | None) -> None:
        if parameters is None:
            return
        job["costEstimationParameters"] = parameters
        cost = pre_estimate(parameters)
        if cost is None:
            job.pop("estimatedCost", None)
        else:
            job["estimatedCost"] = cost

    def get_job(self, request: Request, jid: str) -> Response:
        if (denied := self.gate(request)) is not None:
            return denied
        job = self._job(jid)
        return self._missing(jid) if job is None else json_response({"job": self.render(job)})

    def job_progress(self, request: Request, jid: str) -> Response:
        if (denied := self.gate(request)) is not None:
            return denied
        job = self._job(jid)
        if job is None:
            return self._missing(jid)
        snap = snapshot(job, self.clock)
        if snap.ended_at is not None and self.clock.elapsed(snap.ended_at) > PROGRESS_KEPT:
            return self._missing(jid)  # documented: progress is gone 30 days after the job
        # the documented example capitalises the state ("Active")
        return json_response(
            {"jobProgress": {"percentage": snap.percentage, "state": snap.state.capitalize(), "step": snap.step}}
        )

    def list_jobs(self, request: Request) -> Response:
        if (denied := self.gate(request)) is not None:
            return denied
        args = request.args
        try:
            top = int(args.get("$top", "100"))
        except ValueError:
            top = 0
        if not 1 <= top <= MAX_TOP:
            return invalid("Cannot list jobs.", [detail("$top", f"'$top' must be between 1 and {MAX_TOP}.")])
        predicate = None
        if args.get("$filter"):
            try:
                predicate = filters.parse(args["$filter"])
            except filters.FilterError as exc:
                return invalid("Cannot list jobs.", [detail("$filter", f"Invalid '$filter' parameter: {exc}.")])
        offset = _offset(args["continuationToken"]) if "continuationToken" in args else 0
        if offset is None:
            return invalid("Cannot list jobs.", [detail("continuationToken")])
        jobs = [self.render(j) for j in sorted(self.data["jobs"].values(), key=lambda j: (j["_createdAt"], j["id"]))]
        matching = [j for j in jobs if predicate is None or predicate(j)]
        page = matching[offset : offset + top]
        body: dict[str, Any] = {"jobs": page, "_links": {}}
        if offset + top < len(matching):
            query = {"$top": str(top), "continuationToken": _token(offset + top)}
            if args.get("$filter"):
                query["$filter"] = args["$filter"]
            body["_links"]["next"] = {"href": f"{request.base_url}?{urlencode(query)}"}
        return json_response(body)

    def patch_job(self, request: Request, jid: str) -> Response:
        if (denied := self.gate(request)) is not None:
            return denied
        job = self._job(jid)
        if job is None:
            return self._missing(jid)
        body = binding.bind(request.get_json(force=True, silent=True))
        if not isinstance(body, dict) or not body:
            return invalid("Cannot update job.", [detail("body", "The request body is empty or not valid JSON.")])
        unknown = sorted(set(body) - {"state", "settings", "costEstimationParameters"})
        problems = [detail(k, f"Unknown '{k}' parameter.") for k in unknown] + patch_details(body)
        if problems:
            return invalid("Cannot update job.", problems)
        current = snapshot(job, self.clock).state
        if ("settings" in body or "costEstimationParameters" in body) and current != "unsubmitted":
            return invalid(
                "Cannot update job.",
                [
                    detail(k, f"'{k}' cannot be modified once the job is {current}.")
                    for k in ("settings", "costEstimationParameters")
                    if k in body
                ],
            )
        if "settings" in body:
            settings = body["settings"]
            job["jobSettings"] = {k: v for k, v in settings.items() if k != "outputs"}
            job["_formats"] = list(dict.fromkeys(settings["outputs"]))
            job["_outputIds"] = {f: job["_outputIds"].get(f) or str(uuid.uuid4()) for f in job["_formats"]}
        self._set_cost(job, body.get("costEstimationParameters"))
        if "state" in body:
            response = self._transition(job, body["state"], current)
            if response is not None:
                return response
        job["lastModifiedDateTime"] = iso(self.clock.now())
        return json_response({"job": self.render(job)})

    def _transition(self, job: dict[str, Any], target: Any, current: str) -> Response | None:
        now = self.clock.now()
        if target == "active" and current == "unsubmitted":
            job["_submittedAt"] = now
            job["state"] = "active"
            return None
        if target == "cancelled" and current in ("unsubmitted", "active"):
            if current == "unsubmitted":
                job["state"] = "cancelled"
            else:
                job["_cancelledAt"] = now
            return None
        if target not in ("active", "cancelled"):
            return invalid(
                "Cannot update job.",
                [
                    detail(
                        "state",
                        "Invalid 'state' parameter: only 'active' (submit) and 'cancelled' (cancel) can be set.",
                    )
                ],
            )
        verb = "submitted" if target == "active" else "cancelled"
        return invalid("Cannot update job.", [detail("state", f"Job cannot be {verb}: its state is '{current}'.")])

    def delete_job(self, request: Request, jid: str) -> Response:
        if (denied := self.gate(request)) is not None:
            return denied
        job = self._job(jid)
        if job is None:
            return self._missing(jid)
        if "_submittedAt" in job:
            return invalid("Cannot delete job.", [detail("id", "A job that has been submitted cannot be deleted.")])
        del self.data["jobs"][jid]
        return Response(status=204)
