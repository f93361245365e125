"""A local simulator of the Satellogic Tasking API and its OAuth token endpoint.

Paths, headers and shapes follow the documentation: ``/tasking/products/``,
``/tasking/clients/``, ``/tasking/tasks/`` (create, list, get), captures and cancel, every
list paged with ``limit``/``offset`` and full ``next``/``previous`` URLs; the token endpoint
is ``POST /oauth/token`` and the contracts list ``GET /contracts``. Every API call needs
``authorizationToken: Bearer <token>`` (and ``X-Satellogic-Contract-Id`` when the account
has contracts); anything else is answered 401 ``{"message": "Unauthorized"}``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.simulator import Simulator, SimulatorOptions, json_response

from ..geometry import area_km2
from ..temporal import age_text, parse_age, parse_instant
from . import timeline
from .validation import task_errors, utc

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-client-secret-7f3a"
STATIC_TOKEN = "sandbox-static-token-91c2"
AUDIENCE = "https://api.satellogic.com/"
TOKEN_TTL = 86400  # documented expires_in (simulated seconds)
UNAUTHORIZED = {"message": "Unauthorized"}

PRODUCTS = [
    {"pk": 90, "name": "Some product", "target": "Point"},
    {"pk": 169, "name": "POI Tasking 70cm Multispectral", "target": "Point"},
    {"pk": 178, "name": "AOI Area Coverage", "target": "Polygon"},
]
CLIENT = {
    "name": "Amusement Corp",
    "description": "",
    "contact_name": "John Smith",
    "contact_email": "contact@email.com",
    "geofence": None,
    "min_priority": 15,
    "max_priority": 13,
    "default_priority": 14,
    "date_created": "2023-01-01 10:00:00",
    "last_update": "2023-01-02 10:00:00",
}


class SatellogicSimulator(Simulator):
    """The Tasking API on the accelerated clock; see the module docstring."""

    provider = "satellogic"
    base_path = "/tasking"

    def __init__(
        self,
        options: SimulatorOptions | None = None,
        *,
        clients: list[dict[str, Any]] | None = None,
        contract_id: str | None = None,
        max_limit: int = 1000,
        default_limit: int = 100,
        token_ttl: float = TOKEN_TTL,
    ) -> None:
        self._clients_fixture = clients
        # simulated seconds; tests on a fast clock pass a longer life, so that a token does not
        # expire while a loaded machine runs one test (24 h is 0.4 real seconds at 200,000)
        self.token_ttl = token_ttl
        self._contract = contract_id
        self.max_limit = max_limit
        self.default_limit = default_limit
        super().__init__(options)

    # -- setup --------------------------------------------------------------------------
    def routes(self) -> Iterable[Rule]:
        """The documented endpoints plus the token and contracts endpoints."""
        t = self.base_path
        return [
            Rule("/oauth/token", methods=["POST"], endpoint="issue_token"),
            Rule("/contracts", methods=["GET"], endpoint="list_contracts"),
            Rule(f"{t}/products/", methods=["GET"], endpoint="list_products"),
            Rule(f"{t}/clients/", methods=["GET"], endpoint="get_clients"),
            Rule(f"{t}/client/", methods=["GET"], endpoint="get_clients"),  # the docs' text says /client/
            Rule(f"{t}/tasks/", methods=["GET"], endpoint="list_tasks"),
            Rule(f"{t}/tasks/", methods=["POST"], endpoint="create_task"),
            Rule(f"{t}/tasks/<int:task_id>/", methods=["GET"], endpoint="get_task"),
            Rule(f"{t}/tasks/<int:task_id>/captures/", methods=["GET"], endpoint="list_captures"),
            Rule(f"{t}/tasks/<int:task_id>/cancel/", methods=["PATCH"], endpoint="cancel_task"),
        ]

    def initial_data(self) -> dict[str, Any]:
        """Products, the account client(s), the static sandbox token, no tasks."""
        clients = self._clients_fixture or [dict(CLIENT)]
        return {
            "products": [dict(p) for p in PRODUCTS],
            "clients": [dict(c) for c in clients],
            "tokens": {STATIC_TOKEN: None},
            "tasks": {},
            "next_task_id": 23272,
        }

    def settings(self, base_url: str) -> dict[str, Any]:
        """Client credentials the simulator accepts, pointing at it."""
        # poll every ~10 simulated minutes: the accelerated clock makes the default 15 s too slow
        out = {
            "url": base_url + self.base_path,
            "token_url": base_url + "/oauth/token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "poll_interval": round(max(0.05, 600.0 / self.clock.factor), 3),
        }
        if self._contract:
            out["contract_id"] = self._contract
        return out

    def objects(self) -> dict[str, int]:
        """Live (not canceled) tasks."""
        return {"task": sum(1 for t in self.data["tasks"].values() if t["status"] != "canceled")}

    def expire_tokens(self) -> None:
        """Expire every issued OAuth token (the static sandbox token stays valid)."""
        with self.lock:
            self.data["tokens"] = {k: v for k, v in self.data["tokens"].items() if v is None}

    def _fault_response(self, request: Request, environ: dict[str, Any]) -> Response | None:
        """Faults hit the Tasking API; the token endpoint stands for another service
        (auth.platform.satellogic.com) and only fails under rules that name it."""
        if request.path.startswith("/oauth/") and not any("oauth" in r.match for r in self.faults.rules):
            return None
        return super()._fault_response(request, environ)

    # -- auth ----------------------------------------------------------------------------
    def issue_token(self, request: Request) -> Response:
        """POST /oauth/token: the client-credentials grant."""
        form = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        form = form or {}
        if form.get("grant_type") != "client_credentials":
            return json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Unsupported grant type: " + str(form.get("grant_type")),
                },
                400,
            )
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return json_response({"error": "access_denied", "error_description": "Unauthorized"}, 401)
        if form.get("audience") not in (AUDIENCE, "api"):
            return json_response(
                {
                    "error": "access_denied",
                    "error_description": f"Service not enabled within domain: {form.get('audience')}",
                },
                403,
            )
        token = "sim-" + secrets.token_urlsafe(24)
        self.data["tokens"][token] = self.clock.now()
        return json_response(
            {
                "access_token": token,
                "scope": "api:tasking api:delivery",
                "expires_in": self.token_ttl,
                "token_type": "Bearer",
            }
        )

    def _token_ok(self, request: Request) -> bool:
        header = request.headers.get("authorizationToken", "")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or token not in self.data["tokens"]:
            return False
        issued = self.data["tokens"][token]
        return issued is None or self.clock.elapsed(issued) < self.token_ttl

    def _refused(self, request: Request, contract: bool = True) -> Response | None:
        if not self._token_ok(request):
            return json_response(UNAUTHORIZED, 401)
        if contract and self._contract and request.headers.get("X-Satellogic-Contract-Id") != self._contract:
            return json_response(UNAUTHORIZED, 401)
        return None

    def list_contracts(self, request: Request) -> Response:
        """GET /contracts: the account's contracts (token only, no contract header)."""
        return self._refused(request, contract=False) or json_response(
            [{"contract_id": self._contract, "name": "Sandbox contract"}] if self._contract else []
        )

    # -- paging --------------------------------------------------------------------------
    def _page(self, request: Request, items: list[Any]) -> Response:
        """DRF LimitOffsetPagination: count, next and previous as full URLs."""

        def number(name: str, default: int) -> int:
            try:
                return max(0, int(request.args.get(name, default)))
            except ValueError:
                return default

        limit = min(number("limit", self.default_limit) or self.default_limit, self.max_limit)
        offset = number("offset", 0)
        url = request.base_url

        def link(new_offset: int | None) -> str:
            args = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}
            args["limit"] = str(limit)
            if new_offset:
                args["offset"] = str(new_offset)
            return f"{url}?{urlencode(args)}"

        nxt = link(offset + limit) if offset + limit < len(items) else None
        prev = link(max(0, offset - limit)) if offset > 0 else None
        return json_response(
            {"count": len(items), "next": nxt, "previous": prev, "results": items[offset : offset + limit]}
        )

    # -- account -------------------------------------------------------------------------
    def list_products(self, request: Request) -> Response:
        """GET /tasking/products/."""
        return self._refused(request) or self._page(
            request, [{"pk": p["pk"], "name": p["name"]} for p in self.data["products"]]
        )

    def get_clients(self, request: Request) -> Response:
        """GET /tasking/clients/: the account configuration."""
        refused = self._refused(request)
        if refused:
            return refused
        clients = self.data["clients"]
        # documented: one object for a single-client account; a list when it manages several [I]
        return json_response(clients[0]) if len(clients) == 1 else self._page(request, clients)

    # -- tasks ---------------------------------------------------------------------------
    def _task_client(self, body: Any) -> dict[str, Any] | None:
        clients = self.data["clients"]
        name = body.get("client") if isinstance(body, Mapping) else None
        if name is None:
            return clients[0] if len(clients) == 1 else None
        return next((c for c in clients if c["name"] == name), None)

    def create_task(self, request: Request) -> Response:
        """POST /tasking/tasks/: validate, then store the task with its fate and timeline."""
        refused = self._refused(request)
        if refused:
            return refused
        body = request.get_json(silent=True)
        if body is None:
            return json_response({"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"}, 400)
        client = self._task_client(body)
        now = datetime.now(UTC)
        errors = task_errors(body, self.data["products"], client, self.data["clients"], now)
        if errors:
            return json_response(errors, 400)
        assert client is not None
        task_id = self.data["next_task_id"]
        self.data["next_task_id"] += 1
        start, end = parse_instant(body["start"]), parse_instant(body["end"])
        assert start is not None and end is not None
        target = dict(body["target"])
        if target["type"] == "Point":
            target["coordinates"] = [*target["coordinates"][:2], float((target["coordinates"] + [0.0])[2])]
        task: dict[str, Any] = {
            "task_id": task_id,
            "task_name": body["task_name"],
            "project_name": body["project_name"],
            "product": body["product"],
            "start": utc(start),
            "end": utc(end),
            "priority": body.get("priority", client["default_priority"]),
            "client": client["name"],
            "target": target,
            "created_time": utc(now),
            "status": "received",
            "max_captures": body.get("max_captures", 1),
            "max_simultaneous_captures": body.get("max_simultaneous_captures", body.get("max_captures", 1)),
        }
        period = parse_age(body.get("expected_age"))
        if period is not None:
            task["expected_age"] = age_text(period)
        effective_start = max(start, now)
        task.update(
            {
                "_created": self.clock.now(),
                "_canceled": None,
                "_window_start": effective_start.timestamp(),
                "_window": (end - effective_start).total_seconds(),
                "_period": period.total_seconds() if period else None,
                "_fragments": timeline.fragment_ids(task_id, area_km2(target)) if target["type"] == "Polygon" else None,
                "_fate": self.faults.job_fate(self.provider, f"Task {body['task_name']}"),
            }
        )
        self.data["tasks"][str(task_id)] = task
        return json_response(self._public(task), 201)

    def _observe(self, task: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """The task's status and captures now (frozen at cancellation)."""
        tau = self.clock.elapsed(task["_created"])
        if task["_canceled"] is not None:
            tau -= self.clock.elapsed(task["_canceled"])
        status, captures = timeline.view(task, tau)
        if task["status"] == "canceled":
            status = "canceled"
            captures = [c for c in captures if c["status"] != "queued"]
        base = task["_window_start"]
        for c in captures:
            c["start"] = utc(datetime.fromtimestamp(base + c["start"], UTC))
        return status, captures

    def _public(self, task: dict[str, Any]) -> dict[str, Any]:
        out = {
            k: v
            for k, v in task.items()
            if not k.startswith("_") and k not in ("max_captures", "max_simultaneous_captures")
        }
        out["status"] = self._observe(task)[0] if task["status"] != "canceled" else "canceled"
        return out

    def list_tasks(self, request: Request) -> Response:
        """GET /tasking/tasks/: filtered by project_name and status, paged."""
        refused = self._refused(request)
        if refused:
            return refused
        # the documentation sends the filters as a JSON body on GET; query parameters work too
        filters = {**(request.get_json(silent=True) or {}), **request.args.to_dict()}
        tasks = [self._public(t) for t in sorted(self.data["tasks"].values(), key=lambda t: t["task_id"])]
        for name in ("project_name", "status"):
            if filters.get(name):
                tasks = [t for t in tasks if str(t[name]).lower() == str(filters[name]).lower()]
        return self._page(request, tasks)

    def _task(self, request: Request, task_id: int) -> dict[str, Any] | Response:
        """The stored task, or the answer that refuses the request (401/403, or 404)."""
        refused = self._refused(request)
        if refused:
            return refused
        task = self.data["tasks"].get(str(task_id))
        return task if task else json_response({"detail": "Not found."}, 404)

    def get_task(self, request: Request, task_id: int) -> Response:
        """GET /tasking/tasks/{id}/."""
        task = self._task(request, task_id)
        return task if isinstance(task, Response) else json_response(self._public(task))

    def list_captures(self, request: Request, task_id: int) -> Response:
        """GET /tasking/tasks/{id}/captures/: the captures planned so far, paged."""
        task = self._task(request, task_id)
        return task if isinstance(task, Response) else self._page(request, self._observe(task)[1])

    def cancel_task(self, request: Request, task_id: int) -> Response:
        """PATCH /tasking/tasks/{id}/cancel/."""
        task = self._task(request, task_id)
        if isinstance(task, Response):
            return task
        # Which statuses the real service refuses to cancel is undocumented [I]: only a
        # task canceled already is refused here.
        if task["status"] == "canceled":
            return json_response({"detail": f"Task {task_id} can not be canceled: its status is canceled."}, 400)
        task["status"], task["_canceled"] = "canceled", self.clock.now()
        return json_response(self._public(task))
