"""A NodeODM 2.2.4 node, simulated: the documented REST API with the observed behaviour.

Faithful points that clients trip over: every answer is HTTP 200, errors included
(``{"error": ...}``; invalid options as a JSON-encoded list of ``{name, error}``); the token
travels as the ``token`` query parameter; ``set-uuid`` picks the task id and reusing a
committed one is refused (``Invalid set-uuid``) while re-initialising an uncommitted upload
is allowed; uploads are invisible to ``/task/{uuid}/info`` until committed; a new task is
RUNNING while it initialises, then QUEUED, then RUNNING; ``maxImages`` on the chunked path
lets the commit through and fails the task; cancel flips COMPLETED to CANCELED yet the
all.zip stays downloadable; restart works only from CANCELED, FAILED or COMPLETED.
"""

from __future__ import annotations

import re
import time
import uuid as uuidlib
from collections.abc import Iterable
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from skyform.sandbox.simulator import Simulator, SimulatorOptions, json_response

from . import catalog, forms, products, taskflow, webhooks
from .options_filter import InvalidOptions, filter_options

SANDBOX_TOKEN = "sandbox-nodeodm-token-7f3a"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-7][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
NON_IMAGE = re.compile(r"(\.txt|\.zip|^align\.(las|laz|tif))$", re.I)
GiB = 1024**3


class NodeODMSimulator(Simulator):
    """One simulated NodeODM node (``token`` None: a node started without ``--token``)."""

    provider = "nodeodm"

    def __init__(
        self,
        options: SimulatorOptions | None = None,
        *,
        token: str | None = SANDBOX_TOKEN,
        max_images: int | None = None,
        max_parallel_tasks: int = 2,
        cpu_cores: int = 8,
        total_memory: int = 32 * GiB,
        cluster: bool = False,
    ) -> None:
        self.token = token
        self.cluster = cluster  # answer like ClusterODM in front of nodes: 401s, synthetic /info
        self.max_images = max_images
        self.max_parallel_tasks = max_parallel_tasks
        self.cpu_cores = cpu_cores
        self.total_memory = total_memory
        self.zip_overrides: dict[str, bytes] = {}  # tests put hostile archives here
        self.webhook_log: list[dict[str, Any]] = []  # delivery attempts, for tests
        super().__init__(options)

    def routes(self) -> Iterable[Rule]:
        return [
            Rule("/info", methods=["GET"], endpoint="info"),
            Rule("/options", methods=["GET"], endpoint="options_list"),
            Rule("/auth/info", methods=["GET"], endpoint="auth_info"),
            Rule("/auth/login", methods=["POST"], endpoint="auth_unavailable"),
            Rule("/auth/register", methods=["POST"], endpoint="auth_unavailable"),
            Rule("/swagger.json", methods=["GET"], endpoint="swagger"),
            Rule("/task/list", methods=["GET"], endpoint="task_list"),
            Rule("/task/new", methods=["POST"], endpoint="task_new"),
            Rule("/task/new/init", methods=["POST"], endpoint="task_init"),
            Rule("/task/new/upload/<uuid>", methods=["POST"], endpoint="task_upload"),
            Rule("/task/new/commit/<uuid>", methods=["POST"], endpoint="task_commit"),
            Rule("/task/<uuid>/info", methods=["GET"], endpoint="task_info"),
            Rule("/task/<uuid>/output", methods=["GET"], endpoint="task_output"),
            Rule("/task/<uuid>/download/<asset>", methods=["GET"], endpoint="task_download"),
            Rule("/task/cancel", methods=["POST"], endpoint="task_cancel"),
            Rule("/task/remove", methods=["POST"], endpoint="task_remove"),
            Rule("/task/restart", methods=["POST"], endpoint="task_restart"),
        ]

    def initial_data(self) -> dict[str, Any]:
        return {"tasks": {}, "uploads": {}, "slot_freed": 0.0}

    def settings(self, base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {"url": base_url}
        if self.token:
            out["token"] = self.token
        return out

    def objects(self) -> dict[str, int]:
        return {"task": len(self.data["tasks"]), "upload": len(self.data["uploads"])}

    def not_found(self, request: Request) -> Response:
        # NodeODM is an Express app: unknown routes get Express's HTML 404
        return Response(f"<pre>Cannot {request.method} {request.path}</pre>", 404, mimetype="text/html")

    def server_error(self, request: Request, exc: Exception) -> Response:
        return json_response({"error": str(exc) or "Internal error"})

    # -- helpers ------------------------------------------------------------------------
    def _denied(self, request: Request) -> Response | None:
        if self.token and request.args.get("token") != self.token:
            if self.cluster:
                return Response(b"", 401)  # ClusterODM: a bare 401, not NodeODM's 200 + error
            return json_response({"error": "Invalid authentication token: token does not match."})
        return None

    def _advance(self) -> None:
        for task in taskflow.advance(self.data["tasks"], self.data, self.clock, self.max_parallel_tasks):
            self._call_webhook(task)

    def _call_webhook(self, task: dict[str, Any]) -> None:
        if task.get("webhook"):
            payload = {**self._info(task), "images": list(task["images"])}
            webhooks.deliver(task["webhook"], payload, self.clock, self.webhook_log)

    def _task(self, uuid: str) -> dict[str, Any] | None:
        self._advance()
        return self.data["tasks"].get(uuid)

    def _info(self, task: dict[str, Any], with_output: int | None = None) -> dict[str, Any]:
        code, progress, ptime, output = taskflow.view(task, self.clock)
        info: dict[str, Any] = {"uuid": task["uuid"]}
        if "name" in task:
            info["name"] = task["name"]
        info.update(
            dateCreated=task["dateCreated"],
            processingTime=ptime,
            status={"code": code},
            options=task["options"],
            imagesCount=task["imagesCount"],
            progress=progress,
        )
        if code == taskflow.FAILED and task.get("error_message"):
            info["status"]["errorMessage"] = task["error_message"]
        if with_output is not None:
            info["output"] = output[with_output:]
        return info

    def _create(self, uuid: str, fields: dict[str, Any], files: dict[str, int]) -> dict[str, Any]:
        if not fields.get("skipPostProcessing"):
            forms.add_post_processing_options(fields["options"])
        images = sorted(n for n in files if not NON_IMAGE.search(n))
        task = {"uuid": uuid, **fields, "images": images, "files": files, "imagesCount": len(images), "run": 0}
        subject = f"Task {fields.get('name', uuid)}"
        fate: str = self.faults.job_fate(self.provider, subject)  # or the simulator's own "init_error"
        if self.max_images is not None and len(images) > self.max_images:
            fate = "init_error"
            task["init_error"] = (
                f"{len(images)} images uploaded, but this node can only process up to {self.max_images}."
            )
        if fields.get("zipurl"):
            fate = "init_error"  # the sandbox reaches nothing but 127.0.0.1, so it never downloads
            task["init_error"] = "Cannot download zipurl: the skyform sandbox does not fetch remote archives"
        taskflow.start_run(task, time.time(), self.clock, fate, initialise=True)
        self.data["tasks"][uuid] = task
        return task

    def _new_uuid(self, request: Request) -> tuple[str | None, Response | None]:
        wanted = request.headers.get("set-uuid")
        if wanted is None:
            return str(uuidlib.uuid4()), None
        if not UUID_RE.match(wanted) or wanted in self.data["tasks"]:
            return None, json_response({"error": f"Invalid set-uuid: {wanted}"})
        return wanted, None

    # -- node ---------------------------------------------------------------------------
    def info(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        self._advance()
        if self.cluster:  # ClusterODM's /info is synthetic: it says nothing about capacity
            return json_response(
                {
                    "version": "1.5.3",
                    "taskQueueCount": 0,
                    "totalMemory": 99999999999,
                    "availableMemory": 99999999999,
                    "cpuCores": 99999999999,
                    "maxImages": self.max_images,
                    "maxParallelTasks": self.max_parallel_tasks,
                    "engineVersion": "?",
                    "engine": "odm",
                }
            )
        busy = sum(1 for t in self.data["tasks"].values() if t["phase"] in ("queued", "running", "init"))
        return json_response(
            {
                "version": "2.2.4",
                "taskQueueCount": busy,
                "totalMemory": self.total_memory,
                "availableMemory": self.total_memory // 2,
                "cpuCores": self.cpu_cores,
                "maxImages": self.max_images,
                "maxParallelTasks": self.max_parallel_tasks,
                "engineVersion": taskflow.ENGINE_VERSION,
                "engine": "odm",
            }
        )

    def options_list(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return json_response(catalog.options())

    def auth_info(self, request: Request) -> Response:
        return json_response(
            {"message": "Authentication not available on this node", "loginUrl": None, "registerUrl": None}
        )

    def auth_unavailable(self, request: Request) -> Response:
        return json_response({"error": "Not available"})

    def swagger(self, request: Request) -> Response:
        paths = sorted({str(r.rule).replace("<", "{").replace(">", "}") for r in self.url_map.iter_rules()})
        return json_response(
            {"swagger": "2.0", "info": {"title": "NodeODM", "version": "2.2.1"}, "paths": {p: {} for p in paths}}
        )

    # -- tasks --------------------------------------------------------------------------
    def task_list(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return json_response([{"uuid": u} for u in self.data["tasks"]])

    def task_new(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        uuid, refused = self._new_uuid(request)
        if refused is not None:
            return refused
        files = forms.read_files(request)
        if not files and not request.form.get("zipurl"):
            return json_response({"error": "Need at least 1 file or a zip file url."})
        try:
            fields = forms.task_fields(request)
        except InvalidOptions as exc:
            return json_response({"error": str(exc)})
        except ValueError as exc:
            return json_response({"error": forms.json_error(exc)})
        images = [n for n in files if not NON_IMAGE.search(n)]
        if self.max_images is not None and len(images) > self.max_images:
            return json_response(
                {"error": f"{len(images)} images uploaded, but this node can only process up to {self.max_images}."}
            )
        self._create(str(uuid), fields, files)
        return json_response({"uuid": uuid})

    def task_init(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        uuid, refused = self._new_uuid(request)
        if refused is not None:
            return refused
        try:
            fields = forms.task_fields(request)
        except InvalidOptions as exc:
            return json_response({"error": str(exc)})
        except ValueError as exc:
            return json_response({"error": forms.json_error(exc)})
        previous = self.data["uploads"].get(uuid, {}).get("files", {})
        self.data["uploads"][str(uuid)] = {"fields": fields, "files": previous, "created": time.time()}
        return json_response({"uuid": uuid})

    def task_upload(self, request: Request, uuid: str) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        upload = self.data["uploads"].get(uuid)
        if upload is None:
            return json_response({"error": "Invalid uuid (not found)"})
        files = forms.read_files(request, upload["files"])
        if not files:
            return json_response({"error": "Need at least 1 file.", "noRetry": True})
        upload["files"].update(files)
        return json_response({"success": True})

    def task_commit(self, request: Request, uuid: str) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        upload = self.data["uploads"].pop(uuid, None)
        if upload is None:
            return json_response({"error": "Invalid uuid (not found)"})
        if not upload["files"]:
            return json_response({"error": "Need at least 1 file."})
        self._create(uuid, upload["fields"], upload["files"])
        return json_response({"uuid": uuid})

    def task_info(self, request: Request, uuid: str) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task = self._task(uuid)
        if task is None:
            return json_response({"error": f"{uuid} not found"})
        line = request.args.get("with_output")
        return json_response(self._info(task, int(line) if line and line.lstrip("-").isdigit() else None))

    def task_output(self, request: Request, uuid: str) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task = self._task(uuid)
        if task is None:
            return json_response({"error": f"{uuid} not found"})
        line = request.args.get("line", "0")
        start = int(line) if line.lstrip("-").isdigit() else 0
        return json_response(taskflow.view(task, self.clock)[3][start:])

    def task_download(self, request: Request, uuid: str, asset: str) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task = self._task(uuid)
        if task is None:
            return json_response({"error": f"{uuid} not found"})
        if asset != "all.zip":
            return json_response({"error": "Invalid asset"})
        if not task.get("has_zip"):
            return json_response({"error": "Asset not ready"})
        body = self.zip_overrides.get(uuid) or products.all_zip(task)
        return Response(
            body, 200, mimetype="application/zip", headers={"Content-Disposition": "attachment; filename=all.zip"}
        )

    def _commanded(self, request: Request) -> tuple[str, Response | None]:
        """The ``uuid`` a task command names, or the answer NodeODM gives before acting:
        a refusal of the token, or "uuid param missing." (the task is looked up after)."""
        if (denied := self._denied(request)) is not None:
            return "", denied
        uuid = forms.body_uuid(request)
        if not uuid:
            return "", json_response({"error": "uuid param missing."})
        return uuid, None

    def _not_found(self, uuid: str) -> Response:
        return json_response({"success": False, "error": f"{uuid} not found"})

    def task_cancel(self, request: Request) -> Response:
        uuid, answer = self._commanded(request)
        if answer is not None:
            return answer
        task = self._task(uuid)
        if task is None:
            return self._not_found(uuid)
        if taskflow.cancel(task, self.data, self.clock, time.time()):
            self._call_webhook(task)
        return json_response({"success": True})

    def task_remove(self, request: Request) -> Response:
        uuid, answer = self._commanded(request)
        if answer is not None:
            return answer
        task = self._task(uuid)
        if task is None:
            return self._not_found(uuid)
        taskflow.cancel(task, self.data, self.clock, time.time())
        del self.data["tasks"][uuid]
        self.zip_overrides.pop(uuid, None)
        return json_response({"success": True})

    def task_restart(self, request: Request) -> Response:
        uuid, answer = self._commanded(request)
        if answer is not None:
            return answer
        raw = (request.get_json(silent=True) or {}).get("options") if request.is_json else request.form.get("options")
        options = None
        if raw:  # NodeODM filters the options before it looks the task up
            try:
                options = filter_options(raw, catalog.options())
            except InvalidOptions as exc:
                return json_response({"error": str(exc)})
            except ValueError as exc:
                return json_response({"error": forms.json_error(exc)})
        task = self._task(uuid)
        if task is None:
            return self._not_found(uuid)
        if task["phase"] not in ("canceled", "failed", "completed"):
            return json_response({"success": False, "error": "Task cannot be restarted"})
        if options is not None:
            if not task.get("skipPostProcessing"):
                forms.add_post_processing_options(options)
            task["options"] = options
        task["run"] = task.get("run", 0) + 1
        task["dateCreated"] = int(time.time() * 1000)
        fate = self.faults.job_fate(self.provider, f"Task {task.get('name', uuid)}")
        taskflow.start_run(task, time.time(), self.clock, fate, initialise=False)
        return json_response({"success": True})
