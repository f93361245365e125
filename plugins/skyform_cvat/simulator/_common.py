"""Shared pieces of the CVAT simulator: the site every handler works on, DRF-style errors,
timestamps, pagination, ids."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from ._blobs import BlobStore

if TYPE_CHECKING:
    from skyform.sandbox.clock import SimClock
    from skyform.sandbox.faults import Faults
    from skyform.sandbox.simulator import Simulator

#: The server version the simulator reports; cvat-sdk 2.80 accepts 2.80.x and 2.81.x.
SERVER_VERSION = "2.80.0"
CONTENT_TYPE = "application/vnd.cvat+json"


class Site:
    """One simulated CVAT server as its handlers see it: JSON state, bytes, clock, faults, ids.

    Every handler object holds the same Site. ``data`` is read through the simulator on each
    access because a sandbox reset replaces the simulator's whole state dict.
    """

    def __init__(self, simulator: Simulator, blobs: BlobStore) -> None:
        self._simulator = simulator
        self.blobs = blobs

    @property
    def data(self) -> dict[str, Any]:
        """The simulator's current JSON state."""
        return self._simulator.data

    @property
    def clock(self) -> SimClock:
        """The sandbox clock (simulated seconds)."""
        return self._simulator.clock

    @property
    def faults(self) -> Faults:
        """The sandbox's fault rules (job fates)."""
        return self._simulator.faults

    @property
    def provider(self) -> str:
        """The provider name fault rules are matched against."""
        return self._simulator.provider

    def next_id(self, counter: str) -> int:
        """The next id of a counter (projects, tasks, jobs, labels ...)."""
        self.data["counters"][counter] = self.data["counters"].get(counter, 0) + 1
        return int(self.data["counters"][counter])


class Handler:
    """Base of the simulator's handler objects: the Site they share, its state under short names.

    Handlers are composed, not mixed in: each receives the other handlers it calls in its
    constructor, so every cross-handler call is visible (and typed) at the call site.
    """

    def __init__(self, site: Site) -> None:
        self.site = site

    @property
    def data(self) -> dict[str, Any]:
        """The simulator's current JSON state."""
        return self.site.data

    @property
    def blobs(self) -> BlobStore:
        """Bytes kept outside the JSON state (frames, upload staging, export archives)."""
        return self.site.blobs


def api_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer with the media type CVAT's schema declares."""
    return Response(json.dumps(data), status=status, headers=headers, content_type=CONTENT_TYPE)


class ApiError(HTTPException):
    """A DRF-style error answer: ``{"detail": ...}`` or a field -> messages dict.

    Raised from handlers; the simulator base turns any HTTPException into its response.
    """

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__()
        self.code = status
        self.body = body
        self.extra_headers = headers or {}

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        return api_response(self.body, self.code or 500, self.extra_headers)


def bad_request(field: str, message: str) -> ApiError:
    """400 with one field error, the way DRF serializers report it."""
    return ApiError(400, {field: [message]})


def not_found() -> ApiError:
    """404 the way DRF answers an unknown object."""
    return ApiError(404, {"detail": "Not found."})


def forbidden() -> ApiError:
    """403 the way DRF answers a permission failure."""
    return ApiError(403, {"detail": "You do not have permission to perform this action."})


def iso(ts: float | None) -> str | None:
    """An epoch timestamp as CVAT writes dates (UTC, microseconds, ``Z``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> float:
    """Real epoch seconds (what the simulator stores)."""
    return time.time()


def choice_error(value: Any) -> str:
    """DRF's message for a value outside a choice field."""
    return f'"{value}" is not a valid choice.'


def require_int(
    body: dict[str, Any], field: str, *, minimum: int | None = None, maximum: int | None = None, required: bool = False
) -> int | None:
    """An integer field of a request body, validated with DRF's messages."""
    if field not in body or body[field] is None:
        if required:
            raise bad_request(field, "This field is required.")
        return None
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        else:
            raise bad_request(field, "A valid integer is required.")
    if minimum is not None and value < minimum:
        raise bad_request(field, f"Ensure this value is greater than or equal to {minimum}.")
    if maximum is not None and value > maximum:
        raise bad_request(field, f"Ensure this value is less than or equal to {maximum}.")
    return value


def json_body(request: Request) -> dict[str, Any]:
    """The JSON object of a request (DRF's parse error when it is not one)."""
    if not request.data:
        return {}
    try:
        body = json.loads(request.data)
    except ValueError as exc:
        raise ApiError(400, {"detail": f"JSON parse error - {exc}"}) from exc
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    return body


def paginate(request: Request, items: list[Any], render: Callable[[Any], dict[str, Any]]) -> Response:
    """DRF page-number pagination: ``page``, ``page_size`` (or ``all``), default 10 per page."""
    size_arg = request.args.get("page_size", "10")
    if size_arg == "all":
        size = max(len(items), 1)
    else:
        try:
            size = max(1, min(int(size_arg), 1000))
        except ValueError:
            size = 10
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        raise ApiError(404, {"detail": "Invalid page."}) from None
    pages = max(1, -(-len(items) // size))
    if page < 1 or page > pages:
        raise ApiError(404, {"detail": "Invalid page."})
    chunk = items[(page - 1) * size : page * size]

    def link(number: int) -> str:
        """The URL of another page of the same list."""
        args = dict(request.args.items())
        args["page"] = str(number)
        return request.base_url + "?" + urlencode(args)

    return api_response(
        {
            "count": len(items),
            "next": link(page + 1) if page < pages else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": [render(item) for item in chunk],
        }
    )


def named(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CVAT's ``?name=`` (exact) and ``?search=`` (case-insensitive substring) list filters."""
    name, search = request.args.get("name"), request.args.get("search")
    if name:
        items = [i for i in items if i["name"] == name]
    if search:
        items = [i for i in items if search.lower() in i["name"].lower()]
    return items


def int_arg(request: Request, name: str) -> int | None:
    """An integer query filter; a non-integer is DRF's 400."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(name, "Enter a number.") from None


def truthy(raw: str | None, default: bool = False) -> bool:
    """A query flag as a bool (true/1/yes/on)."""
    if raw is None:
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def by_id_desc(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """CVAT lists newest first (``-id``) unless asked otherwise."""
    return sorted(items, key=lambda x: -int(x["id"]))
