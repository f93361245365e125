"""CVAT background requests (``/api/requests/{rq_id}``) seen as skyform job states.

Task creation, dataset export and annotation import each start a request; the kind returns
``status="running"`` with the request id in ``private`` and the engine polls on its timer
(no sleeping thread), asking :func:`look` each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import sdk_errors

if TYPE_CHECKING:
    from .client import CvatConnection


@dataclass(frozen=True)
class RequestState:
    """One look at a background request."""

    status: str  # queued | started | finished | failed
    message: str
    progress: float | None
    result_url: str | None
    created: float | None

    @property
    def running(self) -> bool:
        """Whether CVAT is still working on it (queued or started)."""
        return self.status in ("queued", "started")


def look(conn: CvatConnection, rq_id: str) -> RequestState:
    """The request's status, message, progress and result URL."""
    with sdk_errors(f"reading background request {rq_id}"):
        request, _ = conn.sdk.api_client.requests_api.retrieve(rq_id)
    progress = request.get("progress")
    created = request.get("created_date")
    return RequestState(
        status=str(request.status.value),
        message=str(request.get("message") or ""),
        progress=float(progress) if progress is not None else None,
        result_url=request.get("result_url"),
        created=created.timestamp() if created is not None else None,
    )


def find_requests(conn: CvatConnection, **filters: Any) -> list[tuple[str, RequestState]]:
    """Requests matching the server-side filters (action, target, task_id, job_id, ...)."""
    with sdk_errors("listing background requests"):
        page, _ = conn.sdk.api_client.requests_api.list(**filters, page_size=100)
    out = []
    for request in page.results:
        created = request.get("created_date")
        progress = request.get("progress")
        out.append(
            (
                request.id,
                RequestState(
                    str(request.status.value),
                    str(request.get("message") or ""),
                    float(progress) if progress is not None else None,
                    request.get("result_url"),
                    created.timestamp() if created is not None else None,
                ),
            )
        )
    return out


def cancel(conn: CvatConnection, rq_id: str, warn: Any) -> None:
    """Cancel a request CVAT has not started yet; a started one cannot be stopped (``warn`` says so)."""
    from skyform.errors import NotFound, PermanentError

    try:
        with sdk_errors(f"cancelling background request {rq_id}"):
            conn.sdk.api_client.requests_api.create_cancel(rq_id)
    except NotFound:
        return  # finished and expired, or never existed: nothing runs
    except PermanentError as exc:
        warn(f"CVAT cannot cancel request {rq_id} ({exc.message}); it will run to its end")
