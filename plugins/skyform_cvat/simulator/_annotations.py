"""Annotations of tasks and jobs: ``GET/PUT/PATCH/DELETE .../annotations/`` and file import.

A task's annotations live in one store; an annotation job sees (and replaces) the part within
its frame range. A ground-truth job has its own store, as in CVAT. Import goes through the
same upload protocol as media (``Upload-Start``/TUS/``Upload-Finish`` with ``format`` and
``filename`` in the query) and runs as a background request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from ._auth import Auth
from ._common import ApiError, Handler, Site, api_response, bad_request, choice_error, json_body
from ._formats import IMPORTERS, ImportFailed, read_annotations
from ._requests import RequestQueue

if TYPE_CHECKING:
    from ._tasks import Uploads

SHAPE_TYPES = ("rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton")


class Annotations(Handler):
    """Annotation CRUD and import for tasks and jobs."""

    def __init__(self, site: Site, auth: Auth, uploads: Uploads, queue: RequestQueue) -> None:
        super().__init__(site)
        self.auth = auth
        self.uploads = uploads
        self.queue = queue
        queue.on_finished("import", self.apply_import)

    def task_label_ids(self, task: dict[str, Any]) -> list[int]:
        """The label ids a task uses: its project's, or its own."""
        if task["project_id"]:
            return list(self.data["projects"][str(task["project_id"])]["labels"])
        return list(task["labels"])

    def _store(self, key: str) -> dict[str, Any]:
        return self.data["annotations"].setdefault(key, {"version": 0, "tags": [], "shapes": [], "tracks": []})

    def annotation_view(self, target: str, job: dict[str, Any] | None, task: dict[str, Any]) -> dict[str, Any]:
        """The LabeledData a task or job shows."""
        if job is not None and job["type"] == "ground_truth":
            store = self._store(f"job:{job['id']}")
            return {**store, "intervals": []}
        store = self._store(f"task:{task['id']}")
        if job is None:
            return {**store, "intervals": []}
        inside = lambda a: job["start_frame"] <= a["frame"] <= job["stop_frame"]  # noqa: E731
        return {
            "version": store["version"],
            "tags": [t for t in store["tags"] if inside(t)],
            "shapes": [s for s in store["shapes"] if inside(s)],
            "tracks": [t for t in store["tracks"] if inside(t)],
            "intervals": [],
        }

    def _target(
        self, request: Request, kind: str, id: int
    ) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
        user = self.auth.caller(request)
        obj = self.auth.fetch(user, kind[:-1], id)
        if kind == "jobs":
            return user, obj, self.data["tasks"][str(obj["task_id"])]
        return user, None, obj

    def _frames_of(self, job: dict[str, Any] | None, task: dict[str, Any]) -> set[int]:
        if job is not None and job.get("frames"):
            return set(job["frames"])
        if job is not None:
            return set(range(job["start_frame"], job["stop_frame"] + 1))
        return set(range(task["media"]["size"])) if task.get("media") else set()

    def _normalise(self, items: list[Any], kind: str, frames: set[int], labels: list[int]) -> list[dict[str, Any]]:
        out = []
        for i, item in enumerate(items):
            where: dict[str, list[Any]] = {kind: [{} for _ in range(i)]}
            if not isinstance(item, dict):
                raise ApiError(400, {kind: [{"non_field_errors": ["Invalid data. Expected a dictionary."]}]})
            missing = [
                f
                for f in (("type", "label_id", "frame") if kind == "shapes" else ("label_id", "frame"))
                if f not in item
            ]
            if missing:
                raise ApiError(400, {kind: where[kind] + [{f: ["This field is required."] for f in missing}]})
            if kind == "shapes" and item["type"] not in SHAPE_TYPES:
                raise ApiError(400, {kind: where[kind] + [{"type": [choice_error(item["type"])]}]})
            if item["frame"] not in frames:
                raise ApiError(400, f"Incorrect requested frame number: {item['frame']}")
            if item["label_id"] not in labels:
                raise ApiError(400, {kind: where[kind] + [{"label_id": [f"Unknown label id {item['label_id']}"]}]})
            row = {
                "id": item.get("id") or self.site.next_id("shape"),
                "frame": item["frame"],
                "label_id": item["label_id"],
                "group": item.get("group") or 0,
                "source": item.get("source", "manual"),
                "attributes": item.get("attributes", []),
            }
            if kind == "shapes":
                row.update(
                    type=item["type"],
                    points=[float(p) for p in item.get("points", [])],
                    occluded=bool(item.get("occluded", False)),
                    outside=bool(item.get("outside", False)),
                    z_order=int(item.get("z_order", 0)),
                    rotation=float(item.get("rotation", 0.0)),
                    score=float(item.get("score", 1.0)),
                    elements=[],
                )
            out.append(row)
        return out

    def _replace(
        self, job: dict[str, Any] | None, task: dict[str, Any], incoming: dict[str, list[Any]], mode: str = "replace"
    ) -> None:
        key = f"job:{job['id']}" if job is not None and job["type"] == "ground_truth" else f"task:{task['id']}"
        store = self._store(key)
        frames = self._frames_of(job, task)
        for name in ("tags", "shapes", "tracks"):
            kept = store[name] if mode == "append" else [a for a in store[name] if a["frame"] not in frames]
            store[name] = kept + incoming.get(name, [])
        store["version"] += 1

    def annotations(self, request: Request, kind: str, id: int) -> Response:
        """GET/PUT/PATCH/DELETE/POST ``/api/{tasks|jobs}/{id}/annotations/``."""
        user, job, task = self._target(request, kind, id)
        if request.method == "GET":
            return api_response(self.annotation_view(kind[:-1], job, task))
        if request.method == "DELETE":
            self._replace(job, task, {})
            return Response(status=204)
        if request.method == "POST":
            return self.import_annotations(request, user, kind, job, task)
        body = json_body(request)
        frames, labels = self._frames_of(job, task), self.task_label_ids(task)
        incoming = {name: self._normalise(body.get(name) or [], name, frames, labels) for name in ("tags", "shapes")}
        if request.method == "PUT":
            self._replace(job, task, incoming)
        else:  # PATCH ?action=create|update|delete
            action = request.args.get("action")
            if action not in ("create", "update", "delete"):
                raise bad_request("action", "Please specify a correct 'action' for the request")
            key = f"job:{job['id']}" if job is not None and job["type"] == "ground_truth" else f"task:{task['id']}"
            store = self._store(key)
            for name in ("tags", "shapes"):
                ids = {a["id"] for a in incoming[name]}
                store[name] = [a for a in store[name] if a["id"] not in ids]
                if action != "delete":
                    store[name] += incoming[name]
            store["version"] += 1
        return api_response(self.annotation_view(kind[:-1], job, task))

    def import_annotations(
        self, request: Request, user: dict[str, Any], kind: str, job: dict[str, Any] | None, task: dict[str, Any]
    ) -> Response:
        """POST ``.../annotations/``: the upload protocol, then an import request (202 rq_id)."""
        target_id = job["id"] if job is not None else task["id"]
        staging = f"staging:annotations:{kind}:{target_id}"
        if "Tus-Resumable" in request.headers and "Upload-Length" in request.headers:
            return self.uploads.tus_create(request, f"/api/{kind}/{target_id}/annotations", staging)
        fmt = request.args.get("format")
        if not fmt:
            raise ApiError(400, {"format": ["This field is required."]})
        if fmt not in IMPORTERS:
            raise ApiError(400, [f"Unknown input format '{fmt}'"])
        if not task.get("media"):
            raise ApiError(400, ["The task has no media data"])
        if "Upload-Start" in request.headers:
            self.blobs[staging] = []
            return Response(status=202)
        if "Upload-Finish" in request.headers:
            filename = request.args.get("filename", "")
            files = [f for f in self.blobs.pop(staging, []) if f[0] == filename]
            if not files:
                raise ApiError(400, [f"No such file were uploaded: {filename}"])
            name, content = files[0]
        elif "annotation_file" in request.files:
            upload = request.files["annotation_file"]
            name, content = upload.filename or "annotations", upload.read()
        else:
            raise ApiError(400, {"annotation_file": ["No file was submitted."]})
        mode = request.args.get("import_mode", "replace")
        rq_id = f"action=import&target={kind[:-1]}&target_id={target_id}&subresource=annotations"
        self.blobs[f"pending:{rq_id}"] = (name, content)
        self.queue.new_request(
            request,
            user,
            rq_id,
            action="import",
            target=kind[:-1],
            target_id=target_id,
            subject=f"Annotations {kind[:-1]} {target_id}",
            duration=5.0,
            params={"format": fmt, "mode": mode},
        )
        return api_response({"rq_id": rq_id}, 202)

    def apply_import(self, rq: dict[str, Any]) -> None:
        """Apply a finished import: parse the file and store its shapes and tags."""
        obj = self.data[rq["target"] + "s"].get(str(rq["target_id"]))
        if obj is None:
            raise ImportFailed(f"The {rq['target']} was deleted during the import")
        job = obj if rq["target"] == "job" else None
        task = self.data["tasks"][str(obj["task_id"])] if job is not None else obj
        name, content = self.blobs[f"pending:{rq['id']}"]
        labels = {self.data["labels"][str(i)]["name"]: i for i in self.task_label_ids(task)}
        names = {f["name"]: n for n, f in enumerate(task["media"]["frames"])}
        parsed = read_annotations(rq["params"]["format"], name, content, names, labels)
        frames = self._frames_of(job, task)
        outside = sorted({a["frame"] for a in parsed["shapes"] + parsed["tags"]} - frames)
        if outside:
            raise ImportFailed(f"Incorrect requested frame number: {outside[0]}")
        incoming = {
            kind: self._normalise(parsed[kind], kind, frames, list(labels.values())) for kind in ("tags", "shapes")
        }
        self._replace(job, task, incoming, rq["params"]["mode"])
