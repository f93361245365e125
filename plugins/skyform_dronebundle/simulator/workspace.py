"""The workspace-level endpoints of the simulated API: team members and webhooks.

``GET /team`` (cursor pagination, ``role`` filter) and ``POST /webhooks`` (name 2-100, an
https url, event types; the signing secret ``dbwhsec_...`` is returned once). Deliveries are
not simulated: the documented receivers are https URLs, and simulators talk to 127.0.0.1 only.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.simulator import Simulator, json_response

from .ids import uuid7

ROLES = ("root", "project_manager", "ops_lead", "pilot", "client")
EVENT_TYPES = tuple(
    f"{subject}.{verb}" for subject in ("project", "job", "job_type") for verb in ("created", "updated", "deleted")
)
SEED_MEMBERS = [
    ("Ana Ops", "root"),
    ("Bo Planner", "project_manager"),
    ("Cy Lead", "ops_lead"),
    ("Di Pilot", "pilot"),
    ("Ed Pilot", "pilot"),
    ("Fi Client", "client"),
]


def workspace_rules(handler: str = "workspace") -> list[Rule]:
    """Fresh routing rules (a werkzeug Rule binds to one Map, i.e. one simulator), served by
    the simulator's ``handler`` attribute."""
    return [
        Rule("/v1/team", methods=["GET"], endpoint=f"{handler}.list_team"),
        Rule("/v1/webhooks", methods=["POST"], endpoint=f"{handler}.create_webhook"),
    ]


def seed_team() -> list[dict[str, Any]]:
    """The members every simulated workspace starts with."""
    return [{"id": f"usr_{i:04d}", "name": name, "role": role} for i, (name, role) in enumerate(SEED_MEMBERS, 1)]


def webhook_error(body: dict[str, Any]) -> str | None:
    """The first broken rule of a create-webhook body."""
    name, url, events = body.get("name"), body.get("url"), body.get("event_types")
    if not (isinstance(name, str) and 2 <= len(name) <= 100):
        return "name must be between 2 and 100 characters"
    if not (isinstance(url, str) and url.startswith("https://") and len(url) > len("https://")):
        return "url must be a valid https URL"
    if not (isinstance(events, list) and events and all(e in EVENT_TYPES for e in events)):
        return "event_types must be a non-empty array of: " + ", ".join(EVENT_TYPES)
    return None


class WorkspaceEndpoints:
    """The team and webhook endpoints, a handler object the simulator composes.

    It keeps its records in the simulator's state, pages lists by ``page_size`` and asks
    ``workspace_of`` which workspace an (authenticated) request's key belongs to.
    """

    def __init__(self, simulator: Simulator, workspace_of: Callable[[Request], str], page_size: int) -> None:
        self.simulator = simulator
        self.workspace_of = workspace_of
        self.page_size = page_size

    @property
    def data(self) -> dict[str, Any]:
        """The simulator's current JSON state (a sandbox reset replaces the dict)."""
        return self.simulator.data

    def list_team(self, request: Request) -> Response:
        """GET /team: members, cursor-paginated, filtered by role."""
        role = request.args.get("role", "all")
        if role not in (*ROLES, "all"):
            return json_response({"message": "role must be one of " + ", ".join((*ROLES, "all"))}, 400)
        members = [m for m in self.data.setdefault("team", seed_team()) if role == "all" or m["role"] == role]
        cursor = request.args.get("cursor")
        if cursor:
            members = [m for m in members if m["id"] > cursor]
        page = members[: self.page_size]
        more = len(members) > self.page_size
        return json_response({"members": page, "count": len(page), "cursor": page[-1]["id"] if more else None})

    def create_webhook(self, request: Request) -> Response:
        """POST /webhooks: 201 with the signing secret, shown once."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return json_response({"message": "Request body must be a JSON object"}, 400)
        message = webhook_error(body)
        if message:
            return json_response({"message": message}, 400)
        hook = {
            "id": uuid7(),
            "name": body["name"],
            "url": body["url"],
            "event_types": list(body["event_types"]),
            "workspace": self.workspace_of(request),
            "created": int(time.time() * 1000),
            "active": True,
        }
        self.data.setdefault("webhooks", {})[hook["id"]] = hook
        shown = {k: v for k, v in hook.items() if k != "workspace"}
        return json_response({**shown, "secret": "dbwhsec_" + secrets.token_hex(24)}, 201)
