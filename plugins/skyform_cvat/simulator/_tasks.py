"""Tasks and their media: ``/api/tasks``, the data upload protocol and TUS uploads.

cvat-sdk uploads local files in CVAT's "TUS" protocol: ``POST .../data/`` with
``Upload-Start`` (202), then small files in bulk (multipart with ``Upload-Multiple``, 200)
and large ones through TUS (``Tus-Resumable`` POST → 201 + ``Location``, ``PATCH`` chunks with
``Upload-Offset``), then ``Upload-Finish`` (202 ``{"rq_id"}``). A plain multipart
``client_files[]`` POST works too. Uploaded bytes live in memory (``self.blobs``). When the
task-creation request finishes, :meth:`Tasks.process_media` decodes the images, stores the
frames and makes the jobs.
"""

from __future__ import annotations

import base64
import io
import uuid
from typing import TYPE_CHECKING, Any

from PIL import Image, UnidentifiedImageError
from werkzeug.wrappers import Request, Response

from ._auth import ALL_ORGS, Auth
from ._common import (
    ApiError,
    Handler,
    Site,
    api_response,
    bad_request,
    by_id_desc,
    int_arg,
    iso,
    json_body,
    named,
    not_found,
    now,
    paginate,
    require_int,
)
from ._formats import ImportFailed
from ._jobs import Jobs
from ._requests import RequestQueue
from ._views import Views

if TYPE_CHECKING:
    from ._projects import Labels

SORTING = ("lexicographical", "natural", "predefined", "random")


class Uploads(Handler):
    """TUS upload sessions (media and annotation files): create, append chunks, report offsets."""

    def __init__(self, site: Site, auth: Auth) -> None:
        super().__init__(site)
        self.auth = auth

    def tus_create(self, request: Request, path: str, staging: str) -> Response:
        """A TUS upload session; its bytes land in ``self.blobs[staging]`` when complete."""
        try:
            length = int(request.headers["Upload-Length"])
        except ValueError:
            raise ApiError(400, {"detail": "Invalid Upload-Length"}) from None
        meta = {}
        for pair in request.headers.get("Upload-Metadata", "").split(","):
            key, _, value = pair.strip().partition(" ")
            if key:
                meta[key] = base64.b64decode(value).decode() if value else ""
        filename = meta.get("filename")
        if not filename:
            raise ApiError(400, {"detail": "Metadata must contain a filename"})
        file_id = str(uuid.uuid4())
        self.blobs[f"tus:{file_id}"] = {
            "length": length,
            "buffer": bytearray(),
            "filename": filename,
            "staging": staging,
        }
        location = f"{request.host_url.rstrip('/')}{path}/{file_id}"
        return Response(
            status=201, headers={"Location": location, "Upload-Filename": filename, "Tus-Resumable": "1.0.0"}
        )

    def tus_chunk(self, request: Request, kind: str, id: int, sub: str, file_id: str) -> Response:
        """PATCH/HEAD on a TUS upload: append a chunk at Upload-Offset, or report the offset."""
        self.auth.caller(request)
        upload = self.blobs.get(f"tus:{file_id}")
        if upload is None:
            raise ApiError(404, {"detail": "Upload not found"})
        headers = {"Tus-Resumable": "1.0.0", "Upload-Offset": str(len(upload["buffer"]))}
        if request.method == "HEAD":
            headers["Upload-Length"] = str(upload["length"])
            return Response(status=200, headers={**headers, "Cache-Control": "no-store"})
        offset = int(request.headers.get("Upload-Offset", "-1"))
        if offset != len(upload["buffer"]):
            return Response(status=409, headers=headers)
        chunk = request.get_data()
        if offset + len(chunk) > upload["length"]:
            raise ApiError(413, {"detail": "Upload-Length exceeded"})
        upload["buffer"] += chunk
        if len(upload["buffer"]) == upload["length"]:
            self.blobs.setdefault(upload["staging"], []).append((upload["filename"], bytes(upload["buffer"])))
            del self.blobs[f"tus:{file_id}"]
        return Response(status=204, headers={"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset + len(chunk))})


class Tasks(Handler):
    """Task CRUD, the media upload protocol, and the media processing when creation finishes."""

    def __init__(
        self, site: Site, auth: Auth, labels: Labels, views: Views, uploads: Uploads, queue: RequestQueue, jobs: Jobs
    ) -> None:
        super().__init__(site)
        self.auth = auth
        self.labels = labels
        self.views = views
        self.uploads = uploads
        self.queue = queue
        self.jobs = jobs
        queue.on_finished("create", self.process_media)

    def list_tasks(self, request: Request) -> Response:
        """GET ``/api/tasks``."""
        user = self.auth.caller(request)
        scope = self.auth.org_scope(request)
        items = [
            t
            for t in self.data["tasks"].values()
            if self.auth.can_see(user, "task", t) and self.auth.in_scope(scope, t)
        ]
        project_id = int_arg(request, "project_id")
        if project_id is not None:
            items = [t for t in items if t["project_id"] == project_id]
        items = named(request, items)
        base = request.host_url.rstrip("/")
        return paginate(request, by_id_desc(items), lambda t: self.views.task_view(base, t))

    def create_task(self, request: Request) -> Response:
        """POST ``/api/tasks``: project_id or labels, segment_size, overlap."""
        user = self.auth.caller(request)
        scope = self.auth.org_scope(request)
        body = json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("name", "This field is required." if not name else "This field may not be blank.")
        segment_size = require_int(body, "segment_size", minimum=0) or 0
        overlap = require_int(body, "overlap", minimum=0)
        project_id = require_int(body, "project_id")
        labels = body.get("labels") or []
        if project_id is not None:
            project = self.data["projects"].get(str(project_id))
            if project is None or not self.auth.can_see(user, "project", project):
                raise bad_request("project_id", f'Invalid pk "{project_id}" - object does not exist.')
            if labels:
                raise ApiError(400, {"non_field_errors": ["Project must have only one of Label set or project_id"]})
            organization = project["organization"]
        else:
            if not labels:
                raise ApiError(400, {"non_field_errors": ["Label set or project_id must be present"]})
            organization = None if scope == ALL_ORGS else scope
        tid = self.site.next_id("task")
        task = {
            "id": tid,
            "name": name,
            "project_id": project_id,
            "owner": user["id"],
            "organization": organization,
            "segment_size": segment_size,
            "overlap": overlap,
            "subset": body.get("subset", ""),
            "bug_tracker": body.get("bug_tracker", ""),
            "created": now(),
            "updated": now(),
            "media": None,
            "labels": [],
        }
        if project_id is None:
            task["labels"] = self.labels.make_labels(labels, task_id=tid)
        self.data["tasks"][str(tid)] = task
        return api_response(self.views.task_view(request.host_url.rstrip("/"), task), 201)

    def get_task(self, request: Request, id: int) -> Response:
        """GET ``/api/tasks/{id}``."""
        user = self.auth.caller(request)
        task = self.auth.fetch(user, "task", id)
        return api_response(self.views.task_view(request.host_url.rstrip("/"), task))

    def patch_task(self, request: Request, id: int) -> Response:
        """PATCH ``/api/tasks/{id}``: name, subset, bug_tracker."""
        user = self.auth.caller(request)
        task = self.auth.fetch(user, "task", id)
        body = json_body(request)
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise bad_request("name", "This field may not be blank.")
            task["name"] = body["name"]
        for field in ("bug_tracker", "subset"):
            if field in body:
                task[field] = str(body[field])
        task["updated"] = now()
        return api_response(self.views.task_view(request.host_url.rstrip("/"), task))

    def delete_task(self, request: Request, id: int) -> Response:
        """DELETE ``/api/tasks/{id}``."""
        user = self.auth.caller(request)
        self.drop_task(self.auth.fetch(user, "task", id))
        return Response(status=204)

    def drop_task(self, task: dict[str, Any]) -> None:
        """Remove a task with its jobs, labels, annotations and media."""
        tid = task["id"]
        for job in [j for j in self.data["jobs"].values() if j["task_id"] == tid]:
            del self.data["jobs"][str(job["id"])]
            self.data["annotations"].pop(f"job:{job['id']}", None)
        for label_id in task["labels"]:
            self.data["labels"].pop(str(label_id), None)
        self.data["annotations"].pop(f"task:{tid}", None)
        for key in [k for k in self.blobs if k.startswith(f"frame:{tid}:")]:
            del self.blobs[key]
        del self.data["tasks"][str(tid)]

    def task_meta(self, request: Request, id: int) -> Response:
        """GET ``/api/tasks/{id}/data/meta``: frame names and sizes."""
        user = self.auth.caller(request)
        task = self.auth.fetch(user, "task", id)
        media = task.get("media")
        if not media:
            raise not_found()
        return api_response(
            {
                "chunks_updated_date": iso(media["created"]),
                "chunk_size": media["chunk_size"],
                "size": media["size"],
                "image_quality": media["image_quality"],
                "start_frame": 0,
                "stop_frame": media["size"] - 1,
                "frame_filter": "",
                "deleted_frames": [],
                "included_frames": None,
                "storage": "local",
                "cloud_storage_id": None,
                "chapters": None,
                "frames": [
                    {
                        "name": f["name"],
                        "width": f["width"],
                        "height": f["height"],
                        "related_files": 0,
                        "has_related_context": False,
                    }
                    for f in media["frames"]
                ],
            }
        )

    def media_frame(self, request: Request, kind: str, id: int) -> Response:
        """``GET .../data?type=frame&number=N``: one frame's image (original bytes in the sandbox)."""
        user = self.auth.caller(request)
        obj = self.auth.fetch(user, kind[:-1], id)
        task = self.data["tasks"][str(obj["task_id"])] if kind == "jobs" else obj
        kind_arg = request.args.get("type")
        if kind_arg not in ("frame", "chunk", "context_image"):
            raise bad_request("type", f'"{kind_arg}" is not a valid choice.' if kind_arg else "This field is required.")
        if kind_arg != "frame":
            raise ApiError(400, ["The sandbox serves single frames only (type=frame)"])
        number = require_int(dict(request.args), "number", minimum=0, required=True) or 0
        first, last = (
            (obj["start_frame"], obj["stop_frame"])
            if kind == "jobs"
            else (0, (task.get("media") or {"size": 0})["size"] - 1)
        )
        content = self.blobs.get(f"frame:{task['id']}:{number}")
        if content is None or not first <= number <= last:
            raise ApiError(400, f"Incorrect requested frame number: {number}")
        return Response(content, status=200, mimetype="image/png" if content[:4] == b"\x89PNG" else "image/jpeg")

    # -- media upload -----------------------------------------------------------------------
    def task_data(self, request: Request, id: int) -> Response:
        """POST ``/api/tasks/{id}/data/``: every step of the media upload protocol."""
        user = self.auth.caller(request)
        task = self.auth.fetch(user, "task", id)
        staging = f"staging:task:{task['id']}"
        if "Tus-Resumable" in request.headers and "Upload-Length" in request.headers:
            return self.uploads.tus_create(request, f"/api/tasks/{task['id']}/data", staging)
        if task.get("media") or self.data["requests"].get(self.create_rq_id(task["id"]), {}).get("status") in (
            "queued",
            "started",
        ):
            raise ApiError(400, {"detail": "Adding more data is not supported"})
        if "Upload-Start" in request.headers:
            self.blobs[staging] = []
            return Response(status=202)
        if "Upload-Multiple" in request.headers:
            files = self.blobs.setdefault(staging, [])
            for key in sorted(request.files, key=_file_index):
                item = request.files[key]
                files.append((item.filename or key, item.read()))
            return api_response({}, 200)
        if "Upload-Finish" in request.headers:
            fields = json_body(request) if request.is_json or not request.form else request.form.to_dict()
            files = self.blobs.pop(staging, [])
            return self.start_task_creation(request, user, task, fields, files)
        # a plain DataRequest: client_files[] in one multipart request
        fields = request.form.to_dict() if request.form or request.files else json_body(request)
        if fields.get("server_files") or fields.get("remote_files") or fields.get("cloud_storage_id"):
            raise bad_request("server_files", "The sandbox has no share or cloud storage; upload client_files.")
        files = [
            (request.files[k].filename or k, request.files[k].read()) for k in sorted(request.files, key=_file_index)
        ]
        return self.start_task_creation(request, user, task, fields, files)

    def start_task_creation(
        self,
        request: Request,
        user: dict[str, Any],
        task: dict[str, Any],
        fields: dict[str, Any],
        files: list[tuple[str, bytes]],
    ) -> Response:
        """Validate the data fields and queue the task-creation request (202 rq_id)."""
        image_quality = require_int(fields, "image_quality", minimum=0, maximum=100, required=True)
        chunk_size = require_int(fields, "chunk_size", minimum=1)
        sorting = fields.get("sorting_method") or "lexicographical"
        if sorting not in SORTING:
            raise bad_request("sorting_method", f'"{sorting}" is not a valid choice.')
        if not files:
            raise ApiError(400, {"non_field_errors": ["No media data found"]})
        if sorting == "predefined" and fields.get("upload_file_order"):
            order = {name: i for i, name in enumerate(fields["upload_file_order"])}
            files.sort(key=lambda f: order.get(f[0].rsplit("/", 1)[-1], len(order)))
        elif sorting != "predefined":
            files.sort(key=lambda f: f[0])
        rq_id = self.create_rq_id(task["id"])
        self.blobs[f"pending:{rq_id}"] = files
        self.queue.new_request(
            request,
            user,
            rq_id,
            action="create",
            target="task",
            target_id=task["id"],
            subject=f"Task {task['name']}",
            duration=5.0 + 0.5 * len(files),
            params={"image_quality": image_quality, "chunk_size": chunk_size or 72},
        )
        return api_response({"rq_id": rq_id}, 202)

    @staticmethod
    def create_rq_id(task_id: int) -> str:
        """CVAT's id of a task's data request."""
        return f"action=create&target=task&target_id={task_id}"

    def process_media(self, rq: dict[str, Any]) -> None:
        """Apply a finished task creation: decode the images, store frames, make the jobs."""
        task = self.data["tasks"].get(str(rq["target_id"]))
        files = self.blobs.get(f"pending:{rq['id']}") or []
        if task is None:
            raise ImportFailed("The task was deleted while its data was being processed")
        frames = []
        for name, content in files:
            try:
                with Image.open(io.BytesIO(content)) as image:
                    width, height = image.size
            except (UnidentifiedImageError, OSError):
                raise ImportFailed(
                    f"File {name.rsplit('/', 1)[-1]}: unsupported media type, expected an image"
                ) from None
            frames.append({"name": name.rsplit("/", 1)[-1], "width": width, "height": height})
        for i, (_, content) in enumerate(files):
            self.blobs[f"frame:{task['id']}:{i}"] = content
        task["media"] = {
            "id": self.site.next_id("data"),
            "size": len(frames),
            "image_quality": rq["params"]["image_quality"],
            "chunk_size": rq["params"]["chunk_size"],
            "frames": frames,
            "created": now(),
        }
        task["updated"] = now()
        self.jobs.make_segments(task)
        rq["result_id"] = task["id"]


def _file_index(key: str) -> int:
    """``client_files[3]`` sorts as 3, so files keep the order the client sent."""
    digits = "".join(ch for ch in key if ch.isdigit())
    return int(digits) if digits else 0
