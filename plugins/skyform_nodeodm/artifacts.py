"""Fetching a finished task's ``all.zip`` and unpacking it without trusting it.

The archive is streamed to ``<artifacts>/all.zip.part`` while its sha256 is computed, checked
against Content-Length, tested entry by entry (CRC), then renamed. Extraction refuses
absolute paths, ``..`` components, symbolic links and special files, entries whose size is
out of proportion to their compressed size (zip bombs), and archives larger than the
configured limit; it writes into a fresh directory that replaces the previous one only
when everything went well.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from skyform import redact
from skyform.errors import PermanentError, TransientError
from skyform.providers import Reporter

from .client import PROVIDER, NodeClient, unwrap

MAX_RATIO = 1000  # uncompressed/compressed; real ODM products compress far less
RATIO_FLOOR = 1024 * 1024  # small entries may compress extremely well (empty files, JSON)
MAX_ENTRIES = 200_000

#: output name -> candidate paths inside all.zip, first found wins (ODM 3.x, then older)
PRODUCTS: dict[str, tuple[str, ...]] = {
    "orthophoto": ("odm_orthophoto/odm_orthophoto.tif",),
    "dsm": ("odm_dem/dsm.tif",),
    "dtm": ("odm_dem/dtm.tif",),
    "point_cloud": (
        "odm_georeferencing/odm_georeferenced_model.laz",
        "odm_georeferencing/odm_georeferenced_model.las",
        "odm_georeferencing/odm_georeferenced_model.ply",
    ),
    "textured_model": ("odm_texturing/odm_textured_model_geo.obj", "odm_texturing/odm_textured_model.obj"),
    "report": ("odm_report/report.pdf",),
}


class UnsafeArchive(PermanentError):
    """all.zip holds an entry that must not be extracted."""


def download(node: NodeClient, uuid: str, target_dir: Path, reporter: Reporter) -> tuple[Path, str, int]:
    """Stream all.zip into ``target_dir``; returns (path, sha256, bytes)."""
    reporter.phase("downloading")
    target_dir.mkdir(parents=True, exist_ok=True)
    part = target_dir / "all.zip.part"
    final = target_dir / "all.zip"
    digest = hashlib.sha256()
    received = 0
    where = f"download all.zip of task {uuid}"
    try:
        with node.http.http.stream("GET", f"/task/{uuid}/download/all.zip") as response:
            if response.status_code != 200:
                response.read()
                raise node.http.error_for(response, f"GET {node.url}/task/{uuid}/download/all.zip")
            if "application/json" in response.headers.get("content-type", ""):
                response.read()
                unwrap(response.json(), where, uuid=uuid)
                raise TransientError(f"{PROVIDER}: {where}: the node sent JSON instead of a zip", provider=PROVIDER)
            expected = int(response.headers.get("content-length") or 0)
            with part.open("wb") as fh:
                for chunk in response.iter_bytes(1 << 20):
                    fh.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if expected:
                        reporter.progress(received / expected, f"all.zip {received / 1024**2:.1f} MiB")
    except httpx.TransportError as exc:
        raise TransientError(
            f"{PROVIDER}: {where}: {redact.redact(str(exc)) or type(exc).__name__}", provider=PROVIDER
        ) from exc
    except OSError as exc:  # the local disk: full, read-only, no permission
        raise PermanentError(
            f"{PROVIDER}: {where}: cannot write {part}: {exc.strerror or exc}", provider=PROVIDER
        ) from exc
    if expected and received != expected:
        raise TransientError(f"{PROVIDER}: {where}: got {received} of {expected} bytes", provider=PROVIDER)
    verify(part, uuid)
    part.replace(final)
    return final, digest.hexdigest(), received


def verify(path: Path, uuid: str) -> None:
    """Refuse a file that is not a complete zip archive (entry CRCs are checked while extracting,
    after the entries were vetted, so that a zip bomb is never inflated)."""
    if not zipfile.is_zipfile(path):
        path.unlink(missing_ok=True)
        raise TransientError(
            f"{PROVIDER}: all.zip of task {uuid} is not a zip archive (truncated download?)", provider=PROVIDER
        )


def _check_entry(info: zipfile.ZipInfo) -> str | None:
    """Why an entry must not be extracted, or None when it is safe."""
    name = info.filename
    if "\x00" in name:
        return "has a NUL byte in its name"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "has an absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "escapes the extraction directory with '..'"
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no Unix type recorded (a plain file)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is a symbolic link or special file"
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return f"would expand {info.compress_size} bytes into {info.file_size} (ratio above {MAX_RATIO}: a zip bomb?)"
    return None


def extract(archive: Path, target: Path, uuid: str, *, max_bytes: int) -> Path:
    """Extract ``archive`` into ``target`` (replacing it) after checking every entry."""
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise UnsafeArchive(f"{PROVIDER}: all.zip of task {uuid} refused: {len(infos)} entries", provider=PROVIDER)
        total = 0
        for info in infos:
            reason = _check_entry(info)
            if reason is not None:
                raise UnsafeArchive(
                    f"{PROVIDER}: all.zip of task {uuid} refused: entry {info.filename!r} {reason}; "
                    "nothing was extracted",
                    provider=PROVIDER,
                    hint=f"the archive is kept at {archive} for inspection",
                )
            total += info.file_size
        if total > max_bytes:
            raise UnsafeArchive(
                f"{PROVIDER}: all.zip of task {uuid} refused: it would expand to {total} bytes, "
                f"above max_extract_bytes ({max_bytes})",
                provider=PROVIDER,
            )
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            _write_entries(zf, infos, staging, uuid)
        except zipfile.BadZipFile as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise TransientError(
                f"{PROVIDER}: all.zip of task {uuid} is corrupt ({exc}); it will be downloaded again", provider=PROVIDER
            ) from exc
        except OSError as exc:  # the local disk: full, read-only, no permission
            shutil.rmtree(staging, ignore_errors=True)
            raise PermanentError(
                f"{PROVIDER}: cannot extract all.zip of task {uuid} into {staging}: {exc.strerror or exc}",
                provider=PROVIDER,
            ) from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    shutil.rmtree(target, ignore_errors=True)
    staging.replace(target)
    return target


def _write_entries(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], staging: Path, uuid: str) -> None:
    """Write vetted entries under ``staging``, re-checking where each one lands and its size."""
    root = staging.resolve()
    for info in infos:
        dest = (staging / info.filename.replace("\\", "/")).resolve()
        if root not in dest.parents and dest != root:
            raise UnsafeArchive(
                f"{PROVIDER}: all.zip of task {uuid} refused: entry {info.filename!r} "
                "resolves outside the extraction directory",
                provider=PROVIDER,
            )
        if info.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with zf.open(info) as src, dest.open("wb") as out:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > info.file_size:
                    raise UnsafeArchive(
                        f"{PROVIDER}: all.zip of task {uuid} refused: entry "
                        f"{info.filename!r} is larger than it declares",
                        provider=PROVIDER,
                    )
                out.write(chunk)


def products(assets: Path) -> dict[str, Any]:
    """Absolute paths of the well-known ODM products found under ``assets`` (None if absent)."""
    found: dict[str, Any] = {}
    for output, candidates in PRODUCTS.items():
        found[output] = next((str(assets / c) for c in candidates if (assets / c).is_file()), None)
    return found


def digests(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """sha256 and size of each product file, computed from the bytes just extracted."""
    result: dict[str, dict[str, Any]] = {}
    for output, path in found.items():
        if path is not None:
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            result[output] = {"sha256": digest.hexdigest(), "bytes": Path(path).stat().st_size}
    return result


def georeference(assets: Path) -> tuple[str | None, list[float] | None]:
    """The PROJ string ODM wrote (``proj.txt``) and the orthophoto's corners in it, when present."""
    crs_file = assets / "odm_georeferencing/proj.txt"
    corners_file = assets / "odm_orthophoto/odm_orthophoto_corners.txt"
    crs = crs_file.read_text(errors="replace").strip() or None if crs_file.is_file() else None
    bounds: list[float] | None = None
    if corners_file.is_file():
        try:
            values = [float(v) for v in corners_file.read_text(errors="replace").split()]
        except ValueError:
            values = []
        bounds = values if len(values) == 4 else None
    return crs, bounds
