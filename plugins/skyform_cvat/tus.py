"""A task's images sent with CVAT's resumable (TUS) upload, resumed where a failure stopped it.

cvat-sdk's ``DataUploader`` sends small files in bulk multipart requests and only files above
100 MiB through TUS; a transient error anywhere fails the whole upload, and the next attempt
starts again from the first byte (a fault campaign stalled at ~40 % faults because of it).
Here every file goes through TUS, the protocol cvat-sdk uses for large files
(``Upload-Start``; per file a ``Tus-Resumable`` POST, then ``PATCH`` chunks at
``Upload-Offset``; ``Upload-Finish``): after a 5xx, 429, 409 or a dropped connection the
chunk is retried after a pause (``Retry-After`` honoured), from the offset the server reports
(``HEAD``), so what the server already holds is never sent again. Only when one chunk keeps
failing does the error reach the engine.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import urllib3
from cvat_sdk.api_client.exceptions import ApiException
from cvat_sdk.core.helpers import expect_status, make_request_headers
from cvat_sdk.core.progress import ProgressReporter

CHUNK_SIZE = 10 * 2**20  # cvat-sdk's TUS_CHUNK_SIZE
ATTEMPTS = 6  # tries of one request before its error goes to the engine
MAX_PAUSE = 30.0  # seconds: the longest wait between two tries, Retry-After included


def _transient(exc: Exception) -> bool:
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        return status == 0 or status >= 500 or status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.CONFLICT)
    return isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError))


def _pause(exc: Exception, attempt: int) -> float:
    headers = getattr(exc, "headers", None) or {}
    try:
        return min(MAX_PAUSE, float(headers["Retry-After"]))
    except (KeyError, TypeError, ValueError):
        return min(MAX_PAUSE, 0.2 * 2**attempt)


class ResumableUpload:
    """One task-data upload: start, send files (each resumable), finish."""

    def __init__(
        self,
        sdk: Any,
        url: str,
        *,
        chunk_size: int = CHUNK_SIZE,
        attempts: int = ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = sdk.api_client
        self.url = url.rstrip("/") + "/"
        self.chunk_size, self.attempts, self.sleep = chunk_size, attempts, sleep
        self.sent_bytes = 0  # every byte put on the wire in a chunk, re-sent ones included

    def _headers(self, **extra: str) -> dict[str, str]:
        return {**make_request_headers(self.api), **extra}

    def _retrying(self, call: Callable[[], Any], on_retry: Callable[[], None] | None = None) -> Any:
        for attempt in range(self.attempts):
            try:
                return call()
            except Exception as exc:
                if not _transient(exc) or attempt == self.attempts - 1:
                    raise
                self.sleep(_pause(exc, attempt))
                if on_retry is not None:
                    on_retry()
        raise AssertionError("unreachable")

    def start(self) -> None:
        response = self._retrying(
            lambda: self.api.rest_client.POST(self.url, headers=self._headers(**{"Upload-Start": ""}))
        )
        expect_status(202, response)

    def send(self, path: Path, pbar: ProgressReporter) -> None:
        """Upload one file through TUS, resuming at the server's offset after a failure."""
        length = path.stat().st_size
        meta = base64.b64encode(path.name.encode()).decode()
        tus = {"Tus-Resumable": "1.0.0"}
        created = self._retrying(
            lambda: self.api.rest_client.POST(
                self.url,
                headers=self._headers(**tus, **{"Upload-Length": str(length), "Upload-Metadata": f"filename {meta}"}),
            )
        )
        location = created.headers.get("Location")
        if not location:
            raise ApiException(status=502, reason="the server did not send Location after upload creation")
        offset = 0
        with path.open("rb") as stream:
            while offset < length:
                offset = self._send_chunk(location, stream, offset, length, tus, pbar)

    def _send_chunk(
        self, location: str, stream: Any, offset: int, length: int, tus: dict[str, str], pbar: ProgressReporter
    ) -> int:
        state = {"offset": offset}

        def patch() -> int:
            stream.seek(state["offset"])
            chunk = stream.read(self.chunk_size)
            self.sent_bytes += len(chunk)
            answer = self.api.rest_client.PATCH(
                location,
                headers=self._headers(
                    **tus, **{"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(state["offset"])}
                ),
                body=chunk,
            )
            reached = int(answer.headers.get("Upload-Offset", state["offset"] + len(chunk)))
            if reached < state["offset"] + len(chunk):
                raise ApiException(status=502, reason="the server reported an unexpected Upload-Offset")
            return reached

        def resume() -> None:
            # where the server stopped: nothing it already holds is sent again
            head = self.api.rest_client.HEAD(location, headers=self._headers(**tus))
            reached = int(head.headers["Upload-Offset"])
            if not 0 <= reached <= length:
                raise ApiException(status=502, reason="the server returned an invalid upload offset")
            state["offset"] = reached

        def resume_quietly() -> None:
            try:
                resume()
            except Exception as exc:
                if not _transient(exc):
                    raise  # a HEAD that failed transiently: retry the PATCH at the last known offset

        reached = self._retrying(patch, on_retry=resume_quietly)
        pbar.advance(reached - offset)
        return int(reached)

    def finish(self, fields: dict[str, Any]) -> Any:
        """``Upload-Finish`` with the data fields; CVAT answers 202 ``{"rq_id"}`` (not retried:
        a second finish would start a second processing request)."""
        response = self.api.rest_client.POST(
            self.url, headers=self._headers(**{"Upload-Finish": ""}), post_params=fields
        )
        expect_status(202, response)
        return response


def total_size(paths: list[Path]) -> int:
    return sum(os.path.getsize(p) for p in paths)
