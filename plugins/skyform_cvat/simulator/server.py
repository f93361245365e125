"""The CVAT simulator: enough of CVAT 2.80's REST API for cvat-sdk to work against it unchanged.

Seeded with an administrator (whose personal access token the sandbox settings carry), three
annotators for assignments and one organisation. See the mixins for each part of the API:
``_auth`` (credentials, organisation context), ``_projects``, ``_tasks`` (media upload, TUS),
``_jobs`` (ground truth, workflow), ``_requests`` (background requests, export),
``_annotations`` (CRUD and import).
"""

from __future__ import annotations

from typing import Any, Iterable

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.simulator import Simulator, SimulatorOptions

from ._annotations import Annotations
from ._auth import Auth
from ._blobs import BlobStore
from ._common import SERVER_VERSION, api_response, now, paginate
from ._formats import formats_view
from ._jobs import Jobs
from ._projects import Projects
from ._requests import Requests
from ._tasks import Tasks
from ._tokens import AccessTokens
from ._views import Views

SANDBOX_TOKEN = "cvat-sandbox-pat-7f3e9c1d2b"
SANDBOX_ADMIN = ("admin", "sandbox-admin-password")
ANNOTATORS = (("alice", "Alice", "Andersen"), ("bob", "Bob", "Berg"), ("carol", "Carol", "Christensen"))
ANNOTATOR_PASSWORD = "sandbox-annotator-password"
KINDS = "<any(projects, tasks, jobs):kind>"
MEDIA_KINDS = "<any(tasks, jobs):kind>"


class CvatSimulator(Views, Auth, AccessTokens, Projects, Tasks, Jobs, Requests, Annotations, Simulator):
    """CVAT's REST API on 127.0.0.1, with accelerated background requests and faults."""

    provider = "cvat"
    #: what /api/server/about reports (tests set another to play an older or newer server)
    server_version = SERVER_VERSION

    def __init__(self, options: SimulatorOptions | None = None) -> None:
        state_dir = options.state_dir if options is not None else None
        self.blobs = BlobStore(state_dir / "cvat-blobs" if state_dir is not None else None)
        super().__init__(options)

    def routes(self) -> Iterable[Rule]:
        get, post = ["GET"], ["POST"]
        return [
            Rule("/api/server/about", endpoint="about", methods=get),
            Rule("/api/server/annotation/formats", endpoint="formats", methods=get),
            Rule("/api/auth/login", endpoint="login", methods=post),
            Rule("/api/auth/logout", endpoint="logout", methods=post),
            Rule("/api/auth/access_tokens", endpoint="list_tokens", methods=get),
            Rule("/api/auth/access_tokens", endpoint="create_token", methods=post),
            Rule("/api/auth/access_tokens/self", endpoint="token_self", methods=get),
            Rule("/api/auth/access_tokens/<int:id>", endpoint="get_token", methods=get),
            Rule("/api/auth/access_tokens/<int:id>", endpoint="patch_token", methods=["PATCH"]),
            Rule("/api/auth/access_tokens/<int:id>", endpoint="delete_token", methods=["DELETE"]),
            Rule("/api/users", endpoint="list_users", methods=get),
            Rule("/api/users/self", endpoint="self_user", methods=get),
            Rule("/api/users/<int:id>", endpoint="get_user", methods=get),
            Rule("/api/labels", endpoint="list_labels", methods=get),
            Rule("/api/projects", endpoint="list_projects", methods=get),
            Rule("/api/projects", endpoint="create_project", methods=post),
            Rule("/api/projects/<int:id>", endpoint="get_project", methods=get),
            Rule("/api/projects/<int:id>", endpoint="patch_project", methods=["PATCH"]),
            Rule("/api/projects/<int:id>", endpoint="delete_project", methods=["DELETE"]),
            Rule("/api/tasks", endpoint="list_tasks", methods=get),
            Rule("/api/tasks", endpoint="create_task", methods=post),
            Rule("/api/tasks/<int:id>", endpoint="get_task", methods=get),
            Rule("/api/tasks/<int:id>", endpoint="patch_task", methods=["PATCH"]),
            Rule("/api/tasks/<int:id>", endpoint="delete_task", methods=["DELETE"]),
            Rule("/api/tasks/<int:id>/data/", endpoint="task_data", methods=post),
            Rule("/api/tasks/<int:id>/data/meta", endpoint="task_meta", methods=get),
            Rule(f"/api/{MEDIA_KINDS}/<int:id>/data", endpoint="media_frame", methods=get),
            Rule("/api/tasks/<int:id>/data/<file_id>", endpoint="tus_chunk", methods=["PATCH", "HEAD"],
                 defaults={"kind": "tasks", "sub": "data"}),
            Rule(f"/api/{MEDIA_KINDS}/<int:id>/annotations/", endpoint="annotations",
                 methods=["GET", "PUT", "PATCH", "DELETE", "POST"]),
            Rule(f"/api/{MEDIA_KINDS}/<int:id>/annotations/<file_id>", endpoint="tus_chunk",
                 methods=["PATCH", "HEAD"], defaults={"sub": "annotations"}),
            Rule(f"/api/{KINDS}/<int:id>/dataset/export", endpoint="export_dataset", methods=post),
            Rule(f"/api/{KINDS}/<int:id>/dataset/download", endpoint="download_dataset", methods=get),
            Rule("/api/jobs", endpoint="list_jobs", methods=get),
            Rule("/api/jobs", endpoint="create_job", methods=post),
            Rule("/api/jobs/<int:id>", endpoint="get_job", methods=get),
            Rule("/api/jobs/<int:id>", endpoint="patch_job", methods=["PATCH"]),
            Rule("/api/jobs/<int:id>", endpoint="delete_job", methods=["DELETE"]),
            Rule("/api/requests", endpoint="list_requests", methods=get),
            Rule("/api/requests/<path:rq_id>/cancel", endpoint="cancel_request", methods=post),
            Rule("/api/requests/<path:rq_id>", endpoint="get_request", methods=get),
        ]

    def initial_data(self) -> dict[str, Any]:
        created = now()
        users = {"1": {"id": 1, "username": SANDBOX_ADMIN[0], "password": SANDBOX_ADMIN[1],
                       "first_name": "Sandbox", "last_name": "Admin", "email": "admin@sandbox.invalid",
                       "groups": ["admin"], "is_superuser": True, "date_joined": created}}
        for i, (name, first, last) in enumerate(ANNOTATORS, 2):
            users[str(i)] = {"id": i, "username": name, "password": ANNOTATOR_PASSWORD, "first_name": first,
                             "last_name": last, "email": f"{name}@sandbox.invalid", "groups": ["user"],
                             "is_superuser": False, "date_joined": created}
        return {"users": users, "tokens": {}, "sessions": {},
                "access_tokens": {SANDBOX_TOKEN: {"id": 1, "user": 1, "name": "skyform sandbox", "read_only": False,
                                                  "expiry": None, "created": created, "updated": created}},
                "orgs": {"1": {"id": 1, "slug": "skyform", "name": "Skyform sandbox", "owner": 1}},
                "counters": {"access_token": 1}, "projects": {}, "tasks": {}, "jobs": {}, "labels": {}, "requests": {},
                "annotations": {}}

    def reset(self) -> None:
        with self.lock:
            self.blobs.clear()
        super().reset()

    def settings(self, base_url: str) -> dict[str, Any]:
        return {"url": base_url, "access_token": SANDBOX_TOKEN}

    def objects(self) -> dict[str, int]:
        jobs = list(self.data["jobs"].values())
        # annotation jobs come with their task; counting them would make one create look like many
        return {"project": len(self.data["projects"]), "task": len(self.data["tasks"]),
                "ground_truth_job": sum(1 for j in jobs if j["type"] == "ground_truth")}

    def server_error(self, request: Request, exc: Exception) -> Response:
        return api_response({"detail": "A server error occurred."}, 500)

    # -- server and users ---------------------------------------------------------------------
    def about(self, request: Request) -> Response:
        """GET ``/api/server/about`` (no auth): the server version the SDK checks."""
        return api_response({"name": "Computer Vision Annotation Tool", "version": self.server_version,
                             "description": "CVAT simulator of the skyform sandbox", "logo_url": "",
                             "subtitle": "Sandbox"})

    def formats(self, request: Request) -> Response:
        """GET ``/api/server/annotation/formats``."""
        self.caller(request)
        return api_response(formats_view())

    def list_users(self, request: Request) -> Response:
        """GET ``/api/users``: everyone, basic fields unless admin."""
        me = self.caller(request)
        users = sorted(self.data["users"].values(), key=lambda u: u["id"])
        for name in ("username", "first_name", "last_name"):
            if request.args.get(name):
                users = [u for u in users if u[name] == request.args[name]]
        if request.args.get("search"):
            needle = request.args["search"].lower()
            users = [u for u in users if needle in u["username"].lower() or needle in u["first_name"].lower()
                     or needle in u["last_name"].lower()]
        base = request.host_url.rstrip("/")
        return paginate(request, users, lambda u: self.user_view(base, u, full=me["is_superuser"] or u["id"] == me["id"]))

    def self_user(self, request: Request) -> Response:
        """GET ``/api/users/self``."""
        me = self.caller(request)
        return api_response(self.user_view(request.host_url.rstrip("/"), me, full=True))

    def get_user(self, request: Request, id: int) -> Response:
        """GET ``/api/users/{id}``."""
        me = self.caller(request)
        user = self.data["users"].get(str(id))
        if user is None:
            return api_response({"detail": "Not found."}, 404)
        return api_response(self.user_view(request.host_url.rstrip("/"), user,
                                           full=me["is_superuser"] or user["id"] == me["id"]))
