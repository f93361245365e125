"""How a remote job reads in skyform terms: outputs, observed spec, messages, poll backoff.

Pure functions over the documented Job object (``GET /jobs/{id}``) and ``jobProgress``,
kept apart from the operations so they can be tested without a service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .schemas import TERMINAL_STATES


def state_of(job_or_progress: Mapping[str, Any]) -> str:
    """The lowercase state (the progress example shows "Active"; compare case-insensitively)."""
    return str(job_or_progress.get("state") or "").lower()


def output_ids(job: Mapping[str, Any]) -> dict[str, str | None]:
    """Output format -> Reality Data id (None until the job produced it)."""
    outputs = (job.get("jobSettings") or {}).get("outputs") or []
    return {str(o.get("format")): o.get("id") for o in outputs if isinstance(o, dict)}


def output_key(fmt: str) -> str:
    """A format name usable in an expression path: ``Cesium 3D Tiles`` -> ``Cesium_3D_Tiles``, ``3MX`` -> ``_3MX``."""
    key = re.sub(r"[^A-Za-z0-9_-]", "_", fmt)
    return "_" + key if key[:1].isdigit() else key


def outputs_of(job: Mapping[str, Any]) -> dict[str, Any]:
    """The resource outputs: id, state, cost, location, and the reality data id of each format.

    Each format's id is under its own name and, when that name cannot be written in an
    expression (spaces, slashes, a leading digit), under :func:`output_key` of it as well;
    ``ids`` lists them in the order the spec requested the formats.
    """
    execution = job.get("executionInformation") or {}
    ids = output_ids(job)
    out: dict[str, Any] = {
        "id": job.get("id"),
        "state": state_of(job),
        "estimatedCost": job.get("estimatedCost"),
        "estimatedUnits": execution.get("estimatedUnits"),
        "location": job.get("location"),
        "workspaceId": job.get("workspaceId"),
        "iTwinId": job.get("iTwinId"),
        "outputs": ids,
        "ids": list(ids.values()),
    }
    for fmt, rid in ids.items():
        out.setdefault(fmt, rid)
        out.setdefault(output_key(fmt), rid)
    keep = set(ids) | {output_key(f) for f in ids} | {"estimatedCost"}
    return {k: v for k, v in out.items() if v is not None or k in keep}


def observed_of(job: Mapping[str, Any], applied: Mapping[str, Any]) -> dict[str, Any]:
    """The remote values of the spec fields, shaped like the spec (for drift detection).

    Only settings keys the applied spec named are reported, so service defaults (such as a
    filled-in processingEngines) are not mistaken for drift.
    """
    settings = dict(job.get("jobSettings") or {})
    settings["outputs"] = list(output_ids(job))
    wanted = (applied.get("settings") or {}).keys() or settings.keys()
    observed: dict[str, Any] = {
        "type": job.get("type"),
        "name": job.get("name"),
        "workspaceId": job.get("workspaceId"),
        "inputs": job.get("inputs") or [],
        "settings": {k: settings[k] for k in wanted if k in settings},
    }
    if job.get("costEstimationParameters") is not None:
        observed["costEstimationParameters"] = job["costEstimationParameters"]
    return observed


def messages(items: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """Readable lines for executionInformation errors or warnings."""
    lines = []
    for item in items or []:
        head = item.get("title") or item.get("code") or "message"
        text = item.get("message") or ""
        code = f" [{item['code']}]" if item.get("code") and item.get("title") else ""
        lines.append(f"{head}{code}: {text}" if text else f"{head}{code}")
    return lines


def next_poll(
    backoff: Sequence[float], memory: Mapping[str, Any] | None, percentage: Any
) -> tuple[float, dict[str, Any]]:
    """The documented backoff: 15, 30, 60, 120 s..., restarted whenever the percentage changes.

    ``memory`` is what the previous poll kept (``{"percentage", "step"}``); returns the delay
    and the memory to keep.
    """
    memory = memory or {}
    moved = memory.get("percentage") != percentage
    step = 0 if moved else min(int(memory.get("step", 0)) + 1, len(backoff) - 1)
    return float(backoff[step]), {"percentage": percentage, "step": step}


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES


READ_ACCESS = "https://api.bentley.com/reality-management/reality-data/{id}/readaccess?iTwinId={itwin}"


def job_datasets(record: Any) -> list[Any]:
    """Each output format the job produced, as a dataset held by the service (Reality Data).

    The bytes stay in Bentley's Reality Management; an asset is its documented read-access
    link (which answers with a time-limited container URL), so no checksum is claimed.
    """
    from skyform.catalog.model import Asset, Dataset

    out = record.outputs
    spec = record.spec if isinstance(record.spec, dict) else {}
    settings = spec.get("settings") or {}
    result: list[Any] = []
    for fmt, rid in (out.get("outputs") or {}).items():
        if not rid:
            continue
        asset = Asset(
            key="reality-data",
            title=f"{fmt} (Reality Data {rid})",
            media_type="application/json",
            roles=("data",),
            href=READ_ACCESS.format(id=rid, itwin=out.get("iTwinId") or ""),
        )
        result.append(
            Dataset(
                key=output_key(fmt).strip("_").lower() or "output",
                title=f"iTwin {spec.get('type', '')} job output {fmt}",
                assets=(asset,),
                software={"iTwin Reality Modeling": "contextcapture v1"},
                options={k: v for k, v in settings.items() if k != "outputs"},
                lineage=f"Reconstructed by Bentley iTwin Reality Modeling ({spec.get('type', 'Full')} job "
                f"{record.remote_id}) in {out.get('location') or 'the default datacenter'}.",
                properties={"skyform:reality_data_id": rid, "skyform:format": fmt},
            )
        )
    return result
