"""Uploading a task's images with CVAT's upload protocol, without waiting for the result.

``Task.upload_data`` either blocks until CVAT has processed the data or forgets the request
id; skyform wants the id (the engine polls it on its timer), so this runs the protocol itself
and keeps the answer: every file through CVAT's resumable TUS upload (:mod:`.tus`), so a
transient error costs one chunk, not the whole upload.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cvat_sdk.core.progress import BaseProgressReporter

from skyform.errors import PermanentError
from skyform.providers import OperationContext, Reporter

from . import tus
from .errors import sdk_errors


class UploadProgress(BaseProgressReporter):
    """cvat-sdk progress reports forwarded to the engine's reporter as a fraction of bytes."""

    def __init__(self, reporter: Reporter, what: str, phase: str = "uploading") -> None:
        super().__init__()
        self.reporter, self.what, self.phase = reporter, what, phase
        self.total, self.done = 0, 0

    def start2(self, total: int, **kwargs: Any) -> None:
        super().start2(total, **kwargs)
        self.reporter.phase(self.phase)  # the run's timeline shows the transfer
        self.total, self.done = total or 0, 0

    def advance(self, delta: int) -> None:
        super().advance(delta)
        self.done += delta
        if self.total:
            self.reporter.progress(self.done / self.total, f"{self.what}: {_size(self.done)} of {_size(self.total)}")


def _size(count: int) -> str:
    """1.5 MiB, 730 KiB, 120 B: byte counts as people read them."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def image_paths(images: Any, ctx: OperationContext) -> list[Path]:
    """The spec's ``images`` (one path or a list) as existing absolute paths (on a worker without
    them, the artifact store's verified copies, fetched by the digests the records published)."""
    listed = [images] if isinstance(images, str) else list(images or [])
    paths = [ctx.local_file(str(p)) for p in listed]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise PermanentError(
            f"CVAT: image file(s) not found: {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""),
            provider="cvat",
        )
    return paths


def upload_images(ctx: OperationContext, task_id: int, spec: Mapping[str, Any]) -> str:
    """Upload the spec's images to task ``task_id``; returns the background request id."""
    sdk = ctx.client.sdk
    paths = image_paths(spec["images"], ctx)
    fields: dict[str, Any] = {"image_quality": int(spec.get("image_quality", 70))}
    for name in ("sorting_method", "chunk_size"):
        if spec.get(name) is not None:
            fields[name] = spec[name]
    if str(fields.get("sorting_method")).lower() == "predefined":
        fields["upload_file_order"] = [p.name for p in paths]  # as cvat-sdk sends it
    url = sdk.api_map.make_endpoint_url(sdk.api_client.tasks_api.create_data_endpoint.path, kwsub={"id": task_id})
    upload = tus.ResumableUpload(sdk, url, chunk_size=tus.CHUNK_SIZE)
    pbar = UploadProgress(ctx.reporter, "upload")
    with sdk_errors(f"uploading {len(paths)} image(s) to task {task_id}", remote_id=str(task_id)):
        with pbar.task(
            total=tus.total_size(paths), desc="Uploading data", unit_scale=True, unit="B", unit_divisor=1024
        ):
            upload.start()
            for path in paths:
                upload.send(path, pbar)
        response = upload.finish(fields)
    rq_id = json.loads(response.data).get("rq_id")
    if not rq_id:
        raise PermanentError(
            f"CVAT: the server did not start processing task {task_id}'s data (no rq_id)",
            provider="cvat",
            remote_id=str(task_id),
        )
    return str(rq_id)
