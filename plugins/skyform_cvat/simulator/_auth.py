"""Who is calling and what they may see: CVAT's four ways to authenticate, the organisation
context, and the visibility rules every collection shares.

Personal access tokens (``Authorization: Bearer``), legacy tokens from ``/api/auth/login``
(``Authorization: Token``), HTTP Basic, and the session cookie the login sets (unsafe methods
then need ``X-CSRFToken``, as Django enforces). The organisation comes from the
``X-Organization`` header (slug; empty: personal workspace) or the ``org``/``org_id`` query.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from ._common import ApiError, Handler, Site, api_response, forbidden, json_body, not_found, now

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
ALL_ORGS = "all"


class Auth(Handler):
    """Authentication, login/logout, the organisation scope of a request, and who sees what."""

    def __init__(self, site: Site, *, settle: Callable[[], None]) -> None:
        super().__init__(site)
        #: applies finished background requests; every authenticated request runs it first
        self.settle = settle

    def caller(self, request: Request) -> dict[str, Any]:
        """The authenticated user, or the 401/403 answer CVAT gives."""
        self.settle()
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        user_id: int | None = None
        if scheme == "bearer":
            token = self.data["access_tokens"].get(value.strip())
            if token is None:
                raise ApiError(401, {"detail": "Invalid token."})
            if token["expiry"] is not None and token["expiry"] <= now():
                raise ApiError(401, {"detail": "Token has expired."})
            if token["read_only"] and request.method in UNSAFE:
                raise ApiError(403, {"detail": "You do not have permission to perform this action."})
            token["last_used"] = now()
            user_id = token["user"]
        elif scheme == "token":
            user_id = self.data["tokens"].get(value.strip())
            if user_id is None:
                raise ApiError(401, {"detail": "Invalid token."})
        elif scheme == "basic":
            try:
                name, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError(
                    401, {"detail": "Invalid basic header. Credentials not correctly base64 encoded."}
                ) from None
            user = self.user_by_name(name)
            if user is None or user["password"] != password:
                raise ApiError(401, {"detail": "Invalid username/password."})
            user_id = user["id"]
        elif header:
            raise ApiError(401, {"detail": "Authentication credentials were not provided."})
        else:
            session = self.data["sessions"].get(request.cookies.get("sessionid", ""))
            if session is None:
                raise ApiError(401, {"detail": "Authentication credentials were not provided."})
            if request.method in UNSAFE:
                token = request.headers.get("X-CSRFToken")
                if not token:
                    raise ApiError(403, {"detail": "CSRF Failed: CSRF token missing."})
                if token != session["csrf"] or request.cookies.get("csrftoken") != session["csrf"]:
                    raise ApiError(403, {"detail": "CSRF Failed: CSRF token incorrect."})
            user_id = session["user"]
        return self.data["users"][str(user_id)]

    def user_by_name(self, name: str) -> dict[str, Any] | None:
        """The user with this username (or e-mail), or None."""
        for user in self.data["users"].values():
            if user["username"] == name or user["email"] == name:
                return user
        return None

    def org_scope(self, request: Request) -> Any:
        """``ALL_ORGS`` (no context), None (personal workspace) or an organisation id."""
        slug: str | None = request.headers.get("X-Organization")
        if slug is None:
            slug = request.args.get("org")
        if slug is None and request.args.get("org_id") not in (None, ""):
            org_id = request.args["org_id"]
            if org_id not in self.data["orgs"]:
                raise ApiError(404, {"detail": "Not found."})
            return int(org_id)
        if slug is None:
            return ALL_ORGS
        if slug == "":
            return None
        for org in self.data["orgs"].values():
            if org["slug"] == slug:
                return org["id"]
        raise ApiError(404, {"detail": f"Organization '{slug}' does not exist."})

    # -- visibility -------------------------------------------------------------------------
    def can_see(self, user: dict[str, Any], kind: str, obj: dict[str, Any]) -> bool:
        """Admins see everything; others their own objects and what holds a job assigned to them."""
        if user["is_superuser"]:
            return True
        uid = user["id"]
        if kind == "project":
            return obj["owner"] == uid or any(
                self.can_see(user, "task", t) for t in self.data["tasks"].values() if t["project_id"] == obj["id"]
            )
        if kind == "task":
            project = self.data["projects"].get(str(obj["project_id"]))
            return (
                obj["owner"] == uid
                or (project is not None and project["owner"] == uid)
                or any(j["assignee"] == uid for j in self.data["jobs"].values() if j["task_id"] == obj["id"])
            )
        if kind == "job":
            task = self.data["tasks"][str(obj["task_id"])]
            return obj["assignee"] == uid or task["owner"] == uid
        return False

    def in_scope(self, scope: Any, obj: dict[str, Any]) -> bool:
        """Whether an object belongs to the request's organisation scope."""
        return scope == ALL_ORGS or obj["organization"] == scope

    def fetch(self, user: dict[str, Any], kind: str, obj_id: Any) -> dict[str, Any]:
        """One object by id: 404 when absent, 403 when someone else's."""
        obj = self.data[kind + "s"].get(str(obj_id))
        if obj is None:
            raise not_found()
        if not self.can_see(user, kind, obj):
            raise forbidden()
        return obj

    # -- endpoints ------------------------------------------------------------------------
    def login(self, request: Request) -> Response:
        """POST ``/api/auth/login``: a legacy token plus session and CSRF cookies."""
        body = json_body(request)
        name = body.get("username") or body.get("email")
        password = body.get("password")
        if not password:
            raise ApiError(400, {"password": ["This field is required."]})
        user = self.user_by_name(name or "")
        if user is None or user["password"] != password:
            raise ApiError(400, {"non_field_errors": ["Unable to log in with provided credentials."]})
        key = next((k for k, uid in self.data["tokens"].items() if uid == user["id"]), None)
        if key is None:
            key = secrets.token_hex(20)
            self.data["tokens"][key] = user["id"]
        session, csrf = secrets.token_hex(16), secrets.token_hex(16)
        self.data["sessions"][session] = {"user": user["id"], "csrf": csrf}
        user["last_login"] = now()
        response = api_response({"key": key})
        response.set_cookie("csrftoken", csrf, path="/", samesite="Lax")
        response.set_cookie("sessionid", session, path="/", httponly=True, samesite="Lax")
        return response

    def logout(self, request: Request) -> Response:
        """POST ``/api/auth/logout``: end the session."""
        self.data["sessions"].pop(request.cookies.get("sessionid", ""), None)
        response = api_response({"detail": "Successfully logged out."})
        response.delete_cookie("sessionid")
        response.delete_cookie("csrftoken")
        return response
