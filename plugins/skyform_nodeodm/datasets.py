"""A finished NodeODM task's products as datasets: orthophoto, DEMs, point cloud, textured model.

Everything comes from the task's record: the files skyform extracted from ``all.zip`` with
the digests it computed then, the versions the node reported in ``GET /info``, the PROJ
string and orthophoto corners ODM wrote, and the options the task ran with.
"""

from __future__ import annotations

import re
from typing import Any

from skyform.catalog.model import Asset, Dataset
from skyform.providers import Record

GEOTIFF = "image/tiff; application=geotiff"
#: output name -> (title, media type, roles)
KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "orthophoto": ("Orthophoto", GEOTIFF, ("data", "visual")),
    "dsm": ("Digital surface model", GEOTIFF, ("data", "dsm")),
    "dtm": ("Digital terrain model", GEOTIFF, ("data", "dtm")),
    "point_cloud": ("Georeferenced point cloud", "application/vnd.laszip", ("data", "point-cloud")),
    "textured_model": ("Textured 3D model", "model/obj", ("data", "3d-model")),
}
_MEDIA_BY_SUFFIX = {".las": "application/vnd.las", ".ply": "application/ply"}


def task_datasets(record: Record) -> list[Dataset]:
    """One dataset per ODM product the task made (the report travels with the orthophoto)."""
    out = record.outputs
    digests: dict[str, dict[str, Any]] = out.get("digests") or {}
    software = {k: str(v) for k, v in (out.get("software") or {}).items()}
    options = dict((record.spec or {}).get("options") or {})
    code = epsg_of(out.get("crs"))
    lineage = (
        f"Photogrammetry of {out.get('images_count', 0)} image(s) on "
        + " / ".join(f"{k} {v}" for k, v in software.items())
        if software
        else "Photogrammetry on NodeODM"
    )
    lineage += ", options " + (", ".join(f"{k}={v}" for k, v in sorted(options.items())) if options else "default")
    result: list[Dataset] = []
    for name, (title, media, roles) in KINDS.items():
        path = out.get(name)
        if not path:
            continue
        media = next((m for suffix, m in _MEDIA_BY_SUFFIX.items() if path.endswith(suffix)), media)
        digest = digests.get(name) or {}
        assets = [
            Asset(
                key=name,
                title=title,
                media_type=media,
                roles=roles,
                path=path,
                sha256=digest.get("sha256"),
                size=digest.get("bytes"),
            )
        ]
        raster = media == GEOTIFF
        result.append(
            Dataset(
                key=name,
                title=title,
                assets=tuple(assets),
                software=software,
                options=options,
                lineage=lineage + ".",
                proj_code=code if raster or name == "point_cloud" else None,
                proj_bbox=tuple(out["bounds"]) if raster and out.get("bounds") else None,
            )
        )
    return result


def epsg_of(proj: str | None) -> str | None:
    """The EPSG code of the UTM/WGS84 PROJ strings ODM writes (``+proj=utm +zone=32 ...``)."""
    if not proj:
        return None
    explicit = re.search(r"EPSG:(\d+)", proj, re.IGNORECASE)
    if explicit:
        return f"EPSG:{explicit.group(1)}"
    zone = re.search(r"\+zone=(\d{1,2})\b", proj)
    if "+proj=utm" in proj and zone and ("+datum=WGS84" in proj or "+ellps=WGS84" in proj):
        return f"EPSG:{(32700 if '+south' in proj else 32600) + int(zone.group(1))}"
    return None
