"""Kind ``cvat.Export``: a project, task or job dataset exported by CVAT and downloaded.

CVAT builds the archive in a background request the engine polls; when it is done, the file
is downloaded (authenticated, from the request's ``result_url``) into the resource's
artifacts directory. ``read`` checks that file against its recorded sha256, so a deleted or
altered download is planned again. Deleting the resource deletes the local file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from skyform.catalog.model import Asset, Dataset
from skyform.errors import Issue, NotFound, PermanentError
from skyform.providers import ALL_FIELDS, OperationContext, Record, ResourceKind, Result

from .background import cancel, look
from .errors import sdk_errors
from .targets import api_for, check_format, target_of, target_schema

_TARGETS, _ONE_OF = target_schema(("project_id", "task_id", "job_id"))
SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Export a CVAT project, task or job dataset and download it into the mission's artifacts.",
    "required": ["format"],
    "properties": {
        **_TARGETS,
        "format": {
            "type": "string",
            "minLength": 1,
            "description": "Exporter name as CVAT lists it, e.g. 'CVAT for images 1.1', 'COCO 1.0'.",
        },
        "include_images": {"type": "boolean", "description": "Put the images in the archive too (default false)."},
        "filename": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.\- ]*\.zip$",
            "description": "Name of the downloaded archive (default: <target>-<id>-<format>.zip).",
        },
    },
    "oneOf": _ONE_OF,
}

OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "path": {"type": "string", "description": "Absolute path of the downloaded archive."},
        "sha256": {"type": "string"},
        "bytes": {"type": "integer"},
        "format": {"type": "string"},
        "artifact": {"type": "string", "description": "sha256:<hex> in the artifact store (skyform artifacts get)"},
    },
    "required": ["path", "sha256", "bytes", "format"],
}


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def archive_name(spec: Mapping[str, Any]) -> str:
    """The archive's file name: the spec's filename or <target>-<id>-<format>.zip."""
    if spec.get("filename"):
        return str(spec["filename"])
    target, target_id = target_of(spec)
    slug = re.sub(r"[^a-z0-9]+", "-", str(spec["format"]).lower()).strip("-")
    return f"{target}-{target_id}-{slug}.zip"


class ExportKind(ResourceKind):
    """A dataset archive exported from CVAT into the artifacts directory."""

    name = "Export"
    description = "A CVAT dataset export (project, task or job), downloaded into the mission's artifacts."
    spec_schema = SPEC_SCHEMA
    outputs_schema = OUTPUTS_SCHEMA
    immutable = ALL_FIELDS
    long_running = True
    poll_interval = 2.0
    delete_note = "deletes the downloaded archive; nothing changes in CVAT"

    def plan_check(self, spec: Mapping[str, Any], ctx: OperationContext) -> Iterable[Issue]:
        if isinstance(spec.get("format"), str):
            _, exporters = ctx.client.formats()
            yield from check_format(spec["format"], exporters, "export")

    def _stored(self, path: Path, spec: Mapping[str, Any], ctx: OperationContext) -> tuple[dict[str, Any], str]:
        """The archive put in the artifact store: the outputs that record it, and its sha256."""
        digest = ctx.artifacts.put(path)
        outputs = {"path": str(path), "sha256": digest.hex, "bytes": path.stat().st_size, "format": spec["format"]}
        return {**outputs, "artifact": str(digest)}, digest.hex

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        target, target_id = target_of(spec)
        with sdk_errors(f"starting the export of {target} {target_id}"):
            started, _ = api_for(ctx.client.sdk, target).create_dataset_export(
                format=spec["format"], id=target_id, save_images=bool(spec.get("include_images", False))
            )
        return Result(
            remote_id=started.rq_id, status="running", message="CVAT is exporting", private={"rq_id": started.rq_id}
        )

    def poll(self, record: Record, ctx: OperationContext) -> Result:
        rq_id = str(record.remote_id)
        try:
            state = look(ctx.client, rq_id)
        except NotFound:
            return Result(
                remote_id=rq_id,
                status="failed",
                message="CVAT no longer knows this export request (expired?); apply again to export anew",
            )
        if state.running:
            return Result(remote_id=rq_id, status="running", progress=state.progress)
        if state.status == "failed":
            return Result(remote_id=rq_id, status="failed", message=f"CVAT could not export: {state.message}")
        if not state.result_url:
            raise PermanentError(
                f"CVAT: export {rq_id} finished without a download URL (was it sent to cloud storage?)", provider="cvat"
            )
        from cvat_sdk.core.downloading import Downloader

        from .media import UploadProgress

        path = ctx.artifacts_dir / archive_name(record.spec)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # the SDK refuses to overwrite; a new export replaces the old file
        with sdk_errors(f"downloading export {rq_id}"):
            Downloader(ctx.client.sdk).download_file(
                state.result_url, output_path=path, pbar=UploadProgress(ctx.reporter, "download", "downloading")
            )
        outputs, sha = self._stored(path, record.spec, ctx)
        return Result(
            remote_id=rq_id,
            status="ready",
            outputs=outputs,
            observed={k: record.spec[k] for k in record.spec},
            private={"sha256": sha},
        )

    def cancel(self, record: Record, ctx: OperationContext) -> None:
        cancel(ctx.client, str(record.remote_id), ctx.reporter.warn)

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        path = Path(record.outputs.get("path") or ctx.artifacts_dir / archive_name(record.spec))
        if record.status == "running":
            return Result(remote_id=record.remote_id, status="running")
        if "sha256" not in record.outputs and path.is_file():
            # `skyform import`: the archive already downloaded is the export being recorded
            outputs, sha = self._stored(path, record.spec, ctx)
            return Result(
                remote_id=record.remote_id,
                status="ready",
                outputs=outputs,
                observed={k: record.spec[k] for k in record.spec},
                private={"sha256": sha},
            )
        if not path.is_file() or _digest(path) != record.outputs.get("sha256"):
            return None  # the download is gone or altered: export again
        return Result(
            remote_id=record.remote_id,
            status="ready",
            outputs=dict(record.outputs),
            observed={k: record.spec[k] for k in record.spec},
        )

    def datasets(self, record: Record) -> list[Dataset]:
        """The downloaded archive as one dataset: annotations (and images) in the export's format."""
        out = record.outputs
        if not out.get("path"):
            return []
        fmt = str(out.get("format") or record.spec.get("format", ""))
        target, target_id = target_of(record.spec)
        return [
            Dataset(
                key="export",
                title=f"CVAT {fmt} export of {target} {target_id}",
                assets=(
                    Asset(
                        key="archive",
                        title=Path(out["path"]).name,
                        media_type="application/zip",
                        roles=("data", "annotations"),
                        path=out["path"],
                        sha256=out.get("sha256"),
                        size=out.get("bytes"),
                    ),
                ),
                lineage=f"Annotations exported by CVAT as {fmt}"
                + (" with images" if record.spec.get("include_images") else "")
                + ".",
                properties={"skyform:format": fmt},
            )
        ]

    def delete(self, record: Record, ctx: OperationContext) -> None:
        path = record.outputs.get("path")
        if path:
            Path(path).unlink(missing_ok=True)
