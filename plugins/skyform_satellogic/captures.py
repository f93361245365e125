"""A task's captures as datasets: when each was shot, by which satellite, over what footprint.

The footprint is the target the order asked for (a point or an area in WGS84), since the
tasking API reports no per-capture geometry; published captures link to their scenes in
Satellogic's Telluric catalogue (``sceneset_id`` is the capture id), the documented way to
reach the deliverables.
"""

from __future__ import annotations

from typing import Any

from skyform.catalog.model import Asset, Dataset
from skyform.providers import Record

SCENES_URL = "https://api.satellogic.com/telluric/scenes/?sceneset_id={capture_id}"


def capture_datasets(record: Record) -> list[Dataset]:
    """One dataset per capture the task recorded; none before the first capture."""
    target = record.spec.get("target") if isinstance(record.spec, dict) else None
    geometry = _geometry(target)
    result: list[Dataset] = []
    for capture in record.outputs.get("captures") or []:
        capture_id = str(capture.get("capture_id", ""))
        if not capture_id:
            continue
        published = str(capture.get("status", "")).lower() == "published"
        assets = (
            (
                Asset(
                    key="scenes",
                    title=f"Scenes of capture {capture_id} (Telluric)",
                    media_type="application/json",
                    roles=("metadata",),
                    href=SCENES_URL.format(capture_id=capture_id),
                ),
            )
            if published
            else ()
        )
        result.append(
            Dataset(
                key=f"capture-{capture_id}",
                title=f"Satellogic capture {capture_id}",
                assets=assets,
                geometry=geometry,
                datetime=capture.get("start") or None,
                lineage=f"Captured by {capture.get('satellite_name') or 'a Satellogic satellite'} for task "
                f"{record.remote_id} (product {record.outputs.get('product', '?')}).",
                properties={
                    "platform": capture.get("satellite_name") or None,
                    "constellation": "satellogic",
                    "skyform:capture_status": capture.get("status"),
                },
            )
        )
    return result


def _geometry(target: Any) -> dict[str, Any] | None:
    """The order's target as GeoJSON, when it is a plain Point or Polygon with numbers."""
    if not isinstance(target, dict) or target.get("type") not in ("Point", "Polygon", "MultiPolygon"):
        return None
    coordinates = target.get("coordinates")
    if not _numeric(coordinates):
        return None
    return {"type": target["type"], "coordinates": coordinates}


def _numeric(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_numeric(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)
