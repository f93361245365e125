"""A finished job's outputs, downloaded from Reality Management into the artifact store.

The bytes of each output format live in a Reality Data container. Its read access
(``GET {reality_url}/reality-data/{id}/readaccess``, the job's bearer token) gives a
time-limited container URL with a SAS signature; the container is listed (Azure Blob's
``restype=container&comp=list``, paged by ``NextMarker``) and every file is streamed to
``<artifacts>/<format>/<name>.part`` while hashed, renamed when complete, and put in the
artifact store by its sha256 - like NodeODM's all.zip - so any machine fetches and
verifies the same bytes and ``skyform artifacts gc`` keeps them. The SAS signature is a
credential: it is redacted from every message and never recorded.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from skyform import redact
from skyform.errors import PermanentError, TransientError
from skyform.http import ServiceClient, reading
from skyform.providers import OperationContext

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
        container = read_access(client, rid, itwin_id)
        target = ctx.artifacts_dir / _folder(fmt)
        files = []
        with _blob_client(container) as blobs:
            names = list(_list(blobs, rid))
            for i, name in enumerate(names):
                path, sha256, size = _download(blobs, rid, name, target)
                digest = ctx.artifacts.put(path)
                entry = {"name": name, "path": str(path), "sha256": sha256, "bytes": size}
                files.append({**entry, "artifact": str(digest)})
                ctx.reporter.progress((i + 1) / len(names), f"{fmt}: stored {i + 1}/{len(names)} file(s)")
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


def _list(blobs: ServiceClient, rid: str) -> Iterator[str]:
    marker = ""
    while True:
        params = {"restype": "container", "comp": "list", **({"marker": marker} if marker else {})}
        response = blobs.request("GET", "", params=params)
        with reading(PROVIDER, f"list the files of reality data {rid}"):
            root = ET.fromstring(response.content)
            for blob in root.iter("Blob"):
                yield str(blob.findtext("Name"))
            marker = root.findtext("NextMarker") or ""
        if not marker:
            return


def _download(blobs: ServiceClient, rid: str, name: str, target: Path) -> tuple[Path, str, int]:
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise PermanentError(f"{PROVIDER}: reality data {rid} holds a file named {name!r} outside its folder")
    path = target.joinpath(*relative.parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    h, size = hashlib.sha256(), 0
    where = f"GET reality data {rid} file {name}"
    try:
        with blobs.http.stream("GET", "/" + str(relative)) as response:
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
