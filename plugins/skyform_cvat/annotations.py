"""Kind ``cvat.Annotations``: a local annotation file imported into a task or job.

The file goes up through cvat-sdk's upload protocol (TUS) and CVAT imports it in a background
request the engine polls. The file's sha256 is recorded, so editing the file shows as drift
and re-imports it. Removing the resource leaves the annotations in CVAT (annotators may have
built on them); delete the task or clear them in CVAT to remove them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from skyform.errors import Issue, NotFound, PermanentError
from skyform.providers import ALL_FIELDS, CheckContext, OperationContext, Record, ResourceKind, Result
from skyform.spec.values import is_known

from .background import cancel, find_requests, look
from .errors import sdk_errors
from .targets import api_for, check_format, target_of, target_schema

_TARGETS, _ONE_OF = target_schema(("task_id", "job_id"))
SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Import an annotation file into a CVAT task or job.",
    "required": ["format", "file"],
    "properties": {
        **_TARGETS,
        "format": {
            "type": "string",
            "minLength": 1,
            "description": "Importer name as CVAT lists it (/api/server/annotation/formats), e.g. 'CVAT 1.1'.",
        },
        "file": {"type": "string", "minLength": 1, "description": "Local annotation file (or zip), mission-relative."},
        "import_mode": {
            "enum": ["replace", "append"],
            "description": "replace (default): the file's frames get exactly its annotations.",
        },
    },
    "oneOf": _ONE_OF,
}

OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "target": {"type": "string"},
        "target_id": {"type": "integer"},
        "format": {"type": "string"},
        "sha256": {"type": "string", "description": "Digest of the imported file."},
        "shapes": {"type": "integer", "description": "Shapes the target holds after the import."},
        "tags": {"type": "integer", "description": "Tags the target holds after the import."},
    },
    "required": ["target", "target_id", "format", "sha256"],
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class AnnotationsKind(ResourceKind):
    """An annotation file imported into a task or job."""

    name = "Annotations"
    description = "An annotation file imported into a CVAT task or job."
    spec_schema = SPEC_SCHEMA
    outputs_schema = OUTPUTS_SCHEMA
    immutable = ALL_FIELDS
    long_running = True
    poll_interval = 2.0
    delete_mode = "forget"
    delete_note = "imported annotations stay in CVAT; delete the task or clear its annotations there"

    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        file = spec.get("file")
        if isinstance(file, str) and is_known(file):
            path = Path(file) if Path(file).is_absolute() else ctx.mission_dir / file
            if not path.is_file():
                yield Issue(("file",), f"no such file: {file}")

    def plan_check(self, spec: Mapping[str, Any], ctx: OperationContext) -> Iterable[Issue]:
        if isinstance(spec.get("format"), str):
            importers, _ = ctx.client.formats()
            yield from check_format(spec["format"], importers, "import")

    def _ready(self, ctx: OperationContext, rq_id: str, spec: Mapping[str, Any], sha: str) -> Result:
        target, target_id = target_of(spec)
        with sdk_errors(f"reading the annotations of {target} {target_id}"):
            data, _ = api_for(ctx.client.sdk, target).retrieve_annotations(target_id)
        observed = {k: spec[k] for k in ("task_id", "job_id", "format", "file", "import_mode") if k in spec}
        path = ctx.path(spec["file"])
        if not path.is_file() or _sha256(path) != sha:
            observed["file"] = f"{spec['file']} (changed since the import)"
        return Result(
            remote_id=rq_id,
            status="ready",
            observed=observed,
            private={"sha256": sha},
            outputs={
                "target": target,
                "target_id": target_id,
                "format": spec["format"],
                "sha256": sha,
                "shapes": len(data.shapes),
                "tags": len(data.tags),
            },
        )

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        from cvat_sdk.core.uploading import AnnotationUploader

        from .media import UploadProgress

        target, target_id = target_of(spec)
        path = ctx.path(spec["file"])
        if not path.is_file():
            raise PermanentError(f"CVAT: annotation file not found: {path}", provider="cvat", field="file")
        sha = _sha256(path)
        sdk = ctx.client.sdk
        endpoint = api_for(sdk, target).create_annotations_endpoint
        url = sdk.api_map.make_endpoint_url(endpoint.path, kwsub={"id": target_id})
        params = {"format": spec["format"], "filename": path.name}
        if spec.get("import_mode"):
            params["import_mode"] = spec["import_mode"]
        with sdk_errors(f"uploading {path.name} to {target} {target_id}"):
            response = AnnotationUploader(sdk).upload_file(
                url,
                path,
                meta={"filename": path.name},
                query_params=params,
                pbar=UploadProgress(ctx.reporter, "annotations"),
            )
        rq_id = str(json.loads(response.data).get("rq_id") or "")
        if not rq_id:
            raise PermanentError(f"CVAT: the server did not start importing {path.name} (no rq_id)", provider="cvat")
        return Result(remote_id=rq_id, status="running", private={"sha256": sha}, message="CVAT is importing")

    def poll(self, record: Record, ctx: OperationContext) -> Result:
        rq_id = str(record.remote_id)
        try:
            state = look(ctx.client, rq_id)
        except NotFound:
            return Result(
                remote_id=rq_id,
                status="failed",
                private=dict(record.private),
                message="CVAT no longer knows this import request (expired?); apply again to import anew",
            )
        if state.running:
            return Result(remote_id=rq_id, status="running", progress=state.progress, private=dict(record.private))
        if state.status == "failed":
            return Result(
                remote_id=rq_id,
                status="failed",
                private=dict(record.private),
                message=f"CVAT could not import {record.spec.get('file')}: {state.message}",
            )
        return self._ready(ctx, rq_id, record.spec, record.private.get("sha256", ""))

    def cancel(self, record: Record, ctx: OperationContext) -> None:
        cancel(ctx.client, str(record.remote_id), ctx.reporter.warn)

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        target, target_id = target_of(spec)
        found = [
            (rq_id, s)
            for rq_id, s in find_requests(ctx.client, action="import", target=target, **{f"{target}_id": target_id})
            if s.created is not None and s.created >= ctx.intent_at and s.status != "failed"
        ]
        if not found:
            return None  # the upload never finished: importing again is the same import
        rq_id, state = found[0]
        sha = _sha256(ctx.path(spec["file"]))
        if state.running:
            return Result(remote_id=rq_id, status="running", private={"sha256": sha})
        return self._ready(ctx, rq_id, spec, sha)

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        sha = record.private.get("sha256", "")
        path = ctx.path(str(record.spec.get("file", "")))
        if not sha and record.spec.get("file") and path.is_file():
            sha = _sha256(path)  # `skyform import`: the import being recorded came from the file as it is
        try:
            return self._ready(ctx, str(record.remote_id), record.spec, sha)
        except NotFound:
            return None  # the task or job is gone, and its annotations with it
