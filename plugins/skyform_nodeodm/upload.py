"""Creating a task by chunked upload: init with ``set-uuid``, parallel uploads, commit.

The idempotency key is the task uuid, so a run killed at any point can find its task again:
before commit the node does not list the upload at all, and NodeODM accepts a second init
with the same uuid (the upload resumes: files already there are replaced by name); after
commit ``GET /task/{uuid}/info`` finds it. Files are streamed one per request from disk,
several at a time; a file whose upload fails transiently is retried on its own, and says so
in the provider's log.

The upload threads run each file in a copy of the calling thread's context: the engine
ties a provider's log lines to the resource whose call wrote them through a context
variable (:mod:`skyform.apply.providerlog`), which a new thread does not inherit - without
the copy, a line logged while uploading reached the terminal but not the resource's live
log on the page.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from skyform.errors import PermanentError, TransientError
from skyform.providers import OperationContext, Reporter

from .client import PROVIDER, NodeClient

EXTRA_FILES = ("gcp", "geo", "image_groups", "align", "seed")
log = logging.getLogger("skyform.provider.nodeodm")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class UploadFile:
    """A local file and the name the node must see (``geo.txt``, ``seed.zip``...)."""

    path: Path
    name: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def task_fields(spec: Mapping[str, Any], name: str) -> dict[str, str]:
    """The form fields of ``/task/new/init`` for a spec."""
    fields = {"name": name, "options": json.dumps(options_list(spec.get("options") or {}))}
    if spec.get("skip_post_processing"):
        fields["skipPostProcessing"] = "true"
    if spec.get("webhook"):
        fields["webhook"] = str(spec["webhook"])
    if spec.get("outputs"):
        fields["outputs"] = json.dumps(list(spec["outputs"]))
    return fields


def options_list(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """NodeODM's ``[{name, value}]`` form; structured values (boundary, cameras) as JSON text."""
    return [{"name": k, "value": json.dumps(v) if isinstance(v, (dict, list)) else v} for k, v in options.items()]


class Progress:
    """Thread-safe upload progress, reported as files and bytes."""

    def __init__(self, reporter: Reporter, files: list[UploadFile]) -> None:
        self.reporter = reporter
        self.total_files = len(files)
        self.total_bytes = sum(f.size for f in files) or 1
        self.files = 0
        self.bytes = 0
        self.lock = threading.Lock()

    def done(self, f: UploadFile) -> None:
        with self.lock:
            self.files += 1
            self.bytes += f.size
            mib = self.bytes / 1024**2
            self.reporter.progress(
                self.bytes / self.total_bytes, f"uploaded {self.files}/{self.total_files} files, {mib:.1f} MiB"
            )


def upload_task(
    node: NodeClient,
    uuid: str,
    fields: Mapping[str, str],
    files: list[UploadFile],
    reporter: Reporter,
    *,
    parallel: int = 4,
    retries: int = 3,
) -> str:
    """Init (with ``set-uuid``), upload every file, commit; returns the task uuid."""
    init = node.post("/task/new/init", f"init task {uuid}", data=dict(fields), headers={"set-uuid": uuid})
    if init.get("uuid") != uuid:
        raise PermanentError(
            f"{PROVIDER}: init answered uuid {init.get('uuid')!r}, not the set-uuid {uuid}; "
            "the node ignores set-uuid (NodeODM older than 1.5.3?)",
            provider=PROVIDER,
        )
    reporter.phase("uploading")
    progress = Progress(reporter, files)
    failed = threading.Event()

    def send(f: UploadFile) -> None:
        for attempt in range(retries + 1):
            if failed.is_set():
                return
            try:
                with f.path.open("rb") as fh:
                    node.post(
                        f"/task/new/upload/{uuid}",
                        f"upload {f.name} to task {uuid}",
                        files={"images": (f.name, fh, "application/octet-stream")},
                    )
                progress.done(f)
                return
            except TransientError as exc:
                if attempt == retries:
                    raise
                pause = min(0.5 * 2**attempt, 5.0)
                log.info(
                    "nodeodm: upload of %s failed (%s); retry %d of %d in %.1f s",
                    f.name,
                    exc,
                    attempt + 1,
                    retries,
                    pause,
                )
                time.sleep(pause)
            except OSError as exc:  # the local file, not the node
                raise PermanentError(
                    f"{PROVIDER}: cannot read {f.path}: {exc.strerror or exc}", provider=PROVIDER, field="images"
                ) from exc

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="nodeodm-upload") as pool:
        # one context copy per file: a context runs in one thread at a time
        futures = [pool.submit(contextvars.copy_context().run, send, f) for f in files]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for fut in done:
            if fut.exception() is not None:
                failed.set()
        for fut in futures:
            fut.result()  # re-raise the first failure; the others stopped early
    node.post(f"/task/new/commit/{uuid}", f"commit task {uuid}")
    return uuid


def upload_name(field: str, path: str) -> str:
    """The name NodeODM must see for an extra file, whatever it is called locally."""
    if field == "align":
        ext = Path(path).suffix.lower().lstrip(".")
        return f"align.{'tif' if ext == 'tiff' else ext}"
    return {"gcp": "gcp_list.txt", "geo": "geo.txt", "image_groups": "image_groups.txt", "seed": "seed.zip"}[field]


def task_uuid(key: str) -> str:
    """The idempotency key as a set-uuid (ClusterODM accepts UUID versions 1-5 only)."""
    uuid = str(key).lower()
    if not UUID.match(uuid):
        raise PermanentError(
            f"{PROVIDER}: idempotency key {key!r} is not a UUID (v1-5) usable as set-uuid", provider=PROVIDER
        )
    return uuid


def upload_files(spec: Mapping[str, Any], ctx: OperationContext) -> list[UploadFile]:
    """The images and extra files to upload, with the names the node expects."""
    # local_file: on a worker without the photos, the copy the artifact store holds by digest
    files = [UploadFile(ctx.local_file(p), PurePosixPath(str(p).replace("\\", "/")).name) for p in spec["images"]]
    files += [UploadFile(ctx.local_file(spec[f]), upload_name(f, spec[f])) for f in EXTRA_FILES if spec.get(f)]
    missing = [str(f.path) for f in files if not f.path.is_file()]
    if missing:
        raise PermanentError(
            f"{PROVIDER}: {len(missing)} file(s) to upload not found: {', '.join(missing[:5])}",
            provider=PROVIDER,
            field="images",
        )
    return files
