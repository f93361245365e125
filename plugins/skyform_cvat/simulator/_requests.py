"""Background requests (``/api/requests``): task creation, dataset export, annotation import.

A request stores its real creation time and a simulated duration; its status is derived from
the clock when read (queued for the first simulated second, then started with progress, then
finished or failed). Effects (frames and jobs of a new task, an export archive, imported
shapes) are applied once, by ``settle()``, which every authenticated request runs first; the
handler that queues an action registers its effect with :meth:`RequestQueue.on_finished`.
``faults.job_fate`` decides at creation whether a request fails halfway or never ends.

Longer than 400 lines because the request life cycle and the three effects it applies
(task data, exports, imports) share one queue and clock; the formatter's layout took it
past the limit. The effects are the candidates to move beside the handlers that queue them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from ._common import ApiError, Handler, Site, api_response, int_arg, iso, not_found, now, paginate, truthy
from ._formats import EXPORTERS, Frame, ImportFailed, Label, Meta, write_archive

if TYPE_CHECKING:
    from ._annotations import Annotations
    from ._auth import Auth

#: what happens when a background request of one action finishes; ImportFailed fails it
Effect = Callable[[dict[str, Any]], None]

QUEUED_FOR = 1.0  # simulated seconds a request waits in the queue
FAILURES = {
    "create": "Failed to process media data: the worker was lost while decoding the images",
    "export": "Could not export the dataset: the export worker terminated unexpectedly",
    "import": "Could not import annotations: the import worker terminated unexpectedly",
    "backup": "Could not create the backup: the export worker terminated unexpectedly",
    "restore": "Could not restore the backup: the import worker terminated unexpectedly",
}
OPERATION_TYPES = {
    "create": "create:task",
    "export": "export:dataset",
    "import": "import:annotations",
    "backup": "export:backup",
    "restore": "import:backup",
}


class RequestQueue(Handler):
    """The background-request queue: requests, their clock-derived status, and their effects."""

    def __init__(self, site: Site) -> None:
        super().__init__(site)
        self._effects: dict[str, Effect] = {}

    def on_finished(self, action: str, effect: Effect) -> None:
        """Register what a finished request of ``action`` (create, export, import) does."""
        self._effects[action] = effect

    def new_request(
        self,
        request: Request,
        user: dict[str, Any],
        rq_id: str,
        *,
        action: str,
        target: str,
        target_id: int,
        subject: str,
        duration: float,
        params: dict[str, Any],
    ) -> None:
        """Queue a background request; its fate (ok, fail, stuck) is drawn now."""
        fate = self.site.faults.job_fate(self.site.provider, subject)
        obj = self.data[target + "s"].get(str(target_id))
        if obj is None:  # a restore: its object does not exist yet
            org = params.get("org") if isinstance(params.get("org"), int) else None
        else:
            task = self.data["tasks"].get(str(obj["task_id"])) if target == "job" else obj
            org = task["organization"] if task else obj.get("organization")
        self.data["requests"][rq_id] = {
            "id": rq_id,
            "action": action,
            "target": target,
            "target_id": target_id,
            "owner": user["id"],
            "org": org,
            "created": now(),
            "duration": duration,
            "fate": fate,
            "status": None,
            "message": "",
            "finished": None,
            "result_url": None,
            "result_id": None,
            "params": params,
            "base": request.host_url.rstrip("/"),
        }

    def settle(self) -> None:
        """Apply the effects of every request whose simulated time has come."""
        for rq in self.data["requests"].values():
            if rq["status"] is not None:
                continue
            elapsed = self.site.clock.elapsed(rq["created"])
            if rq["fate"] == "fail" and elapsed >= QUEUED_FOR + rq["duration"] / 2:
                self.finish(rq, "failed", FAILURES[rq["action"]])
            elif rq["fate"] == "ok" and elapsed >= QUEUED_FOR + rq["duration"]:
                try:
                    self._effects[rq["action"]](rq)
                except ImportFailed as exc:
                    self.finish(rq, "failed", str(exc))
                else:
                    self.finish(rq, "finished", "")

    def finish(self, rq: dict[str, Any], status: str, message: str) -> None:
        """Give a request its final status and message."""
        rq.update(status=status, message=message, finished=now())
        self.blobs.pop(f"pending:{rq['id']}", None)

    def request_view(self, rq: dict[str, Any]) -> dict[str, Any]:
        """The Request read model, with status and progress derived from the clock."""
        elapsed = self.site.clock.elapsed(rq["created"])
        status = rq["status"] or ("queued" if elapsed < QUEUED_FOR else "started")
        progress: float | None = None
        if status == "started":
            progress = round(min((elapsed - QUEUED_FOR) / rq["duration"], 0.5 if rq["fate"] == "stuck" else 0.99), 2)
        elif status == "finished":
            progress = 1.0
        owner = self.data["users"][str(rq["owner"])]
        target = rq["target"]
        ids: dict[str, Any] = {"project_id": None, "task_id": None, "job_id": None}
        ids[f"{target}_id"] = rq["target_id"] or rq["result_id"]
        started = rq["created"] + self.site.clock.real(QUEUED_FOR) if status != "queued" else None
        op_type = OPERATION_TYPES[rq["action"]]
        return {
            "id": rq["id"],
            "status": status,
            "message": rq["message"],
            "progress": progress,
            "operation": {
                "type": op_type,
                "target": target,
                **ids,
                "org_id": rq["org"],
                "format": rq["params"].get("format"),
                "function_id": None,
                "lightweight": None,
            },
            "created_date": iso(rq["created"]),
            "started_date": iso(started),
            "finished_date": iso(rq["finished"]),
            "expiry_date": iso(rq["finished"] + 86400) if rq["finished"] else None,
            "owner": {"id": owner["id"], "username": owner["username"]},
            "result_url": rq["result_url"],
            "result_id": rq["result_id"],
        }


class Requests(Handler):
    """``/api/requests``: list, get and cancel the caller's background requests."""

    def __init__(self, site: Site, auth: Auth, queue: RequestQueue) -> None:
        super().__init__(site)
        self.auth = auth
        self.queue = queue

    def list_requests(self, request: Request) -> Response:
        """GET ``/api/requests``: the caller's requests, filtered."""
        user = self.auth.caller(request)
        items = [rq for rq in self.data["requests"].values() if user["is_superuser"] or rq["owner"] == user["id"]]
        views = [self.queue.request_view(rq) for rq in sorted(items, key=lambda r: -r["created"])]
        for name in ("status", "action", "target", "subresource"):
            wanted = request.args.get(name)
            if wanted:
                views = [v for v in views if _facet(v, name) == wanted]
        for name in ("project_id", "task_id", "job_id"):
            wanted_id = int_arg(request, name)
            if wanted_id is not None:
                views = [v for v in views if v["operation"][name] == wanted_id]
        return paginate(request, views, lambda v: v)

    def get_request(self, request: Request, rq_id: str) -> Response:
        """GET ``/api/requests/{rq_id}``."""
        user = self.auth.caller(request)
        rq = self.data["requests"].get(rq_id)
        if rq is None or not (user["is_superuser"] or rq["owner"] == user["id"]):
            raise not_found()
        return api_response(self.queue.request_view(rq))

    def cancel_request(self, request: Request, rq_id: str) -> Response:
        """POST ``/api/requests/{rq_id}/cancel``: queued requests only."""
        user = self.auth.caller(request)
        rq = self.data["requests"].get(rq_id)
        if rq is None or not (user["is_superuser"] or rq["owner"] == user["id"]):
            raise not_found()
        if self.queue.request_view(rq)["status"] != "queued":
            raise ApiError(
                400,
                [
                    f"Only requests that have not yet been started can be cancelled. "
                    f"The current request status: {self.queue.request_view(rq)['status']}"
                ],
            )
        del self.data["requests"][rq_id]
        return Response(status=200)


class Exports(Handler):
    """Dataset export of projects, tasks and jobs: start a request, write the archive, download it."""

    def __init__(self, site: Site, auth: Auth, queue: RequestQueue, annotations: Annotations) -> None:
        super().__init__(site)
        self.auth = auth
        self.queue = queue
        self.annotations = annotations
        queue.on_finished("export", self.write_archive)

    def export_dataset(self, request: Request, kind: str, id: int) -> Response:
        """POST ``/api/{projects|tasks|jobs}/{id}/dataset/export``: 202 with the request id."""
        user = self.auth.caller(request)
        target = kind[:-1]
        obj = self.auth.fetch(user, target, id)
        fmt = request.args.get("format")
        if not fmt:
            raise ApiError(400, {"format": ["This field is required."]})
        if fmt not in EXPORTERS:
            raise ApiError(400, [f"Unknown format specified for the request: '{fmt}'"])
        if request.args.get("location", "local") != "local":
            raise ApiError(400, {"location": ["The sandbox has no cloud storage; use location=local."]})
        frames = self.export_frames(target, obj)
        if not frames:
            raise ApiError(400, [f"The {target} has no media data"])
        save_images = truthy(request.args.get("save_images"))
        rq_id = (
            f"action=export&target={target}&target_id={obj['id']}&subresource=dataset"
            f"&user_id={user['id']}&format={fmt}&save_images={str(save_images).lower()}"
        )
        existing = self.data["requests"].get(rq_id)
        if existing is not None and existing["status"] is None:
            return api_response({"rq_id": rq_id}, 202)  # the same export is already on its way
        self.queue.new_request(
            request,
            user,
            rq_id,
            action="export",
            target=target,
            target_id=obj["id"],
            subject=f"Export {target} {obj['id']}",
            duration=10.0 + 0.2 * len(frames) + (0.5 * len(frames) if save_images else 0),
            params={"format": fmt, "save_images": save_images, "filename": request.args.get("filename")},
        )
        return api_response({"rq_id": rq_id}, 202)

    def export_frames(self, target: str, obj: dict[str, Any]) -> list[tuple[dict[str, Any], int, int]]:
        """(task, first frame, last frame) spans an export of a project, task or job covers."""
        if target == "project":
            tasks = [t for t in self.data["tasks"].values() if t["project_id"] == obj["id"] and t.get("media")]
            return [(t, 0, t["media"]["size"] - 1) for t in tasks]
        if target == "task":
            return [(obj, 0, obj["media"]["size"] - 1)] if obj.get("media") else []
        task = self.data["tasks"][str(obj["task_id"])]
        return [(task, obj["start_frame"], obj["stop_frame"])]

    def write_archive(self, rq: dict[str, Any]) -> None:
        """Apply a finished export: write the archive and set its download URL."""
        obj = self.data[rq["target"] + "s"].get(str(rq["target_id"]))
        if obj is None:
            raise ImportFailed(f"The {rq['target']} was deleted during the export")
        frames: list[Frame] = []
        labels: dict[int, Label] = {}
        merged: dict[str, list[Any]] = {"shapes": [], "tags": []}
        task_metas: list[Meta] = []
        for task, first, last in self.export_frames(rq["target"], obj):
            offset = len(frames) if rq["target"] == "project" else 0
            wanted = set(obj["frames"]) if rq["target"] == "job" and obj.get("frames") else None
            for n in range(first, last + 1):
                if wanted is not None and n not in wanted:
                    continue
                meta = task["media"]["frames"][n]
                content = self.blobs.get(f"frame:{task['id']}:{n}") if rq["params"]["save_images"] else None
                frames.append(
                    Frame(
                        offset + n,
                        meta["name"],
                        meta["width"],
                        meta["height"],
                        content,
                        task_id=task["id"],
                        subset=task.get("subset") or "default",
                    )
                )
            for label_id in self.annotations.task_label_ids(task):
                raw = self.data["labels"][str(label_id)]
                labels[label_id] = Label(
                    label_id,
                    raw["name"],
                    raw.get("color", "#000000"),
                    raw.get("type", "any"),
                    list(raw.get("attributes", [])),
                )
            store = self.annotations.annotation_view(rq["target"], obj if rq["target"] == "job" else None, task)
            for key in ("shapes", "tags"):
                merged[key] += [{**a, "frame": a["frame"] + offset} for a in store[key]]
            task_metas.append(self._meta("task", task, rq["base"], labels, first, last))
        if rq["target"] == "project":
            meta = Meta(
                "project",
                {
                    "id": str(obj["id"]),
                    "name": obj["name"],
                    "created": iso(obj["created"]) or "",
                    "updated": iso(obj["updated"]) or "",
                },
                list(labels.values()),
                tasks=task_metas,
            )
        elif rq["target"] == "job":
            task = self.data["tasks"][str(obj["task_id"])]
            meta = self._meta("job", task, rq["base"], labels, obj["start_frame"], obj["stop_frame"], job=obj)
        else:
            meta = task_metas[0]
        meta.dumped = (iso(now()) or "").replace("T", " ").replace("Z", "+00:00")
        archive = write_archive(rq["params"]["format"], frames, labels, merged, rq["params"]["save_images"], meta)
        self.blobs[f"export:{rq['id']}"] = archive
        rq["result_url"] = (
            f"{rq['base']}/api/{rq['target']}s/{rq['target_id']}/dataset/download?rq_id={quote(rq['id'], safe='')}"
        )

    def _meta(
        self,
        kind: str,
        task: dict[str, Any],
        base: str,
        labels: dict[int, Label],
        first: int,
        last: int,
        job: dict[str, Any] | None = None,
    ) -> Meta:
        """The ``<meta>`` of a task (or one of its jobs), in CVAT's field order."""
        jobs = sorted(
            (j for j in self.data["jobs"].values() if j["task_id"] == task["id"] and j["type"] == "annotation"),
            key=lambda j: j["start_frame"],
        )
        if job is not None:
            jobs = [job]
        owner = self.data["users"].get(str(task["owner"]), {})
        fields = {
            "id": str(job["id"] if job else task["id"]),
            "size": str(last - first + 1),
            "mode": "annotation",
            "overlap": str(task["overlap"]),
            "bugtracker": task.get("bug_tracker", ""),
            "created": iso(task["created"]) or "",
            "updated": iso(task["updated"]) or "",
            "subset": task.get("subset") or "default",
            "start_frame": str(first),
            "stop_frame": str(last),
            "frame_filter": "",
        }
        if job is None:
            fields = {"id": fields.pop("id"), "name": task["name"], **fields}
        segments = [
            {
                "id": str(j["id"]),
                "start": str(j["start_frame"]),
                "stop": str(j["stop_frame"]),
                "url": f"{base}/api/jobs/{j['id']}",
            }
            for j in jobs
        ]
        task_labels = [labels[i] for i in self.annotations.task_label_ids(task) if i in labels]
        return Meta(
            kind,
            fields,
            task_labels,
            segments,
            {"username": owner.get("username", ""), "email": owner.get("email", "")},
        )

    def download_dataset(self, request: Request, kind: str, id: int) -> Response:
        """GET ``.../dataset/download?rq_id=``: the finished archive."""
        user = self.auth.caller(request)
        self.auth.fetch(user, kind[:-1], id)
        rq_id = request.args.get("rq_id", "")
        rq = self.data["requests"].get(rq_id)
        if rq is None or rq["action"] != "export":
            raise not_found()
        if rq["status"] != "finished":
            raise ApiError(400, ["The export has not finished yet"])
        archive = self.blobs.get(f"export:{rq_id}")
        if archive is None:  # the archive lived in memory only: a restarted server lost it
            raise ApiError(404, {"detail": "The exported file has expired, please retry exporting"})
        stamp = iso(rq["finished"]) or ""
        name = rq["params"].get("filename") or (
            f"{kind[:-1]}_{id}_dataset_{stamp[:19].replace(':', '_').replace('-', '_').replace('T', '_')}.zip"
        )
        return Response(
            archive,
            status=200,
            mimetype="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def _facet(view: dict[str, Any], name: str) -> str:
    """The value a request-list filter compares: status, action, target or subresource."""
    if name == "status":
        return str(view["status"])
    action, _, sub = view["operation"]["type"].partition(":")
    if name == "action":
        return action
    if name == "subresource":
        return {"dataset": "dataset", "annotations": "annotations", "backup": "backup"}.get(sub, "")
    return str(view["operation"]["target"])
