"""The fake service: things and jobs over HTTP, with adoption by idempotency key."""

from __future__ import annotations

import uuid
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.simulator import Simulator, json_response

TOKEN = "fake-sandbox-token"


class FakeSimulator(Simulator):
    provider = "fake"

    def routes(self):  # type: ignore[no-untyped-def]
        return [
            Rule("/objects", endpoint="create", methods=["POST"]),
            Rule("/objects", endpoint="list", methods=["GET"]),
            Rule("/objects/<oid>", endpoint="get", methods=["GET"]),
            Rule("/objects/<oid>", endpoint="patch", methods=["PATCH"]),
            Rule("/objects/<oid>", endpoint="delete", methods=["DELETE"]),
            Rule("/objects/<oid>/cancel", endpoint="cancel", methods=["POST"]),
        ]

    def initial_data(self) -> dict[str, Any]:
        return {"objects": {}, "deleted": 0, "creates": 0}

    def settings(self, base_url: str) -> dict[str, Any]:
        return {"url": base_url, "token": TOKEN}

    def objects(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.data["objects"].values():
            out[o["kind"]] = out.get(o["kind"], 0) + 1
        return out

    def _auth(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return json_response({"error": "bad token"}, 401)
        return None

    def _view(self, o: dict[str, Any]) -> dict[str, Any]:
        view = dict(o)
        if o["kind"] == "job" and o["state"] == "running":
            if o.get("fate") == "stuck":
                view["progress"] = 0.5
            else:
                progress = self.clock.elapsed(o["started"]) / max(o.get("duration", 0), 0.001)
                if progress >= 1:
                    o["state"] = view["state"] = "failed" if o.get("fate") == "fail" else "done"
                    self.save()
                view["progress"] = min(progress, 1.0)
        return view

    def create(self, request: Request) -> Response:
        denied = self._auth(request)
        if denied:
            return denied
        body = request.get_json(force=True)
        if body.get("create_error"):
            return json_response({"error": "rejected by the fake service"}, int(body["create_error"]))
        oid = str(uuid.uuid4())
        fate = (
            "fail"
            if body.get("fail")
            else (
                "stuck" if body.get("stuck") else self.faults.job_fate(self.provider, f"{body['kind']} {body['name']}")
            )
        )
        obj = {
            "id": oid,
            "kind": body["kind"],
            "name": body["name"],
            "key": body.get("key"),
            "value": body.get("value"),
            "state": "running" if body["kind"] == "job" else "ready",
            "started": self.clock.now(),
            "duration": float(body.get("duration", 60)),
            "fate": fate,
        }
        self.data["objects"][oid] = obj
        self.data["creates"] += 1
        return json_response(self._view(obj), 201)

    def list(self, request: Request) -> Response:
        denied = self._auth(request)
        if denied:
            return denied
        key = request.args.get("key")
        found = [self._view(o) for o in self.data["objects"].values() if key is None or o.get("key") == key]
        return json_response({"results": found})

    def get(self, request: Request, oid: str) -> Response:
        denied = self._auth(request)
        if denied:
            return denied
        obj = self.data["objects"].get(oid)
        return json_response(self._view(obj)) if obj else json_response({"error": "not found"}, 404)

    def patch(self, request: Request, oid: str) -> Response:
        obj = self.data["objects"].get(oid)
        if obj is None:
            return json_response({"error": "not found"}, 404)
        obj.update({k: v for k, v in request.get_json(force=True).items() if k in ("value", "name")})
        return json_response(self._view(obj))

    def delete(self, request: Request, oid: str) -> Response:
        if self.data["objects"].pop(oid, None) is None:
            return json_response({"error": "not found"}, 404)
        self.data["deleted"] += 1
        return Response(status=204)

    def cancel(self, request: Request, oid: str) -> Response:
        obj = self.data["objects"].get(oid)
        if obj is None:
            return json_response({"error": "not found"}, 404)
        obj["state"] = "cancelled"
        return json_response(obj)
