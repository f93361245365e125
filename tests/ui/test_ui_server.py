"""``skyform ui``'s server without a browser: the gate (loopback Host, the token off loopback,
CSRF on POST), the event stream's resume by ``Last-Event-ID``, pages that name no other
host, assets served from the package, and bad input on the command line.

The app runs in-process over werkzeug's test client against a real SQLite state written
through the StateStore API; the stream is also read from a real ``skyform ui`` process.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.test import Client

from skyform.state import open_store
from skyform.state.base import Event, ResourceState
from skyform.state.plugin import skyform_state_backends
from skyform.ui import live
from skyform.ui.server import App, Security
from skyform.ui.site import Site

from .conftest import copy_demo, skyform, skyform_here

PAGES = (
    "/",
    "/m/bridge-a12",
    "/m/bridge-a12/plan",
    "/m/bridge-a12/timeline",
    "/m/bridge-a12/outputs",
    "/m/bridge-a12/history",
    "/m/bridge-a12/node/reconstruct",
)


@pytest.fixture
def mission(tmp_path: Path) -> Path:
    return copy_demo(tmp_path)


def record(site: Site, *events: Event) -> None:
    """Write a resource and events as an apply's journal would (one transaction)."""
    entry = site.entries["bridge-a12"]
    with site.store(entry) as store:
        store.write(
            "bridge-a12",
            [ResourceState("site", "dronebundle.Project", "ready", "key-1", time.time(), remote_id="p-1")],
            list(events),
        )


def transition(address: str, before: str | None, after: str) -> Event:
    return Event("transition", address, before, after, {"remote_id": "p-1"}, time.time())


def client(mission: Path, **security: Any) -> tuple[Client, App]:
    app = App(Site([mission], None), Security(**security))
    return Client(app), app


def test_every_page_renders_and_names_no_other_host(mission: Path) -> None:
    c, app = client(mission)
    record(app.site, transition("site", None, "creating"), transition("site", "creating", "ready"))
    for path in PAGES:
        response = c.get(path, headers={"Host": "127.0.0.1:8765"})
        assert response.status_code == 200, (path, response.text)
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        html = response.text
        # a resource's link to its service is the one address of another host a page may hold
        html = re.sub(r"<a id=console class=console [^>]*>", "", html)
        external = re.findall(r"""(?:src|href|action)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", html)
        assert not external, (path, external)
    for asset in ("ui.js", "ui.css"):
        response = c.get(f"/static/{asset}", headers={"Host": "localhost"})
        assert response.status_code == 200 and not re.search(r"https?://(?!www\.w3\.org/2000/svg)", response.text)
    assert c.get("/static/../site.py", headers={"Host": "localhost"}).status_code == 404


def test_the_assets_are_package_data_and_the_docs_show_each_view() -> None:
    """Every file of static/ ships in the wheel (pyproject's package-data); docs/ui.md has a
    screenshot of each view, and each one it names exists."""
    import tomllib
    from importlib import resources

    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "static/*" in data["skyform.ui"]
    static = resources.files("skyform.ui").joinpath("static")
    assert {p.name for p in static.iterdir()} == {"ui.js", "ui.css"}
    docs = (root / "docs" / "ui.md").read_text()
    shots = re.findall(r"!\[[^\]]*\]\((ui/[\w-]+\.png)\)", docs)
    assert {Path(s).stem for s in shots} >= {"missions", "graph", "graph-live", "node", "plan", "timeline", "outputs"}
    assert all((root / "docs" / s).is_file() for s in shots)


def test_a_page_asked_through_another_host_name_is_refused(mission: Path) -> None:
    """DNS rebinding: a name that resolves to 127.0.0.1 is still not a loopback Host."""
    c, _ = client(mission)
    assert c.get("/", headers={"Host": "evil.example:8765"}).status_code == 403
    assert c.get("/", headers={"Host": "[::1]:8765"}).status_code == 200


def test_off_loopback_a_token_is_required_then_kept_in_a_cookie(mission: Path) -> None:
    c, _ = client(mission, token="t0ken-abcdef", loopback=False)
    refused = c.get("/m/bridge-a12", headers={"Host": "10.1.2.3:8765"})
    assert refused.status_code == 403 and "token" in refused.text
    assert c.get("/m/bridge-a12?token=wrong", headers={"Host": "10.1.2.3:8765"}).status_code == 403
    assert c.get("/m/bridge-a12?token=t%C3%B6ken", headers={"Host": "10.1.2.3:8765"}).status_code == 403
    granted = c.get("/m/bridge-a12?token=t0ken-abcdef", headers={"Host": "10.1.2.3:8765"})
    assert granted.status_code == 303 and granted.headers["Location"] == "/m/bridge-a12"
    assert "HttpOnly" in granted.headers["Set-Cookie"] and "SameSite=Strict" in granted.headers["Set-Cookie"]
    assert c.get("/m/bridge-a12", headers={"Host": "10.1.2.3:8765"}).status_code == 200  # the cookie
    fresh, _ = client(mission, token="t0ken-abcdef", loopback=False)
    bearer = fresh.get("/", headers={"Host": "10.1.2.3", "Authorization": "Bearer t0ken-abcdef"})
    assert bearer.status_code == 200


def test_a_post_needs_the_pages_csrf_token_and_its_own_origin(mission: Path) -> None:
    c, app = client(mission)
    host = {"Host": "127.0.0.1:8765"}
    page = c.get("/m/bridge-a12/plan", headers=host).text
    csrf = re.search(r"name=csrf-token content=([\w-]+)", page)
    assert csrf and csrf.group(1) == app.security.csrf
    assert c.post("/m/bridge-a12/plan", headers=host).status_code == 403
    assert c.post("/m/bridge-a12/plan", data={"csrf": "forged"}, headers=host).status_code == 403
    cross = c.post(
        "/m/bridge-a12/plan", data={"csrf": app.security.csrf}, headers={**host, "Origin": "http://evil.example"}
    )
    assert cross.status_code == 403
    ok = c.post(
        "/m/bridge-a12/plan", data={"csrf": app.security.csrf}, headers={**host, "Origin": "http://127.0.0.1:8765"}
    )
    assert ok.status_code == 303
    assert c.get("/m/bridge-a12/plan", headers=host).status_code == 200


def test_the_stream_resumes_after_the_last_event_id(mission: Path) -> None:
    """Every event after the id the browser last saw, in order, none twice, then new ones."""
    site = Site([mission], None)
    record(site, *(transition("site", None, "creating") for _ in range(3)))
    stop = threading.Event()
    first = live.stream(site, site.entries["bridge-a12"], 0, stop)
    assert next(first).startswith("retry:")
    ids = [int(re.match(r"id: (\d+)", next(first)).group(1)) for _ in range(3)]  # type: ignore[union-attr]
    first.close()
    record(site, transition("site", "creating", "ready"))
    again = live.stream(site, site.entries["bridge-a12"], live.resume_point(str(ids[1]), "0"), stop)
    next(again)
    got = [next(again), next(again)]
    assert [int(m.split("\n")[0][4:]) for m in got] == [ids[2], ids[2] + 1]
    assert '"after": "ready"' in got[1]
    stop.set()
    assert list(again) == []  # ends when the server stops


def test_a_real_server_streams_events_recorded_after_a_restart(mission: Path, serve: Any) -> None:
    """The server restarts; a client resuming with Last-Event-ID loses nothing."""
    site = Site([mission], None)
    record(site, transition("site", None, "creating"))
    served = serve(mission, cwd=mission.parent)
    served.stop()
    record(site, transition("site", "creating", "ready"))
    served = serve(mission, cwd=mission.parent)
    where = urlsplit(served.url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    conn.request("GET", "/m/bridge-a12/events", headers={"Last-Event-ID": "1", "Accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Type", "").startswith("text/event-stream")
    lines = []
    while not any(line.startswith("data:") for line in lines):
        lines.append(response.readline().decode().strip())
    conn.close()
    assert "id: 2" in lines and any('"after": "ready"' in line for line in lines)


@pytest.mark.postgres
def test_a_gitops_state_alone_shows_every_mission_it_records_and_streams_their_events(
    postgres_url: str, tmp_path: Path
) -> None:
    """``skyform ui --state postgresql://...``: the missions a runner recorded, each graph
    drawn from the recorded dependencies, and the live stream from PostgreSQL's history."""
    store = open_store(postgres_url, tmp_path, skyform_state_backends())
    try:
        for name in ("north", "south"):
            store.write(
                name,
                [
                    ResourceState("a", "local.Files", "ready", "k-a", time.time()),
                    ResourceState("b", "local.Files", "running", "k-b", time.time(), depends_on=["a"]),
                ],
                [transition("a", None, "ready"), transition("b", None, "running")],
            )
    finally:
        store.close()
    site = Site([], postgres_url)
    assert sorted(site.entries) == ["north", "south"]
    c = Client(App(site, Security()))
    listing = c.get("/", headers={"Host": "127.0.0.1"}).text
    assert "north" in listing and "south" in listing
    graph = json.loads(c.get("/m/south/graph.json", headers={"Host": "127.0.0.1"}).text)
    assert [n[0] for n in graph["nodes"]] == ["a", "b"] and graph["edges"] == [[0, 1]]
    assert graph["status"] == ["ready", "running"]
    stop = threading.Event()
    stream = live.stream(site, site.entries["south"], 0, stop)
    next(stream)
    first = next(stream)
    stop.set()
    stream.close()
    assert '"address": "a"' in first and '"after": "ready"' in first


def test_bad_input_is_a_message_and_a_usage_exit_code(mission: Path, tmp_path: Path) -> None:
    """The first case through the real executable, the others in-process (the same error boundary)."""
    missing = skyform("ui", tmp_path / "nowhere", cwd=tmp_path, check=False)
    assert missing.returncode == 64 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = skyform_here("ui", empty, cwd=tmp_path, check=False)
    assert none.exit_code == 64 and "holds no mission" in none.stderr
    other = tmp_path / "other.plan"
    saved = skyform_here("plan", "--sandbox", "-o", other, mission, cwd=tmp_path, check=False)
    assert saved.exit_code == 0, saved.stderr
    text = other.read_text().replace('"mission": "bridge-a12"', '"mission": "elsewhere"')
    other.write_text(text)
    refused = skyform_here("ui", mission, "--plan", other, cwd=tmp_path, check=False)
    assert refused.exit_code == 64 and "elsewhere" in refused.stderr and "Traceback" not in refused.stderr
    twin = copy_demo(tmp_path / "twin")
    both = skyform_here("ui", mission, twin, cwd=tmp_path, check=False)
    assert both.exit_code == 64 and "two missions are named 'bridge-a12'" in both.stderr


def test_the_plan_view_marks_what_the_plan_marks_and_nothing_else(mission: Path, tmp_path: Path) -> None:
    """The plan's own ``irreversible`` list is the one source: a reversible delete (a
    NodeODM task the mission dropped) is not marked, an irreversible create (the
    iTwin job) is, with its class and the kind's reason, as ``skyform plan`` prints them."""
    from skyform.api import Options, Session

    site = Site([mission], None)
    with site.store(site.entries["bridge-a12"]) as store:
        store.write(
            "bridge-a12",
            [ResourceState("old_odm", "nodeodm.Task", "ready", "k-old", time.time(), remote_id="uuid-old")],
            [],
        )
    with Session(mission, Options(sandbox=True, refresh=False)) as session:
        plan = session.plan()
    saved = tmp_path / "demo.plan"
    plan.save(saved)
    by_address = {a.address: a for a in plan.actions}
    assert by_address["old_odm"].action == "delete" and by_address["old_odm"].irreversibility is None
    c = Client(App(Site([mission], None, [saved]), Security()))
    html = c.get("/m/bridge-a12/plan", headers={"Host": "127.0.0.1"}).text
    marked = dict(re.findall(r'<li data-address="([^"]+)" data-class="([^"]+)"', html))
    assert marked == {m["address"]: m["class"] for m in plan.to_json()["irreversible"]}
    assert "old_odm" not in marked and 'data-address="old_odm" data-action="delete">' in html
    assert marked["mesh"] == "irreversible"
    reason = by_address["mesh"].irreversibility.reason  # type: ignore[union-attr]
    assert (
        f"<b>mesh</b> (create) <span class=irr-class>irreversible</span>: <span class=irr-reason>{reason}</span>"
        in html
    )
    assert marked["flight"] == "cancellable-until" and "until <span class=irr-until>" in html


def test_a_node_page_links_to_its_object_on_the_service_through_the_providers_hook(mission: Path) -> None:
    """``skyform_console_url``: NodeODM's task info on the node that ran it, CVAT's task page
    from its record; opened without a referrer; a kind without a page has no link."""
    c, app = client(mission)
    now = time.time()
    with app.site.store(app.site.entries["bridge-a12"]) as store:
        store.write(
            "bridge-a12",
            [
                ResourceState(
                    "reconstruct",
                    "nodeodm.Task",
                    "ready",
                    "k-1",
                    now,
                    remote_id="uu-1",
                    outputs={"uuid": "uu-1", "node": "http://127.0.0.1:3000"},
                ),
                ResourceState(
                    "annotate",
                    "cvat.Task",
                    "ready",
                    "k-2",
                    now,
                    remote_id="7",
                    outputs={"id": 7, "url": "http://127.0.0.1:8080/tasks/7"},
                ),
                ResourceState("photos", "local.Files", "ready", "k-3", now, outputs={"count": 8}),
            ],
            [],
        )
    host = {"Host": "127.0.0.1"}
    odm = c.get("/m/bridge-a12/node/reconstruct", headers=host).text
    assert (
        '<a id=console class=console href="http://127.0.0.1:3000/task/uu-1/info" target=_blank'
        ' rel="noopener noreferrer">' in odm
    )
    assert 'href="http://127.0.0.1:8080/tasks/7"' in c.get("/m/bridge-a12/node/annotate", headers=host).text
    assert "id=console" not in c.get("/m/bridge-a12/node/photos", headers=host).text


def test_the_console_hook_answers_only_http_addresses() -> None:
    """A plugin's ``javascript:`` (or any non-http) answer, or one that raises, is no link."""
    import pluggy

    from skyform import hookimpl
    from skyform.providers import hookspecs
    from skyform.providers.hooks import Hooks

    class Answers:
        def __init__(self, url: str | None, fail: bool = False) -> None:
            self.url, self.fail = url, fail

        @hookimpl
        def skyform_console_url(self, type: str) -> str | None:
            if self.fail:
                raise RuntimeError("a plugin bug")
            return self.url

    def ask(plugin: Answers) -> str | None:
        pm = pluggy.PluginManager("skyform")
        pm.add_hookspecs(hookspecs)
        pm.register(plugin)
        return Hooks(pm).console_url(type="acme.Job", remote_id="1", outputs={}, settings={})

    assert ask(Answers("https://acme.example/jobs/1")) == "https://acme.example/jobs/1"
    assert ask(Answers("javascript:alert(1)")) is None
    assert ask(Answers("file:///etc/passwd")) is None
    assert ask(Answers(None)) is None
    assert ask(Answers("https://x", fail=True)) is None


def test_sync_is_unknown_until_asked_then_comes_from_a_fresh_plan(mission: Path) -> None:
    """No saved plan: the missions page says ``unknown`` and offers a button (no plan is made
    on a page load); the POST (CSRF-checked) plans against the services and the page then
    says ``out of sync`` for a mission not applied. A run holding the lock is refused."""
    c, app = client(mission)
    host = {"Host": "127.0.0.1"}
    with app.site.store(app.site.entries["bridge-a12"]) as store:  # recorded as a sandbox run
        store.write("bridge-a12", [], [], mission_update={"attributes": {"sandbox": True}})
    listing = c.get("/", headers=host).text
    assert ">unknown</span>" in listing and "check sync</button>" in listing
    assert app.plans.latest(app.site.entries["bridge-a12"], make=False) is None  # nothing planned by the GET
    assert c.post("/m/bridge-a12/sync", headers=host).status_code == 403  # no CSRF token
    with app.site.store(app.site.entries["bridge-a12"]) as store:
        store.acquire_lock("bridge-a12", "apply", warn=lambda m: None)
        try:
            busy = c.post("/m/bridge-a12/sync", data={"csrf": app.security.csrf}, headers=host)
        finally:
            store.release_lock("bridge-a12")
    assert busy.status_code == 409 and "holds the lock" in busy.text and "apply by pid" in busy.text
    done = c.post("/m/bridge-a12/sync", data={"csrf": app.security.csrf}, headers=host)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    listing = c.get("/", headers=host).text
    assert ">out of sync</span>" in listing and "checked against the services at" in listing
    assert "check again</button>" in listing
