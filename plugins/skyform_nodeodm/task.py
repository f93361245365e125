"""The ``nodeodm.Task`` kind: images in, ODM products out, one NodeODM task per resource.

Lifecycle: create uploads with the idempotency key as the task uuid and returns "running";
poll follows the status codes (10 QUEUED, 20 RUNNING, 30 FAILED, 40 COMPLETED, 50 CANCELED)
and, on COMPLETED, downloads and unpacks all.zip into the resource's artifact directory.
A change of ``options`` restarts the task on the node with the new options (the images are
already there); any other change replaces the task.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from skyform.catalog.model import Dataset
from skyform.errors import AdoptError, Issue, NotFound, PermanentError, RemoteError, TransientError
from skyform.providers import (
    Change,
    ChangePlan,
    CheckContext,
    Cost,
    OperationContext,
    Record,
    ResourceKind,
    Result,
    Status,
)
from skyform.spec.values import is_known

from . import artifacts
from .client import PROVIDER, NodeClient, UuidTaken
from .datasets import task_datasets
from .drift import observed
from .fleet import Fleet
from .options_check import check_options
from .pricing import estimate
from .schemas import OUTPUTS_SCHEMA, SPEC_SCHEMA
from .upload import EXTRA_FILES, options_list, task_fields, task_uuid, upload_files, upload_task

STATUS = {10: "queued", 20: "running", 30: "failed", 40: "completed", 50: "canceled"}
#: a node's status code -> the resource status (40 COMPLETED is ready once the products are here)
_STATUS_BY_CODE: dict[int | None, Status] = {10: "running", 20: "running", 30: "failed", 50: "failed"}
NOT_IMAGES = re.compile(r"(\.txt|\.zip)$|^align\.(las|laz|tif|tiff)$", re.I)
OUTPUT_TAIL = 15
REMOVED_MARKER = ".removed-tasks"


class TaskKind(ResourceKind):
    """A NodeODM processing task (see the module docstring)."""

    name = "Task"
    description = "Photogrammetry on a NodeODM node or ClusterODM: images in, orthophoto/DEM/point cloud out."
    spec_schema = SPEC_SCHEMA
    outputs_schema = OUTPUTS_SCHEMA
    # an update restarts the task under the same uuid; its products are made anew
    stable_outputs = frozenset({"uuid"})
    immutable = frozenset({"name", "images", *EXTRA_FILES, "skip_post_processing", "outputs", "webhook", "fingerprint"})
    long_running = True
    poll_interval = 10.0
    max_poll_interval = 60.0
    poll_on_workers = True  # the poll that sees the task done downloads all.zip
    delete_mode = "delete"
    delete_note = (
        "removes the task and its files from the node (/task/remove); the downloaded "
        "all.zip and products under .skyform/artifacts/<id>/ are kept unless --purge-artifacts is given"
    )

    # -- validate ---------------------------------------------------------------------
    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        images = spec.get("images")
        if isinstance(images, list):
            seen: dict[str, int] = {}
            for i, image in enumerate(images):
                if not is_known(image) or not isinstance(image, str):
                    continue
                base = PurePosixPath(image.replace("\\", "/")).name
                if NOT_IMAGES.search(base):
                    yield Issue(
                        ("images", i),
                        f"{base!r} is not an image: NodeODM would take it for a GCP, geo, alignment or seed file",
                        hint="use the gcp, geo, image_groups, align or seed fields for extra files",
                    )
                elif base in seen:
                    yield Issue(
                        ("images", i),
                        f"two images are named {base!r} (also images[{seen[base]}]): "
                        "the node keeps only one file per name",
                        hint="rename one of them",
                    )
                else:
                    seen[base] = i
                if not _resolve(ctx.mission_dir, image).is_file():
                    yield Issue(("images", i), f"image file not found: {image}")
        for field in EXTRA_FILES:
            value = spec.get(field)
            if isinstance(value, str) and is_known(value) and not _resolve(ctx.mission_dir, value).is_file():
                yield Issue((field,), f"{field} file not found: {value}")
        for i, out in enumerate(spec.get("outputs") or []):
            if isinstance(out, str) and ".." in PurePosixPath(out.replace("\\", "/")).parts:
                yield Issue(
                    ("outputs", i),
                    f"{out!r} leaves the project directory ('..'); "
                    "outputs are paths relative to the task's project directory",
                )

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """Compute time from the image count and options at the declared ``prices`` (pricing.py)."""
        return estimate(spec, ctx.settings)

    def estimate_update_cost(
        self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext
    ) -> Cost | None:
        """The whole estimate again: an update restarts the task with the new options."""
        cost = self.estimate_cost(spec, ctx)
        return replace(cost, basis=f"{cost.basis}; restarted: processed again") if cost is not None else None

    def plan_check(self, spec: Mapping[str, Any], ctx: OperationContext) -> Iterable[Issue]:
        fleet: Fleet = ctx.client
        try:
            options = spec.get("options")
            if isinstance(options, dict) and options:
                yield from check_options(options, fleet.options())
            images = spec.get("images")
            if isinstance(images, list) and is_known(images):
                limits = fleet.image_limits()
                largest = max((n for n in limits if n is not None), default=None)
                if limits and None not in limits and largest is not None and len(images) > largest:
                    where = "this node" if len(limits) == 1 else "any configured node"
                    yield Issue(
                        ("images",),
                        f"{len(images)} images, but {where} can only process up to {largest} (maxImages in GET /info)",
                        hint="split the flight into several tasks, or use a node with a higher --max_images",
                    )
        except TransientError as exc:
            yield Issue((), f"could not check against the node: {exc.message}", severity="warning")

    def plan_change(self, changes: list[Change], record: Record) -> ChangePlan:
        fields = {c.field for c in changes}
        if fields <= {"options"}:
            return ChangePlan("update", note="restart on the node with new options; images stay")
        others = ", ".join(sorted(fields - {"options"}))
        return ChangePlan(
            "replace",
            note=f"{others} cannot change on a NodeODM task: a new task is created and the images are uploaded again",
        )

    # -- apply ------------------------------------------------------------------------
    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        fleet: Fleet = ctx.client
        uuid = task_uuid(ctx.idempotency_key)
        files = upload_files(spec, ctx)
        node = fleet.choose(len(spec["images"]))
        fields = task_fields(spec, str(spec.get("name") or f"{ctx.mission}/{ctx.address}"))
        try:
            upload_task(
                node, uuid, fields, files, ctx.reporter, parallel=fleet.parallel_uploads, retries=fleet.upload_retries
            )
        except UuidTaken:
            # an earlier attempt committed this uuid but its answer was lost: follow that task
            found = self.adopt(spec, ctx)
            if found is None:
                raise
            return found
        ctx.log.info("nodeodm: task %s committed on %s with %d files", uuid, node.url, len(files))
        created = _running(uuid, node, 0.0, "uploaded; initialising on the node")
        created.poll_after = 2.0  # initialisation takes seconds; an early failure (maxImages) shows then
        return created

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        fleet: Fleet = ctx.client
        uuid = task_uuid(ctx.idempotency_key)
        found = fleet.locate(uuid)
        if not found:
            return None  # never committed: create re-inits the same uuid and uploads again
        if len(found) > 1:
            raise AdoptError(
                f"{PROVIDER}: task {uuid} exists on several nodes",
                provider=PROVIDER,
                candidates=[n.url for n, _ in found],
            )
        node, info = found[0]
        code = info.get("status", {}).get("code")
        return _running(
            uuid,
            node,
            float(info.get("progress") or 0) / 100,
            f"adopted task {uuid} ({STATUS.get(code, code)}) on {node.url}",
        )

    def poll(self, record: Record, ctx: OperationContext) -> Result:
        fleet: Fleet = ctx.client
        uuid = str(record.remote_id)
        node = fleet.node_for(uuid, record.private.get("node"))
        info = node.task_info(uuid)
        if info is None:
            raise NotFound(
                f"{PROVIDER}: task {uuid} is gone from {node.url} (removed, or cleaned up by the node)",
                provider=PROVIDER,
                remote_id=uuid,
            )
        code = info.get("status", {}).get("code")
        if code in (10, 20):
            progress = float(info.get("progress") or 0)
            return _running(uuid, node, progress / 100, f"{STATUS[code]} {progress:.0f}%")
        if code == 30:
            raise self._failure(node, uuid, info)
        if code == 50:
            raise PermanentError(
                f"{PROVIDER}: task {uuid} was canceled on {node.url}",
                provider=PROVIDER,
                remote_id=uuid,
                hint="the next apply replaces it with a new task",
            )
        if code != 40:
            raise PermanentError(
                f"{PROVIDER}: task {uuid} has an unknown status {code!r}", provider=PROVIDER, remote_id=uuid
            )
        result = self._finish(node, uuid, info, fleet, ctx)
        result.observed = observed(info, record.spec)  # recorded, so a later read can show drift
        return result

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        fleet: Fleet = ctx.client
        uuid = str(record.remote_id)
        node = fleet.node_for(uuid, record.private.get("node"))
        info = node.task_info(uuid)
        if info is None:
            zip_path = (record.outputs.get("all_zip") or {}).get("path")
            if uuid in _removed(ctx.artifacts_dir):
                return None  # skyform removed it: gone for good, products kept on disk
            if record.status == "ready" and zip_path and Path(zip_path).is_file():
                # NodeODM deletes finished tasks after --cleanup_tasks_after (48 h): the
                # products are what this resource stands for, and they are here
                return Result(
                    remote_id=uuid,
                    status="ready",
                    outputs=dict(record.outputs),
                    observed=dict(record.observed),
                    private=dict(record.private),
                    message=f"task {uuid} no longer on the node; keeping the downloaded products",
                )
            return None
        code = info.get("status", {}).get("code")
        status = _STATUS_BY_CODE.get(code, "ready")
        zip_path = (record.outputs.get("all_zip") or {}).get("path")
        if status == "ready" and not (zip_path and Path(zip_path).is_file()):
            status = "running"  # COMPLETED but the products are not here (an imported task): poll fetches them
        return Result(
            remote_id=uuid,
            status=status,
            outputs=dict(record.outputs),
            observed=observed(info, record.spec),
            private={**record.private, "node": node.url},
            progress=float(info.get("progress") or 0) / 100,
            message=(info.get("status") or {}).get("errorMessage"),
        )

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext) -> Result:
        fleet: Fleet = ctx.client
        uuid = str(record.remote_id)
        node = fleet.node_for(uuid, record.private.get("node"))
        info = node.task_info(uuid)
        if info is None:
            # the node cleaned the finished task up (48 h): the uuid is free again, so the
            # task is made anew under it, with the new options
            files = upload_files(spec, ctx)
            node = fleet.choose(len(spec["images"]))
            fields = task_fields(spec, str(spec.get("name") or f"{ctx.mission}/{ctx.address}"))
            upload_task(
                node, uuid, fields, files, ctx.reporter, parallel=fleet.parallel_uploads, retries=fleet.upload_retries
            )
            return _running(uuid, node, 0.0, "the node had removed the task: uploaded again with the new options")
        if info.get("status", {}).get("code") in (10, 20):
            node.command("cancel", uuid)  # restart is refused while queued or running
        node.command("restart", uuid, options=json.dumps(options_list(spec.get("options") or {})))
        result = _running(uuid, node, 0.0, "restarted with the new options")
        restarted = node.task_info(uuid)
        if restarted is not None:
            # recorded now, or a plan made while the task runs again (after apply --detach)
            # would take the new options for a change outside skyform and restart it again
            result.observed = observed(restarted, spec)
        return result

    def cancel(self, record: Record, ctx: OperationContext) -> None:
        node = ctx.client.node_for(str(record.remote_id), record.private.get("node"))
        try:
            node.command("cancel", str(record.remote_id))
        except NotFound:
            pass

    def delete(self, record: Record, ctx: OperationContext) -> None:
        node = ctx.client.node_for(str(record.remote_id), record.private.get("node"))
        try:
            node.command("remove", str(record.remote_id))
        except NotFound:
            pass  # already removed (by hand, or by the node's cleanup)
        # remember the removal next to the kept products, so that read() tells "removed by
        # skyform" (gone) from "cleaned up by the node after 48 h" (products still count)
        ctx.artifacts_dir.mkdir(parents=True, exist_ok=True)
        with (ctx.artifacts_dir / REMOVED_MARKER).open("a") as fh:
            fh.write(f"{record.remote_id}\n")

    # -- helpers ----------------------------------------------------------------------
    def datasets(self, record: Record) -> list[Dataset]:
        return task_datasets(record)

    def _failure(self, node: NodeClient, uuid: str, info: Mapping[str, Any]) -> PermanentError:
        reason = (info.get("status") or {}).get("errorMessage") or "no error message"
        try:
            tail = node.task_output(uuid)[-OUTPUT_TAIL:]
        except RemoteError:
            tail = []
        lines = "".join(f"\n    {line}" for line in tail)
        return PermanentError(
            f"{PROVIDER}: task {uuid} failed on {node.url}: {reason}"
            + (f"\n  last output lines:{lines}" if lines else ""),
            provider=PROVIDER,
            remote_id=uuid,
            hint="check the images and options; the next apply replaces the failed task",
        )

    def _finish(
        self, node: NodeClient, uuid: str, info: Mapping[str, Any], fleet: Fleet, ctx: OperationContext
    ) -> Result:
        ctx.artifacts_dir.mkdir(parents=True, exist_ok=True)
        archive, sha256, size = artifacts.download(node, uuid, ctx.artifacts_dir, ctx.reporter)
        stored = ctx.artifacts.put(archive)  # by digest: any machine fetches and verifies the same bytes
        assets = artifacts.extract(archive, ctx.artifacts_dir / "assets", uuid, max_bytes=fleet.max_extract_bytes)
        found = artifacts.products(assets)
        crs, bounds = artifacts.georeference(assets)
        outputs: dict[str, Any] = {
            "uuid": uuid,
            "node": node.url,
            "all_zip": {"path": str(archive), "sha256": sha256, "bytes": size, "artifact": str(stored)},
            "assets_dir": str(assets),
            **found,
            "processing_time_ms": int(info.get("processingTime") or 0),
            "images_count": int(info.get("imagesCount") or 0),
            "digests": artifacts.digests(found),
            "software": _software(node),
            "crs": crs,
            "bounds": bounds,
        }
        return Result(
            remote_id=uuid,
            status="ready",
            outputs=outputs,
            private={"node": node.url},
            progress=1.0,
            message=f"completed; products in {assets}",
        )


def _software(node: NodeClient) -> dict[str, str]:
    """What the node says it runs (``GET /info``): provenance only, so a failed look is no error."""
    try:
        info = node.info()
    except RemoteError:
        return {}
    software = {"NodeODM": str(info["version"])} if info.get("version") else {}
    if info.get("engine") and info.get("engineVersion"):
        software[str(info["engine"]).upper()] = str(info["engineVersion"])
    return software


def _running(uuid: str, node: NodeClient, progress: float, message: str) -> Result:
    return Result(
        remote_id=uuid,
        status="running",
        outputs={"uuid": uuid, "node": node.url},
        private={"node": node.url},
        progress=progress,
        message=message,
    )


def _removed(artifacts_dir: Path) -> set[str]:
    marker = artifacts_dir / REMOVED_MARKER
    return set(marker.read_text().split()) if marker.is_file() else set()


def _resolve(base: Path, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else base / p
