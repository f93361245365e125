"""Task and project backups: ``.../backup/export``, the archive download, and restore.

The archive is laid out as CVAT's ``cvat/apps/engine/backup.py`` writes it (version "1.0"):
a task backup holds ``task.json`` (name, bug_tracker, status, subset, labels with their
attributes, ``data`` settings, ``jobs``), ``annotations.json`` (one LabeledData per annotation
job, labels and attributes by *name*, not id) and ``data/`` (the uploaded images and a
``manifest.jsonl``); a project backup holds ``project.json`` (name, bug_tracker, labels) and
one ``task_<n>/`` folder per task, each a task backup. Restoring (``POST /api/{tasks|
projects}/backup/`` through TUS, as cvat-sdk's ``create_from_backup`` uploads it) makes new
objects with new ids, frames and jobs, and the annotations mapped onto the new labels; the
background request's ``result_id`` is the new object's id.

Longer than 400 lines because the two archive layouts (task and project) are written and
read back here side by side, field for field, so that a difference from CVAT's own
``backup.py`` shows in one file.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from PIL import Image, UnidentifiedImageError
from werkzeug.wrappers import Request, Response

from ._common import ApiError, Handler, Site, api_response, iso, not_found, now
from ._formats import ImportFailed

if TYPE_CHECKING:
    from ._annotations import Annotations
    from ._auth import Auth
    from ._jobs import Jobs
    from ._projects import Labels
    from ._requests import RequestQueue
    from ._tasks import Uploads

VERSION = "1.0"
SHAPE_FIELDS = ("type", "occluded", "outside", "z_order", "points", "rotation", "frame", "group", "source")


class Backups(Handler):
    """Backup export, download and restore of tasks and projects."""

    def __init__(
        self,
        site: Site,
        auth: Auth,
        queue: RequestQueue,
        uploads: Uploads,
        labels: Labels,
        jobs: Jobs,
        annotations: Annotations,
    ) -> None:
        super().__init__(site)
        self.auth, self.queue, self.uploads = auth, queue, uploads
        self.labels, self.jobs, self.annotations = labels, jobs, annotations
        queue.on_finished("backup", self.write_backup)
        queue.on_finished("restore", self.restore)

    # -- export ---------------------------------------------------------------------------
    def export_backup(self, request: Request, kind: str, id: int) -> Response:
        """POST ``/api/{projects|tasks}/{id}/backup/export``: 202 with the request id."""
        user = self.auth.caller(request)
        target = kind[:-1]
        obj = self.auth.fetch(user, target, id)
        if request.args.get("location", "local") != "local":
            raise ApiError(400, {"location": ["The sandbox has no cloud storage; use location=local."]})
        if target == "task" and not obj.get("media"):
            raise ApiError(400, ["Backup of a task without data is not allowed"])
        rq_id = f"action=export&target={target}&target_id={obj['id']}&subresource=backup&user_id={user['id']}"
        existing = self.data["requests"].get(rq_id)
        if existing is not None and existing["status"] is None:
            return api_response({"rq_id": rq_id}, 202)
        self.queue.new_request(
            request,
            user,
            rq_id,
            action="backup",
            target=target,
            target_id=obj["id"],
            subject=f"Backup {target} {obj['id']}",
            duration=5.0,
            params={"filename": request.args.get("filename")},
        )
        return api_response({"rq_id": rq_id}, 202)

    def write_backup(self, rq: dict[str, Any]) -> None:
        """Apply a finished backup export: write the archive and set its download URL."""
        obj = self.data[rq["target"] + "s"].get(str(rq["target_id"]))
        if obj is None:
            raise ImportFailed(f"The {rq['target']} was deleted during the backup")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            if rq["target"] == "task":
                self._write_task(archive, obj, "")
            else:
                tasks = sorted(
                    (t for t in self.data["tasks"].values() if t["project_id"] == obj["id"]), key=lambda t: t["id"]
                )
                for n, task in enumerate(tasks):
                    self._write_task(archive, task, f"task_{n}/")
                project = {
                    "name": obj["name"],
                    "bug_tracker": obj.get("bug_tracker", ""),
                    "labels": self._label_meta(obj["labels"]),
                    "version": VERSION,
                }
                archive.writestr("project.json", json.dumps(project))
        self.blobs[f"backup:{rq['id']}"] = buf.getvalue()
        rq["result_url"] = (
            f"{rq['base']}/api/{rq['target']}s/{rq['target_id']}/backup/download?rq_id={quote(rq['id'], safe='')}"
        )

    def _label_meta(self, label_ids: list[int]) -> list[dict[str, Any]]:
        out = []
        for label_id in label_ids:
            label = self.data["labels"][str(label_id)]
            out.append(
                {
                    "name": label["name"],
                    "color": label["color"],
                    "type": label.get("type", "any"),
                    "attributes": [
                        {k: a[k] for k in ("name", "mutable", "input_type", "default_value", "values")}
                        for a in label["attributes"]
                    ],
                }
            )
        return out

    def _write_task(self, archive: zipfile.ZipFile, task: dict[str, Any], prefix: str) -> None:
        media = task.get("media") or {"size": 0, "frames": [], "image_quality": 70, "chunk_size": 72}
        jobs = sorted(
            (j for j in self.data["jobs"].values() if j["task_id"] == task["id"] and j["type"] == "annotation"),
            key=lambda j: j["id"],
        )
        label_ids = self.annotations.task_label_ids(task)
        manifest = {
            "name": task["name"],
            "bug_tracker": task.get("bug_tracker", ""),
            "status": "annotation",
            "subset": task.get("subset", ""),
            "labels": self._label_meta(label_ids),
            "version": VERSION,
            "segment_size": task["segment_size"],
            "overlap": task["overlap"],
            "data": {
                "chunk_size": media["chunk_size"],
                "image_quality": media["image_quality"],
                "start_frame": 0,
                "stop_frame": max(media["size"] - 1, 0),
                "chunk_type": "imageset",
                "storage_method": "cache",
                "storage": "local",
                "sorting_method": "predefined",
                "deleted_frames": [],
            },
            "jobs": [
                {
                    "start_frame": j["start_frame"],
                    "stop_frame": j["stop_frame"],
                    "frames": [],
                    "status": "annotation",
                    "type": "annotation",
                }
                for j in jobs
            ],
        }
        archive.writestr(prefix + "task.json", json.dumps(manifest))
        names = {label_id: self.data["labels"][str(label_id)] for label_id in label_ids}
        store = self.annotations.annotation_view("task", None, task)
        per_job = []
        for job in jobs:
            first, last = job["start_frame"], job["stop_frame"]
            per_job.append(
                {
                    "version": 0,
                    "tags": [self._by_name(t, names, ()) for t in store["tags"] if first <= t["frame"] <= last],
                    "shapes": [
                        self._by_name(s, names, SHAPE_FIELDS) for s in store["shapes"] if first <= s["frame"] <= last
                    ],
                    "tracks": [],
                }
            )
        archive.writestr(prefix + "annotations.json", json.dumps(per_job))
        lines = [{"version": "1.1"}, {"type": "images"}]
        for n, frame in enumerate(media["frames"]):
            content = self.blobs.get(f"frame:{task['id']}:{n}")
            if content is not None:
                archive.writestr(f"{prefix}data/{frame['name']}", content)
            stem, _, ext = frame["name"].rpartition(".")
            lines.append({"name": stem, "extension": f".{ext}", "width": frame["width"], "height": frame["height"]})
        archive.writestr(prefix + "data/manifest.jsonl", "".join(json.dumps(line) + "\n" for line in lines))

    @staticmethod
    def _by_name(item: dict[str, Any], labels: dict[int, dict[str, Any]], fields: tuple[str, ...]) -> dict[str, Any]:
        """An annotation with its label and attributes by name, as backup.py writes them."""
        label = labels.get(item["label_id"], {"name": "?", "attributes": []})
        specs = {a["id"]: a["name"] for a in label["attributes"]}
        out: dict[str, Any] = {k: item[k] for k in ("frame", "group", "source") if k in item}
        out.update({k: item[k] for k in fields if k in item})
        out["label"] = label["name"]
        out["attributes"] = [
            {"name": specs.get(a.get("spec_id"), str(a.get("spec_id"))), "value": a.get("value")}
            for a in item.get("attributes", [])
        ]
        return out

    def download_backup(self, request: Request, kind: str, id: int) -> Response:
        """GET ``.../backup/download?rq_id=``: the finished archive."""
        user = self.auth.caller(request)
        self.auth.fetch(user, kind[:-1], id)
        rq_id = request.args.get("rq_id", "")
        rq = self.data["requests"].get(rq_id)
        if rq is None or rq["action"] != "backup":
            raise not_found()
        if rq["status"] != "finished":
            raise ApiError(400, ["The backup has not finished yet"])
        archive = self.blobs.get(f"backup:{rq_id}")
        if archive is None:
            raise ApiError(404, {"detail": "The backup file has expired, please retry"})
        obj = self.data[kind].get(str(id)) or {"name": str(id)}
        stamp = (iso(rq["finished"]) or "")[:19].replace(":", "_").replace("-", "_").replace("T", "_")
        name = rq["params"].get("filename") or f"{kind[:-1]}_{obj['name'].lower()}_backup_{stamp}.zip"
        return Response(
            archive,
            status=200,
            mimetype="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # -- restore --------------------------------------------------------------------------
    def import_backup(self, request: Request, kind: str) -> Response:
        """POST ``/api/{tasks|projects}/backup/``: Upload-Start, TUS, Upload-Finish (or one multipart)."""
        user = self.auth.caller(request)
        staging = f"staging:backup:{kind}:{user['id']}"
        if "Tus-Resumable" in request.headers and "Upload-Length" in request.headers:
            return self.uploads.tus_create(request, f"/api/{kind}/backup", staging)
        if "Upload-Start" in request.headers:
            self.blobs[staging] = []
            return Response(status=202)
        if "Upload-Finish" in request.headers:
            files = self.blobs.pop(staging, [])
            wanted = request.args.get("filename")
            content = next((c for name, c in files if name == wanted), None) if wanted else None
            if content is None and files:
                content = files[-1][1]
        else:
            field = "task_file" if kind == "tasks" else "project_file"
            item = request.files.get(field)
            content = item.read() if item is not None else None
        if not content:
            raise ApiError(400, {"detail": "No backup file was uploaded"})
        target = kind[:-1]
        rq_id = f"action=import&target={target}&id={self.site.next_id('backup_import')}&subresource=backup"
        self.blobs[f"pending:{rq_id}"] = content
        self.queue.new_request(
            request,
            user,
            rq_id,
            action="restore",
            target=target,
            target_id=0,
            subject=f"Restore {target}",
            duration=5.0,
            params={"org": self.auth.org_scope(request)},
        )
        return api_response({"rq_id": rq_id}, 202)

    def tus_chunk(self, request: Request, kind: str, file_id: str) -> Response:
        """PATCH/HEAD on the TUS upload of a backup file."""
        return self.uploads.tus_chunk(request, kind=kind, id=0, sub="backup", file_id=file_id)

    def restore(self, rq: dict[str, Any]) -> None:
        """Apply a finished restore: the new task or project, with frames, jobs and annotations."""
        content = self.blobs.get(f"pending:{rq['id']}")
        try:
            archive = zipfile.ZipFile(io.BytesIO(content or b""))
        except zipfile.BadZipFile:
            raise ImportFailed("Invalid backup: the file is not a zip archive") from None
        with archive:
            names = set(archive.namelist())
            owner, org = rq["owner"], rq.get("org")
            if rq["target"] == "task":
                if "task.json" not in names:
                    raise ImportFailed("Invalid backup: task.json was not found in the archive")
                rq["result_id"] = self._restore_task(archive, "", owner, org, None)
                return
            if "project.json" not in names:
                raise ImportFailed("Invalid backup: project.json was not found in the archive")
            meta = self._manifest(archive, "project.json")
            pid = self.site.next_id("project")
            project = {
                "id": pid,
                "name": meta["name"],
                "owner": owner,
                "created": now(),
                "updated": now(),
                "organization": org if isinstance(org, int) else None,
                "bug_tracker": meta.get("bug_tracker", ""),
            }
            project["labels"] = self.labels.make_labels(meta.get("labels", []), project_id=pid)
            self.data["projects"][str(pid)] = project
            folders = sorted(
                {n.split("/", 1)[0] for n in names if n.startswith("task_") and "/" in n},
                key=lambda d: int(d[5:]) if d[5:].isdigit() else 0,
            )
            for folder in folders:
                self._restore_task(archive, folder + "/", owner, project["organization"], pid)
            rq["result_id"] = pid

    @staticmethod
    def _manifest(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
        try:
            meta = json.loads(archive.read(name))
        except (KeyError, ValueError) as exc:
            raise ImportFailed(f"Invalid backup: {name} cannot be read ({exc})") from None
        if not isinstance(meta, dict) or meta.get("version") != VERSION:
            version = meta.get("version") if isinstance(meta, dict) else None
            raise ImportFailed(f"{version} version is not supported")
        return meta

    def _restore_task(self, archive: zipfile.ZipFile, prefix: str, owner: int, org: Any, project_id: int | None) -> int:
        meta = self._manifest(archive, prefix + "task.json")
        tid = self.site.next_id("task")
        data = meta.get("data") or {}
        task: dict[str, Any] = {
            "id": tid,
            "name": meta["name"],
            "project_id": project_id,
            "owner": owner,
            "organization": org if isinstance(org, int) else None,
            "segment_size": int(meta.get("segment_size") or 0),
            "overlap": int(meta.get("overlap") or 0),
            "subset": meta.get("subset", ""),
            "bug_tracker": meta.get("bug_tracker", ""),
            "created": now(),
            "updated": now(),
            "media": None,
            "labels": [],
        }
        if project_id is None:
            task["labels"] = self.labels.make_labels(meta.get("labels", []), task_id=tid)
        self.data["tasks"][str(tid)] = task
        frames, order = [], self._frame_order(archive, prefix)
        for n, name in enumerate(order):
            content = archive.read(f"{prefix}data/{name}")
            try:
                with Image.open(io.BytesIO(content)) as image:
                    width, height = image.size
            except (UnidentifiedImageError, OSError):
                raise ImportFailed(f"Invalid backup: data/{name} is not an image") from None
            self.blobs[f"frame:{tid}:{n}"] = content
            frames.append({"name": name, "width": width, "height": height})
        task["media"] = {
            "id": self.site.next_id("data"),
            "size": len(frames),
            "image_quality": int(data.get("image_quality") or 70),
            "chunk_size": int(data.get("chunk_size") or 72),
            "frames": frames,
            "created": now(),
        }
        self.jobs.make_segments(task)
        self._restore_annotations(archive, prefix, task)
        return tid

    @staticmethod
    def _frame_order(archive: zipfile.ZipFile, prefix: str) -> list[str]:
        """The images of ``data/`` in the manifest's order (else by name)."""
        present = {
            n[len(prefix) + 5 :]
            for n in archive.namelist()
            if n.startswith(prefix + "data/") and not n.endswith("/") and not n.endswith("manifest.jsonl")
        }
        order: list[str] = []
        try:
            for line in archive.read(prefix + "data/manifest.jsonl").decode().splitlines():
                entry = json.loads(line) if line.strip() else {}
                name = f"{entry.get('name')}{entry.get('extension', '')}"
                if "name" in entry and name in present:
                    order.append(name)
        except (KeyError, ValueError):
            pass
        return order + sorted(present - set(order))

    def _restore_annotations(self, archive: zipfile.ZipFile, prefix: str, task: dict[str, Any]) -> None:
        try:
            per_job = json.loads(archive.read(prefix + "annotations.json"))
        except (KeyError, ValueError):
            return
        labels = {
            self.data["labels"][str(i)]["name"]: self.data["labels"][str(i)]
            for i in self.annotations.task_label_ids(task)
        }
        store = self.data["annotations"].setdefault(
            f"task:{task['id']}", {"version": 0, "tags": [], "shapes": [], "tracks": []}
        )
        for job in per_job if isinstance(per_job, list) else []:
            for kind in ("tags", "shapes"):
                for item in job.get(kind, []):
                    label = labels.get(item.get("label"))
                    if label is None:
                        raise ImportFailed(f"Invalid backup: label '{item.get('label')}' is not in task.json")
                    specs = {a["name"]: a["id"] for a in label["attributes"]}
                    row = {k: v for k, v in item.items() if k not in ("label", "attributes")}
                    row.update(
                        id=self.site.next_id("shape"),
                        label_id=label["id"],
                        attributes=[
                            {"spec_id": specs[a["name"]], "value": a.get("value")}
                            for a in item.get("attributes", [])
                            if a.get("name") in specs
                        ],
                    )
                    row.setdefault("group", 0)
                    row.setdefault("source", "manual")
                    if kind == "shapes":
                        row.setdefault("elements", [])
                        row.setdefault("score", 1.0)
                    store[kind].append(row)
        store["version"] += 1
