"""The ``all.zip`` a simulated task produces: ODM's output folders with tiny placeholder files.

Which products appear follows the options the way ODM does (a DSM only with ``dsm``, no
textured model with ``fast-orthophoto`` or ``skip-3dmodel``, no report with
``skip-report``, no EPT with ``skipPostProcessing``); a task's ``outputs`` list replaces the
default set. Contents start with each format's magic bytes so that sniffers recognise them.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 24
LAZ = b"LASF" + b"\x00" * 28
PDF = b"%PDF-1.4\n% skyform sandbox placeholder\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _flag(task: dict[str, Any], name: str) -> bool:
    return any(o["name"] == name and o["value"] is True for o in task["options"])


def product_files(task: dict[str, Any]) -> dict[str, bytes]:
    """Project-relative path -> content for everything ODM would produce for this task."""
    files: dict[str, bytes] = {
        "images.json": json.dumps([{"filename": n} for n in task["images"]]).encode(),
        "cameras.json": b"{}",
        "log.json": json.dumps({"odmVersion": "3.5.5", "stages": []}).encode(),
        "task_output.txt": "\n".join(task["output"]).encode(),
        "odm_georeferencing/odm_georeferenced_model.laz": LAZ,
        "odm_georeferencing/proj.txt": b"+proj=utm +zone=32 +datum=WGS84 +units=m +no_defs",
    }
    if not _flag(task, "skip-orthophoto"):
        files["odm_orthophoto/odm_orthophoto.tif"] = TIFF
        # ODM writes the orthophoto's bounds in the projected CRS of proj.txt: minx miny maxx maxy
        files["odm_orthophoto/odm_orthophoto_corners.txt"] = b"720123.25 6174281.5 720298.75 6174402.0\n"
        if _flag(task, "orthophoto-png"):
            files["odm_orthophoto/odm_orthophoto.png"] = PNG
    if _flag(task, "dsm"):
        files["odm_dem/dsm.tif"] = TIFF
    if _flag(task, "dtm"):
        files["odm_dem/dtm.tif"] = TIFF
    if not (_flag(task, "fast-orthophoto") or _flag(task, "skip-3dmodel")):
        files["odm_texturing/odm_textured_model_geo.obj"] = (
            b"mtllib odm_textured_model_geo.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"
        )
        files["odm_texturing/odm_textured_model_geo.mtl"] = b"newmtl material0000\nmap_Kd material0000.png\n"
        files["odm_texturing/odm_textured_model_geo_material0000_map_Kd.png"] = PNG
    if not _flag(task, "skip-report"):
        files["odm_report/report.pdf"] = PDF
        files["odm_report/stats.json"] = json.dumps({"images": task["imagesCount"]}).encode()
    if not task.get("skipPostProcessing"):
        files["entwine_pointcloud/ept.json"] = json.dumps({"points": 0}).encode()
    return files


def all_zip(task: dict[str, Any]) -> bytes:
    """The bytes of the task's ``all.zip`` (deterministic for a given task state)."""
    files = product_files(task)
    wanted = task.get("outputs") or []
    if wanted:
        files = {p: c for p, c in files.items() if any(p == w or p.startswith(w.rstrip("/") + "/") for w in wanted)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[path])
    return buffer.getvalue()
