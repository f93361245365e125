"""The CVAT simulator: enough of CVAT 2.80's REST API for cvat-sdk to work against it unchanged.

Seeded with an administrator (whose personal access token the sandbox settings carry), three
annotators for assignments and one organisation. The simulator is composed of handler
objects, one per part of the API, each given the others it calls (see ``__init__``):
``_auth`` (credentials, organisation context, visibility), ``_tokens``, ``_projects``
(projects, labels), ``_tasks`` (tasks, media upload, TUS), ``_jobs`` (ground truth,
workflow), ``_requests`` (background requests, export), ``_annotations`` (CRUD and import),
``_views`` (read models), ``_webui`` (the web UI pages objects link to). Routes name their
handler as ``"<handler>.<method>"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.simulator import Simulator, SimulatorOptions

from ._annotations import Annotations
from ._auth import Auth
from ._backups import Backups
from ._blobs import BlobStore
from ._common import SERVER_VERSION, Site, api_response, now, paginate
from ._formats import formats_view
from ._jobs import Jobs
from ._projects import Labels, Projects
from ._requests import Exports, RequestQueue, Requests
from ._tasks import Tasks, Uploads
from ._tokens import AccessTokens
from ._views import Views
from ._webui import WebUI

SANDBOX_TOKEN = "cvat-sandbox-pat-7f3e9c1d2b"
SANDBOX_ADMIN = ("admin", "sandbox-admin-password")
ANNOTATORS = (("alice", "Alice", "Andersen"), ("bob", "Bob", "Berg"), ("carol", "Carol", "Christensen"))
ANNOTATOR_PASSWORD = "sandbox-annotator-password"
KINDS = "<any(projects, tasks, jobs):kind>"
MEDIA_KINDS = "<any(tasks, jobs):kind>"


class CvatSimulator(Simulator):
    """CVAT's REST API on 127.0.0.1, with accelerated background requests and faults."""

    provider = "cvat"
    #: what /api/server/about reports (tests set another to play an older or newer server)
    server_version = SERVER_VERSION

    def __init__(self, options: SimulatorOptions | None = None) -> None:
        state_dir = options.state_dir if options is not None else None
        self.blobs = BlobStore(state_dir / "cvat-blobs" if state_dir is not None else None)
        site = Site(self, self.blobs)
        self.views = Views(site)
        self.queue = RequestQueue(site)
        self.auth = Auth(site, settle=self.queue.settle)
        self.tokens = AccessTokens(site, self.auth, self.views)
        self.uploads = Uploads(site, self.auth)
        self.labels = Labels(site, self.auth, self.views)
        self.jobs = Jobs(site, self.auth, self.views)
        self.tasks = Tasks(site, self.auth, self.labels, self.views, self.uploads, self.queue, self.jobs)
        self.projects = Projects(site, self.auth, self.labels, self.views, self.tasks)
        self.annotations = Annotations(site, self.auth, self.uploads, self.queue)
        self.exports = Exports(site, self.auth, self.queue, self.annotations)
        self.background = Requests(site, self.auth, self.queue)  # `requests` is the base's counter
        self.backups = Backups(site, self.auth, self.queue, self.uploads, self.labels, self.jobs, self.annotations)
        self.webui = WebUI(site)
        super().__init__(options)

    def routes(self) -> Iterable[Rule]:
        get, post = ["GET"], ["POST"]
        return [
            Rule("/api/server/about", endpoint="about", methods=get),
            Rule("/api/server/annotation/formats", endpoint="formats", methods=get),
            Rule("/api/auth/login", endpoint="auth.login", methods=post),
            Rule("/api/auth/logout", endpoint="auth.logout", methods=post),
            Rule("/api/auth/access_tokens", endpoint="tokens.list_tokens", methods=get),
            Rule("/api/auth/access_tokens", endpoint="tokens.create_token", methods=post),
            Rule("/api/auth/access_tokens/self", endpoint="tokens.token_self", methods=get),
            Rule("/api/auth/access_tokens/<int:id>", endpoint="tokens.get_token", methods=get),
            Rule("/api/auth/access_tokens/<int:id>", endpoint="tokens.patch_token", methods=["PATCH"]),
            Rule("/api/auth/access_tokens/<int:id>", endpoint="tokens.delete_token", methods=["DELETE"]),
            Rule("/api/users", endpoint="list_users", methods=get),
            Rule("/api/users/self", endpoint="self_user", methods=get),
            Rule("/api/users/<int:id>", endpoint="get_user", methods=get),
            Rule("/api/labels", endpoint="labels.list_labels", methods=get),
            Rule("/api/labels/<int:id>", endpoint="labels.patch_label", methods=["PATCH"]),
            Rule("/api/projects", endpoint="projects.list_projects", methods=get),
            Rule("/api/projects", endpoint="projects.create_project", methods=post),
            Rule("/api/projects/<int:id>", endpoint="projects.get_project", methods=get),
            Rule("/api/projects/<int:id>", endpoint="projects.patch_project", methods=["PATCH"]),
            Rule("/api/projects/<int:id>", endpoint="projects.delete_project", methods=["DELETE"]),
            Rule("/api/tasks", endpoint="tasks.list_tasks", methods=get),
            Rule("/api/tasks", endpoint="tasks.create_task", methods=post),
            Rule("/api/tasks/<int:id>", endpoint="tasks.get_task", methods=get),
            Rule("/api/tasks/<int:id>", endpoint="tasks.patch_task", methods=["PATCH"]),
            Rule("/api/tasks/<int:id>", endpoint="tasks.delete_task", methods=["DELETE"]),
            Rule("/api/tasks/<int:id>/data/", endpoint="tasks.task_data", methods=post),
            Rule("/api/tasks/<int:id>/data/meta", endpoint="tasks.task_meta", methods=get),
            Rule(f"/api/{MEDIA_KINDS}/<int:id>/data", endpoint="tasks.media_frame", methods=get),
            Rule(
                "/api/tasks/<int:id>/data/<file_id>",
                endpoint="uploads.tus_chunk",
                methods=["PATCH", "HEAD"],
                defaults={"kind": "tasks", "sub": "data"},
            ),
            Rule(
                f"/api/{MEDIA_KINDS}/<int:id>/annotations/",
                endpoint="annotations.annotations",
                methods=["GET", "PUT", "PATCH", "DELETE", "POST"],
            ),
            Rule(
                f"/api/{MEDIA_KINDS}/<int:id>/annotations/<file_id>",
                endpoint="uploads.tus_chunk",
                methods=["PATCH", "HEAD"],
                defaults={"sub": "annotations"},
            ),
            Rule(f"/api/{KINDS}/<int:id>/dataset/export", endpoint="exports.export_dataset", methods=post),
            Rule(f"/api/{KINDS}/<int:id>/dataset/download", endpoint="exports.download_dataset", methods=get),
            Rule(
                "/api/<any(projects, tasks):kind>/<int:id>/backup/export",
                endpoint="backups.export_backup",
                methods=post,
            ),
            Rule(
                "/api/<any(projects, tasks):kind>/<int:id>/backup/download",
                endpoint="backups.download_backup",
                methods=get,
            ),
            Rule("/api/<any(projects, tasks):kind>/backup/", endpoint="backups.import_backup", methods=post),
            Rule(
                "/api/<any(projects, tasks):kind>/backup/<file_id>",
                endpoint="backups.tus_chunk",
                methods=["PATCH", "HEAD"],
            ),
            Rule("/api/jobs", endpoint="jobs.list_jobs", methods=get),
            Rule("/api/jobs", endpoint="jobs.create_job", methods=post),
            Rule("/api/jobs/<int:id>", endpoint="jobs.get_job", methods=get),
            Rule("/api/jobs/<int:id>", endpoint="jobs.patch_job", methods=["PATCH"]),
            Rule("/api/jobs/<int:id>", endpoint="jobs.delete_job", methods=["DELETE"]),
            Rule("/api/requests", endpoint="background.list_requests", methods=get),
            Rule("/api/requests/<path:rq_id>/cancel", endpoint="background.cancel_request", methods=post),
            Rule("/api/requests/<path:rq_id>", endpoint="background.get_request", methods=get),
            # the web UI's pages of an object (what its recorded `url` links to)
            Rule("/projects/<int:id>", endpoint="webui.project_page", methods=get),
            Rule("/tasks/<int:id>", endpoint="webui.task_page", methods=get),
            Rule("/tasks/<int:tid>/jobs/<int:jid>", endpoint="webui.job_page", methods=get),
        ]

    def initial_data(self) -> dict[str, Any]:
        created = now()
        users = {
            "1": {
                "id": 1,
                "username": SANDBOX_ADMIN[0],
                "password": SANDBOX_ADMIN[1],
                "first_name": "Sandbox",
                "last_name": "Admin",
                "email": "admin@sandbox.invalid",
                "groups": ["admin"],
                "is_superuser": True,
                "date_joined": created,
            }
        }
        for i, (name, first, last) in enumerate(ANNOTATORS, 2):
            users[str(i)] = {
                "id": i,
                "username": name,
                "password": ANNOTATOR_PASSWORD,
                "first_name": first,
                "last_name": last,
                "email": f"{name}@sandbox.invalid",
                "groups": ["user"],
                "is_superuser": False,
                "date_joined": created,
            }
        return {
            "users": users,
            "tokens": {},
            "sessions": {},
            "access_tokens": {
                SANDBOX_TOKEN: {
                    "id": 1,
                    "user": 1,
                    "name": "skyform sandbox",
                    "read_only": False,
                    "expiry": None,
                    "created": created,
                    "updated": created,
                }
            },
            "orgs": {"1": {"id": 1, "slug": "skyform", "name": "Skyform sandbox", "owner": 1}},
            "counters": {"access_token": 1},
            "projects": {},
            "tasks": {},
            "jobs": {},
            "labels": {},
            "requests": {},
            "annotations": {},
        }

    def reset(self) -> None:
        with self.lock:
            self.blobs.clear()
        super().reset()

    def settings(self, base_url: str) -> dict[str, Any]:
        return {"url": base_url, "access_token": SANDBOX_TOKEN}

    def objects(self) -> dict[str, int]:
        jobs = list(self.data["jobs"].values())
        # annotation jobs come with their task; counting them would make one create look like many
        return {
            "project": len(self.data["projects"]),
            "task": len(self.data["tasks"]),
            "ground_truth_job": sum(1 for j in jobs if j["type"] == "ground_truth"),
        }

    def server_error(self, request: Request, exc: Exception) -> Response:
        return api_response({"detail": "A server error occurred."}, 500)

    # -- server and users ---------------------------------------------------------------------
    def about(self, request: Request) -> Response:
        """GET ``/api/server/about`` (no auth): the server version the SDK checks."""
        return api_response(
            {
                "name": "Computer Vision Annotation Tool",
                "version": self.server_version,
                "description": "CVAT simulator of the skyform sandbox",
                "logo_url": "",
                "subtitle": "Sandbox",
            }
        )

    def formats(self, request: Request) -> Response:
        """GET ``/api/server/annotation/formats``."""
        self.auth.caller(request)
        return api_response(formats_view())

    def list_users(self, request: Request) -> Response:
        """GET ``/api/users``: everyone, basic fields unless admin."""
        me = self.auth.caller(request)
        users = sorted(self.data["users"].values(), key=lambda u: u["id"])
        for name in ("username", "first_name", "last_name"):
            if request.args.get(name):
                users = [u for u in users if u[name] == request.args[name]]
        if request.args.get("search"):
            needle = request.args["search"].lower()
            users = [
                u
                for u in users
                if needle in u["username"].lower()
                or needle in u["first_name"].lower()
                or needle in u["last_name"].lower()
            ]
        base = request.host_url.rstrip("/")
        return paginate(
            request, users, lambda u: self.views.user_view(base, u, full=me["is_superuser"] or u["id"] == me["id"])
        )

    def self_user(self, request: Request) -> Response:
        """GET ``/api/users/self``."""
        me = self.auth.caller(request)
        return api_response(self.views.user_view(request.host_url.rstrip("/"), me, full=True))

    def get_user(self, request: Request, id: int) -> Response:
        """GET ``/api/users/{id}``."""
        me = self.auth.caller(request)
        user = self.data["users"].get(str(id))
        if user is None:
            return api_response({"detail": "Not found."}, 404)
        return api_response(
            self.views.user_view(request.host_url.rstrip("/"), user, full=me["is_superuser"] or user["id"] == me["id"])
        )
