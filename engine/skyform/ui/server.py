"""The WSGI application of ``skyform ui`` and the threaded werkzeug server that runs it.

Safe by default:

- **read-only**: every GET only reads state, plans and files; the POSTs (plan again from
  recorded state, check sync against the services) write nothing either, and are the
  model for future actions.
- **loopback**: the CLI binds 127.0.0.1; on loopback the ``Host`` header must name a
  loopback address (a DNS-rebinding page cannot reach the server through its own name).
- **a token off loopback**: with ``--host`` the server requires a token, given once as
  ``?token=`` (it then lives in an HttpOnly cookie) or as ``Authorization: Bearer``.
- **CSRF**: every POST must carry the page's CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``) and, when the browser sends one, an ``Origin`` of this server.
- **no other host**: a Content-Security-Policy of ``'self'`` only; no page links a CDN.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from ..errors import SkyformError
from . import live, pages, views
from .plans import Plans
from .site import Entry, Site

COOKIE = "skyform_ui_token"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HISTORY_LIMIT = 2000


@dataclass
class Security:
    """The token (None: none needed) and the CSRF token of this server's run."""

    token: str | None = None
    loopback: bool = True
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))


ROUTES = Map(
    [
        Rule("/", endpoint="missions"),
        Rule("/static/<name>", endpoint="static"),
        Rule("/m/<name>", endpoint="graph"),
        Rule("/m/<name>/graph.json", endpoint="graph_json"),
        Rule("/m/<name>/plan", endpoint="plan", methods=["GET", "POST"]),
        Rule("/m/<name>/sync", endpoint="sync", methods=["POST"]),
        Rule("/m/<name>/timeline", endpoint="timeline"),
        Rule("/m/<name>/outputs", endpoint="outputs"),
        Rule("/m/<name>/history", endpoint="history"),
        Rule("/m/<name>/events", endpoint="events"),
        Rule("/m/<name>/node/<path:address>", endpoint="node"),
    ]
)


def _same(given: str, expected: str) -> bool:
    """A constant-time comparison that any text may be handed (``compare_digest`` refuses
    non-ASCII strings, which would make a crafted token an error instead of a refusal)."""
    return hmac.compare_digest(given.encode(), expected.encode())


class QuietHandler(WSGIRequestHandler):
    """No access log on the terminal: the page is for looking, the terminal stays readable."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class App:
    """Routes requests to the views; one instance per ``skyform ui`` run."""

    def __init__(self, site: Site, security: Security) -> None:
        self.site, self.security = site, security
        self.plans = Plans(site)
        self.stop = threading.Event()  # set on shutdown: open event streams end
        self._cache_lock = threading.Lock()
        self._layouts: dict[str, tuple[tuple[str, tuple[str, ...]], views.Layout]] = {}  # by mission
        self._pages: dict[tuple[str, int], tuple[tuple[Any, ...], bytes]] = {}  # graph pages, by mission and page

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except HTTPException as exc:
            response = self._html(
                pages.error_page(f"{exc.code} {exc.name}", exc.description or "", csrf=self.security.csrf),
                exc.code or 500,
            )
        except SkyformError as exc:
            text = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
            response = self._html(pages.error_page("Cannot show this", text, csrf=self.security.csrf), 500)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response(environ, start_response)

    # -- the gate -------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        self._check_host(request)
        granted = self._check_token(request)
        if granted is not None:
            return granted
        adapter = ROUTES.bind_to_environ(request.environ)
        endpoint, args = adapter.match()
        if request.method == "POST":
            self._check_csrf(request)
        handler: Callable[..., Response] = getattr(self, f"on_{endpoint}")
        return handler(request, **args)

    def _check_host(self, request: Request) -> None:
        if not self.security.loopback:
            return
        if urlsplit("//" + (request.host or "")).hostname not in LOOPBACK_HOSTS:
            raise Forbidden("this server answers only to a loopback address (Host header)")

    def _check_token(self, request: Request) -> Response | None:
        """None when the request may go on; a redirect that sets the cookie after ``?token=``."""
        token = self.security.token
        if token is None:
            return None
        given = request.args.get("token")
        if given is not None and _same(given, token):
            target = request.path  # the token leaves the address bar (and the history)
            response = Response(status=303, headers={"Location": target})
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
            return response
        bearer = request.headers.get("Authorization", "")
        offered = request.cookies.get(COOKIE) or (bearer[7:] if bearer.startswith("Bearer ") else "")
        if offered and _same(offered, token):
            return None
        raise Forbidden("a token is required: open the address `skyform ui` printed (it ends with ?token=...)")

    def _check_csrf(self, request: Request) -> None:
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            raise Forbidden(f"a POST from another origin ({origin}) is refused")
        given = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
        if not _same(given, self.security.csrf):
            raise Forbidden("a POST needs the page's CSRF token; reload the page and try again")

    # -- helpers --------------------------------------------------------------------------
    def _entry(self, name: str) -> Entry:
        entry = self.site.find(name)
        if entry is None:
            raise NotFound(f"no mission named {name!r} on this page")
        return entry

    def _html(self, text: str, status: int = 200) -> Response:
        return Response(text, status=status, mimetype="text/html")

    def _last_seq(self, entry: Entry) -> int:
        with self.site.store(entry) as store:
            last = store.events(entry.name, limit=1)
        return last[-1].seq if last else 0

    # -- pages ----------------------------------------------------------------------------
    def on_static(self, request: Request, name: str) -> Response:
        suffix = name[name.rfind(".") :] if "." in name else ""
        asset = resources.files(__package__).joinpath("static", name)
        if suffix not in STATIC_TYPES or "/" in name or not asset.is_file():
            raise NotFound(f"no asset {name!r}")
        response = Response(asset.read_bytes(), mimetype=STATIC_TYPES[suffix].split(";")[0])
        response.headers["Content-Type"] = STATIC_TYPES[suffix]
        # the page names the asset with a digest of its content (pages.ASSET_VERSION)
        response.headers["Cache-Control"] = "max-age=86400" if request.args.get("v") else "no-cache"
        return response

    def on_missions(self, request: Request, problem: str = "") -> Response:
        rows = []
        for entry in list(self.site.recorded().values()):
            with self.site.store(entry) as store:
                row, records, events = (
                    store.mission(entry.name),
                    store.resources(entry.name),
                    store.events(entry.name, limit=200),
                )
            shown = self.plans.latest(entry, make=False)
            line = views.missions_row(entry.name, row, records, events, shown.plan if shown else None)
            line["sync_origin"] = shown.origin if shown else ""
            line["can_check"] = entry.source is not None and not entry.plans
            rows.append(line)
        return self._html(pages.missions_page(rows, csrf=self.security.csrf, problem=problem), 409 if problem else 200)

    def on_sync(self, request: Request, name: str) -> Response:
        """Check sync now: a fresh plan that asks the services (POST: it sends requests)."""
        entry = self._entry(name)
        try:
            self.plans.check(entry)
        except SkyformError as exc:
            from ..cli.output import Printer, error_text

            return self.on_missions(request, problem=" ".join(error_text(exc, Printer(color=False))))
        return Response(status=303, headers={"Location": "/"})

    def _graph(self, entry: Entry, page: int | None) -> tuple[views.Layout, dict[str, Any]]:
        """The mission's layout (kept while the mission and its set of records stay) and
        each node's marks now: of one page of the graph, or (``page`` None) of all of it."""
        mission = self.site.mission(entry)
        with self.site.store(entry) as store:
            statuses = store.statuses(entry.name)
            last = store.events(entry.name, limit=1)
            undeclared = sorted(statuses.keys() - (mission.resources.keys() if mission is not None else set()))
            key = (mission.digest if mission is not None else "", tuple(undeclared))
            with self._cache_lock:
                lay = self._layouts.get(entry.name)
            if lay is None or lay[0] != key:  # the mission or the set of recorded resources changed
                records = store.resources(entry.name) if undeclared else {}
                lay = (key, views.layout(mission, {a: records[a] for a in undeclared}))
                with self._cache_lock:
                    self._layouts[entry.name] = lay
        layout = lay[1]
        shown = self.plans.latest(entry, make=False)
        plan = shown.plan if shown else None
        seq = last[-1].seq if last else 0
        if page is None:
            return layout, views.graph_marks(layout, statuses, plan, seq)
        members = layout.page(page)["members"]
        marks = views.graph_marks(layout, statuses, plan, seq, members)
        marks["counts"] = views.status_counts(layout, statuses)
        return layout, marks

    @staticmethod
    def _page_number(request: Request) -> int:
        given = request.args.get("page", "1")
        if not given.isdigit() or int(given) < 1:
            raise BadRequest(f"page must be a number from 1, not {given!r}")
        return int(given)

    def on_graph(self, request: Request, name: str) -> Response:
        """The mission page: one page of the graph (:data:`views.GRAPH_PAGE` nodes; a large
        mission is paged, so the server renders and the browser draws only those). Kept as
        rendered until the state, the mission or its plan change (every write bumps the
        state's serial), so a reload of a large mission is cheap."""
        entry = self._entry(name)
        number = self._page_number(request)
        mission = self.site.mission(entry)
        with self.site.store(entry) as store:
            row = store.mission(entry.name)
        shown = self.plans.latest(entry, make=False)
        key = (
            mission.digest if mission is not None else "",
            row.serial if row is not None else 0,
            (shown.origin, shown.plan.created_at) if shown is not None else None,
        )
        with self._cache_lock:
            cached = self._pages.get((name, number))
        if cached is None or cached[0] != key:
            lay, marks = self._graph(entry, number)
            if number > lay.pages:
                raise NotFound(f"the graph of {name!r} has {lay.pages} page(s), not {number}")
            cached = (key, pages.graph_page(name, lay, number, marks, csrf=self.security.csrf).encode())
            with self._cache_lock:
                if len(self._pages) > 64:  # pages of missions no one looks at any more
                    self._pages.clear()
                self._pages[(name, number)] = cached
        return Response(cached[1], mimetype="text/html")

    def on_graph_json(self, request: Request, name: str) -> Response:
        """The graph as JSON: all of it, or one page with ``?page=N``."""
        entry = self._entry(name)
        if "page" in request.args:
            lay, marks = self._graph(entry, self._page_number(request))
            shape = lay.page(self._page_number(request))["shape"]
        else:
            lay, marks = self._graph(entry, None)
            shape = lay.shape
        return Response(json.dumps({**shape, **marks}), mimetype="application/json")

    def on_plan(self, request: Request, name: str) -> Response:
        entry = self._entry(name)
        if request.method == "POST":
            self.plans.forget(entry)
            return Response(status=303, headers={"Location": pages.mission_url(name, "plan")})
        try:
            shown = self.plans.latest(entry, make=True)
        except SkyformError as exc:
            from ..cli.output import Printer, error_text

            problem = "\n".join(error_text(exc, Printer(color=False)))
            problem += "\n(save one with `skyform plan -o FILE` and show it with `skyform ui --plan FILE`)"
            return self._html(
                pages.plan_page(name, None, "", csrf=self.security.csrf, seq=self._last_seq(entry), error=problem)
            )
        return self._html(
            pages.plan_page(
                name,
                shown.plan if shown else None,
                shown.origin if shown else "",
                csrf=self.security.csrf,
                seq=self._last_seq(entry),
            )
        )

    def on_timeline(self, request: Request, name: str) -> Response:
        entry = self._entry(name)
        with self.site.store(entry) as store:
            events = store.events(entry.name, limit=HISTORY_LIMIT)
        view = views.timeline_view(events)
        if request.args.get("fragment"):
            return self._html(pages.timeline_svg(view))
        seq = events[-1].seq if events else 0
        return self._html(pages.timeline_page(name, view, csrf=self.security.csrf, seq=seq))

    def on_outputs(self, request: Request, name: str) -> Response:
        entry = self._entry(name)
        with self.site.store(entry) as store:
            row = store.mission(entry.name)
        return self._html(
            pages.outputs_page(name, views.outputs_view(row), csrf=self.security.csrf, seq=self._last_seq(entry))
        )

    def on_history(self, request: Request, name: str) -> Response:
        entry = self._entry(name)
        with self.site.store(entry) as store:
            events = store.events(entry.name, limit=HISTORY_LIMIT)
        rows = [views.event_json(e) for e in events]
        seq = events[-1].seq if events else 0
        return self._html(pages.history_page(name, rows, csrf=self.security.csrf, seq=seq))

    def on_node(self, request: Request, name: str, address: str) -> Response:
        from .artifacts import artifacts_of

        entry = self._entry(name)
        mission = self.site.mission(entry)
        with self.site.store(entry) as store:
            record = store.resources(entry.name).get(address)
            events = store.events(entry.name, address=address, limit=HISTORY_LIMIT)
            last = store.events(entry.name, limit=1)
            found = artifacts_of(store, entry.name, address, self.site.registry) if record else []
            row = store.mission(entry.name)
            live_at = store.live_last(entry.name) or 0  # the Live box follows on from here
        if record is None and (mission is None or address not in mission.resources):
            raise NotFound(f"no resource {address!r} in mission {name!r}")
        view = views.node_view(address, mission, record, events)
        sandbox = bool(row and row.attributes.get("sandbox"))
        view["console"] = views.console_link(self.site.registry.hooks, mission, record, sandbox)
        seq = last[-1].seq if last else 0
        return self._html(pages.node_page(name, view, found, csrf=self.security.csrf, seq=seq, live=live_at))

    def on_events(self, request: Request, name: str) -> Response:
        entry = self._entry(name)
        last_id = request.headers.get("Last-Event-ID")
        after = live.resume_point(last_id, request.args.get("after"))
        if after < 0:
            raise BadRequest("after must be an event id")
        since = live.live_resume_point(last_id, request.args.get("live"))
        body = (chunk.encode() for chunk in live.stream(self.site, entry, after, self.stop, since))
        response = Response(body, mimetype="text/event-stream", direct_passthrough=True)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response
