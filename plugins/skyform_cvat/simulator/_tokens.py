"""Personal access tokens: ``/api/auth/access_tokens`` (create, list, self, get, patch, delete).

The value is shown once, at creation; afterwards only its metadata. A read-only token may
only read (unsafe methods: 403); an expired one is refused (401).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from ._auth import Auth
from ._common import ApiError, Handler, Site, api_response, bad_request, iso, json_body, not_found, now, paginate
from ._views import Views


def _expiry(raw: Any) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise bad_request(
            "expiry_date",
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        ) from None


class AccessTokens(Handler):
    """PAT management for the calling user."""

    def __init__(self, site: Site, auth: Auth, views: Views) -> None:
        super().__init__(site)
        self.auth = auth
        self.views = views

    def token_view(self, base: str, value: str, token: dict[str, Any], *, with_value: bool = False) -> dict[str, Any]:
        """The AccessTokenRead model (the value only right after creation)."""
        out = {
            "id": token["id"],
            "name": token["name"],
            "created_date": iso(token["created"]),
            "updated_date": iso(token["updated"]),
            "expiry_date": iso(token["expiry"]),
            "last_used_date": iso(token.get("last_used")),
            "read_only": token["read_only"],
            "owner": self.views.user_brief(base, token["user"]),
        }
        if with_value:
            out["value"] = value
        return out

    def _own_token(self, request: Request, id: int) -> tuple[dict[str, Any], str, dict[str, Any]]:
        user = self.auth.caller(request)
        for value, token in self.data["access_tokens"].items():
            if token["id"] == id and token["user"] == user["id"]:
                return user, value, token
        raise not_found()

    def create_token(self, request: Request) -> Response:
        """POST ``/api/auth/access_tokens``: a new token, its value shown once."""
        user = self.auth.caller(request)
        body = json_body(request)
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise bad_request("name", "This field is required.")
        expiry = _expiry(body.get("expiry_date"))
        if expiry is not None and expiry <= now():
            raise bad_request("expiry_date", "The expiration date must be in the future.")
        value = secrets.token_urlsafe(32)
        token = {
            "id": self.site.next_id("access_token"),
            "user": user["id"],
            "name": body["name"],
            "read_only": bool(body.get("read_only", False)),
            "expiry": expiry,
            "created": now(),
            "updated": now(),
        }
        self.data["access_tokens"][value] = token
        return api_response(self.token_view(request.host_url.rstrip("/"), value, token, with_value=True), 201)

    def list_tokens(self, request: Request) -> Response:
        """GET ``/api/auth/access_tokens``: the caller's tokens."""
        user = self.auth.caller(request)
        base = request.host_url.rstrip("/")
        mine = sorted(
            ((v, t) for v, t in self.data["access_tokens"].items() if t["user"] == user["id"]),
            key=lambda vt: -vt[1]["id"],
        )
        return paginate(request, mine, lambda vt: self.token_view(base, vt[0], vt[1]))

    def token_self(self, request: Request) -> Response:
        """GET ``/api/auth/access_tokens/self``: the token of this request."""
        self.auth.caller(request)
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        token = self.data["access_tokens"].get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise ApiError(404, {"detail": "The request was not made with an access token."})
        return api_response(self.token_view(request.host_url.rstrip("/"), value, token))

    def get_token(self, request: Request, id: int) -> Response:
        """GET ``/api/auth/access_tokens/{id}``."""
        _, value, token = self._own_token(request, id)
        return api_response(self.token_view(request.host_url.rstrip("/"), value, token))

    def patch_token(self, request: Request, id: int) -> Response:
        """PATCH ``/api/auth/access_tokens/{id}``: name, read_only, expiry_date."""
        _, value, token = self._own_token(request, id)
        body = json_body(request)
        if "name" in body:
            token["name"] = str(body["name"])
        if "read_only" in body:
            token["read_only"] = bool(body["read_only"])
        if "expiry_date" in body:
            token["expiry"] = _expiry(body["expiry_date"])
        token["updated"] = now()
        return api_response(self.token_view(request.host_url.rstrip("/"), value, token))

    def delete_token(self, request: Request, id: int) -> Response:
        """DELETE ``/api/auth/access_tokens/{id}``: the token stops working."""
        _, value, _ = self._own_token(request, id)
        del self.data["access_tokens"][value]
        return Response(status=204)
