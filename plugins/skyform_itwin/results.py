"""A finished job's outputs, downloaded from Reality Management into the artifact store.

The bytes of each output format live in a Reality Data container. Its read access
(``GET {reality_url}/reality-data/{id}/readaccess``, the job's bearer token) gives a
time-limited container URL with a SAS signature; the container is listed (Azure Blob's
``restype=container&comp=list``, paged by ``NextMarker``) and every file is streamed to
``<artifacts>/<format>/<reality data id>/<name>.part`` while hashed, renamed when complete, and put in the
artifact store by its sha256 - like NodeODM's all.zip - so any machine fetches and
verifies the same bytes and ``skyform artifacts gc`` keeps them. The SAS signature is a
credential: it is redacted from every message and never recorded.

The download is one step of many idempotent reads, so each read is retried where it stands
(:func:`skyform.retrying.with_retries`) rather than failing the poll and starting the whole set
again; and a file already complete on disk at its listed size (a poll that failed later in the
set, an apply stopped mid-way) is hashed again, not fetched again. Without both, a result of
ten files under a flaky network almost never completed (the faults campaign: the poll failed
through four applies).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from skyform import redact
from skyform.artifacts.digest import Digest
from skyform.errors import PermanentError, TransientError
from skyform.http import ServiceClient, reading
from skyform.providers import OperationContext
from skyform.retrying import with_retries

from .errors import PROVIDER


def store_outputs(
    client: Any, ids: Mapping[str, str | None], itwin_id: str | None, ctx: OperationContext
) -> dict[str, Any]:
    """Format -> ``{reality_data_id, files: [{name, path, sha256, bytes, artifact}]}`` of every
    produced output, downloaded and stored (see the module docstring)."""
    stored: dict[str, Any] = {}
    for fmt, rid in ids.items():
        if not rid:
            continue
        container = with_retries(partial(read_access, client, rid, itwin_id))
        # one folder per reality data: a file found complete there is this output's, never a
        # replaced job's file of the same name and size
        target = ctx.artifacts_dir / _folder(fmt) / _folder(rid)
        files = []
        with _blob_client(container) as blobs:
            listed = _list(blobs, rid)
            for i, (name, length) in enumerate(listed):
                path, sha256, size = _fetched(blobs, rid, name, length, target)
                digest = ctx.artifacts.put(path)
                entry = {"name": name, "path": str(path), "sha256": sha256, "bytes": size}
                files.append({**entry, "artifact": str(digest)})
                ctx.reporter.progress((i + 1) / len(listed), f"{fmt}: stored {i + 1}/{len(listed)} file(s)")
        stored[fmt] = {"reality_data_id": rid, "files": files}
    return stored


def read_access(client: Any, rid: str, itwin_id: str | None) -> str:
    """The container URL (with its SAS signature, registered for redaction) of ``rid``."""
    params = {"iTwinId": itwin_id} if itwin_id else {}
    where = f"GET reality-data/{rid}/readaccess"
    body = client.reality.get(f"/reality-data/{rid}/readaccess", params=params)
    with reading(PROVIDER, where):
        href = str(body["_links"]["containerUrl"]["href"])
    for key, value in parse_qsl(urlsplit(href).query):
        if key == "sig":
            redact.register(value)
    return href


def _blob_client(container: str) -> ServiceClient:
    parts = urlsplit(container)
    # no bearer token: the SAS signature in the query is the container's own credential
    return ServiceClient(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        provider=PROVIDER,
        params=dict(parse_qsl(parts.query)),
        timeout=120.0,
    )


def _list(blobs: ServiceClient, rid: str) -> list[tuple[str, int | None]]:
    """Every file of the container with its listed Content-Length (None where not given)."""
    files: list[tuple[str, int | None]] = []
    marker = ""
    while True:
        params = {"restype": "container", "comp": "list", **({"marker": marker} if marker else {})}
        response = with_retries(partial(blobs.request, "GET", "", params=params))
        with reading(PROVIDER, f"list the files of reality data {rid}"):
            root = ET.fromstring(response.content)
            for blob in root.iter("Blob"):
                length = blob.findtext("Properties/Content-Length")
                files.append((str(blob.findtext("Name")), int(length) if length else None))
            marker = root.findtext("NextMarker") or ""
        if not marker:
            return files


def _fetched(blobs: ServiceClient, rid: str, name: str, length: int | None, target: Path) -> tuple[Path, str, int]:
    """The file on disk, with its sha256 and size: downloaded unless already complete there
    (a file is renamed into place only when whole, and its size is the listed one)."""
    path = _target(rid, name, target)
    if length is not None and path.is_file() and path.stat().st_size == length:
        return path, Digest.of_file(path).hex, length
    return with_retries(partial(_download, blobs, rid, name, path))


def _target(rid: str, name: str, target: Path) -> Path:
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise PermanentError(f"{PROVIDER}: reality data {rid} holds a file named {name!r} outside its folder")
    return target.joinpath(*relative.parts)


def _download(blobs: ServiceClient, rid: str, name: str, path: Path) -> tuple[Path, str, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    h, size = hashlib.sha256(), 0
    where = f"GET reality data {rid} file {name}"
    try:
        with blobs.http.stream("GET", "/" + str(PurePosixPath(name))) as response:
            if not response.is_success:
                response.read()
                raise blobs.error_for(response, where)
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)
                    h.update(chunk)
                    size += len(chunk)
    except httpx.TransportError as exc:  # a dropped connection: the retry downloads it again
        raise TransientError(f"{PROVIDER}: {where}: {redact.redact(str(exc)) or type(exc).__name__}") from exc
    partial.replace(path)  # complete: only now under its name
    return path, h.hexdigest(), size


def _folder(fmt: str) -> str:
    """A directory name for a format ("Cesium 3D Tiles" -> "Cesium_3D_Tiles")."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in fmt) or "output"
