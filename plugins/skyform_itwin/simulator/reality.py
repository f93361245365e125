"""The Reality Management side of a finished job: read access to an output and its bytes.

``GET /reality-management/reality-data/{id}/readaccess?iTwinId=`` (bearer token, as the
documented API) answers ``_links.containerUrl.href``: a time-limited container URL with a
SAS signature, here ``<simulator>/blobs/{id}?sv=...&sig=...``. That container speaks Azure
Blob's two reads a downloader needs: ``?restype=container&comp=list`` (the XML
``EnumerationResults``, paged with ``marker``/``NextMarker``) and ``GET /blobs/{id}/{name}``.
A wrong or missing ``sig`` is Azure's 403 ``AuthenticationFailed``. The files of a format are
small and the same for the same reality data id, so a test can check every byte.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from .answers import error

READ_ACCESS = "/reality-management/reality-data/<rid>/readaccess"
#: files a format's reality data holds (names under the container)
FILES_BY_FORMAT: dict[str, tuple[str, ...]] = {
    "OBJ": ("Production/Data/Tile_+000_+000.obj", "Production/Data/Tile_+000_+000.mtl"),
    "Cesium 3D Tiles": ("Production/tileset.json", "Production/Data/Tile_+000_+000.b3dm"),
}
DEFAULT_FILES = ("Production/metadata.xml", "Production/Data/model.bin")
#: blobs per listing page (Azure's default is 5000; small here so paging is exercised)
PAGE = 3


def reality_routes(handler: str = "reality") -> Iterable[Rule]:
    yield Rule(READ_ACCESS, methods=["GET"], endpoint=f"{handler}.read_access")
    yield Rule("/blobs/<rid>", methods=["GET"], endpoint=f"{handler}.container")
    yield Rule("/blobs/<rid>/<path:name>", methods=["GET"], endpoint=f"{handler}.get")


def blob_bytes(rid: str, fmt: str, name: str) -> bytes:
    """The content of one output file: the same for the same reality data, format and name."""
    seed = hashlib.sha256(f"{rid}/{fmt}/{name}".encode()).digest()
    return b"".join(hashlib.sha256(seed + bytes([i])).digest() for i in range(40)) + name.encode()


class Reality:
    """The Reality Management routes, a handler the simulator holds (``reality.<method>``)."""

    def __init__(self, simulator: Any) -> None:
        self.simulator = simulator

    @property
    def data(self) -> dict[str, Any]:
        return self.simulator.data

    def _produced(self, rid: str) -> str | None:
        """The format whose output ``rid`` is, once its job succeeded; None otherwise."""
        for job in self.data["jobs"].values():
            for fmt, output in (job.get("_outputIds") or {}).items():
                if output == rid and self.simulator.jobs.render(job)["state"] == "success":
                    return str(fmt)
        return None

    def read_access(self, request: Request, rid: str) -> Response:
        if (denied := self.simulator.gate(request)) is not None:
            return denied
        if self._produced(rid) is None:
            return error(404, "RealityDataNotFound", f"Requested reality data is not available: {rid}")
        signatures = self.data.setdefault("sas", {})
        sig = signatures.setdefault(rid, secrets.token_urlsafe(18))
        href = f"{request.host_url.rstrip('/')}/blobs/{rid}?sv=2021-08-06&sp=rl&sig={sig}"
        return Response(
            f'{{"_links": {{"containerUrl": {{"href": "{href}"}}}}}}', status=200, mimetype="application/json"
        )

    def _signed(self, request: Request, rid: str) -> str | Response:
        fmt = self._produced(rid)
        if fmt is None or request.args.get("sig") != self.data.get("sas", {}).get(rid):
            body = (
                '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
                "<Message>Server failed to authenticate the request.</Message></Error>"
            )
            return Response(body, status=403, mimetype="application/xml")
        return fmt

    def container(self, request: Request, rid: str) -> Response:
        fmt = self._signed(request, rid)
        if isinstance(fmt, Response):
            return fmt
        if request.args.get("restype") != "container" or request.args.get("comp") != "list":
            return Response("<Error><Code>InvalidQueryParameterValue</Code></Error>", 400, mimetype="application/xml")
        names = FILES_BY_FORMAT.get(fmt, DEFAULT_FILES)
        start = int(request.args.get("marker") or 0)
        page = names[start : start + PAGE]
        blobs = "".join(
            f"<Blob><Name>{escape(n)}</Name><Properties><Content-Length>{len(blob_bytes(rid, fmt, n))}"
            "</Content-Length></Properties></Blob>"
            for n in page
        )
        marker = str(start + PAGE) if start + PAGE < len(names) else ""
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="{rid}">'
            f"<Blobs>{blobs}</Blobs><NextMarker>{marker}</NextMarker></EnumerationResults>"
        )
        return Response(body, status=200, mimetype="application/xml")

    def get(self, request: Request, rid: str, name: str) -> Response:
        fmt = self._signed(request, rid)
        if isinstance(fmt, Response):
            return fmt
        if name not in FILES_BY_FORMAT.get(fmt, DEFAULT_FILES):
            return Response("<Error><Code>BlobNotFound</Code></Error>", 404, mimetype="application/xml")
        return Response(blob_bytes(rid, fmt, name), status=200, mimetype="application/octet-stream")
