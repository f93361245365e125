"""The live side of ``skyform ui`` without a browser: the apply's live log (batched into the
state, bounded, redacted, followed and resumed by the stream), and the run timeline's phases
from recorded events (queued, submitting, uploading, waiting on the service, downloading,
done/failed).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from skyform import redact
from skyform.apply import livelog
from skyform.apply.livelog import LiveLog
from skyform.events import EventKind
from skyform.state.base import Event, ResourceState
from skyform.ui import live, views
from skyform.ui.site import Site

from .conftest import copy_demo


def progress(address: str, fraction: float, message: str) -> dict[str, object]:
    return {"event": EventKind.PROGRESS, "address": address, "fraction": fraction, "message": message}


def test_the_live_log_leaves_in_batches_keeps_the_newest_and_is_followed_none_lost_none_twice(
    tmp_path: Path,
) -> None:
    """200 lines in 20 flushes of 10: a reader after each flush sees every line once, in order;
    the state keeps the newest ``keep``; a reader from now on sees only what comes after."""
    site = Site([copy_demo(tmp_path)], None)
    entry = site.entries["bridge-a12"]
    with site.store(entry) as store:
        writer = LiveLog(store, "bridge-a12", keep=50)
        seen: list[str] = []
        after = 0
        for i in range(200):
            writer.add(progress("up", 1.0, f"file {i:03d} of 200"))  # 1.0: never throttled
            if i % 10 == 9:
                writer.flush(force=True)
                got = store.live_after("bridge-a12", after)
                after = got[-1].n if got else after
                seen += [r.data["message"] for r in got]
        assert seen == [f"file {i:03d} of 200" for i in range(200)] and writer.batches == 20
        kept = store.live_after("bridge-a12", 0, limit=1000)
        assert [r.data["message"] for r in kept] == [f"file {i:03d} of 200" for i in range(150, 200)]
        writer.add(progress("up", 1.0, "not due yet"))
        writer.flush()  # due only FLUSH_SECONDS after the last batch: nothing leaves now
        assert store.live_last("bridge-a12") == kept[-1].n
        assert 0 < (writer.due_in() or 0) <= livelog.FLUSH_SECONDS


def test_the_live_log_keeps_only_what_the_history_does_not_and_masks_secrets(tmp_path: Path) -> None:
    site = Site([copy_demo(tmp_path)], None)
    entry = site.entries["bridge-a12"]
    with site.store(entry) as store, redact.isolated():
        writer = LiveLog(store, "bridge-a12")
        redact.register("s3cr3t-token-value")
        writer.add({"event": EventKind.TRANSITION, "address": "a", "before": None, "after": "creating"})
        writer.add({"event": EventKind.LOG, "address": "a", "level": "info", "message": "auth s3cr3t-token-value ok"})
        writer.add(progress("a", 0.1, "first"))
        writer.add(progress("a", 0.2, "too soon after the first: dropped"))
        writer.add(progress("a", 1.0, "the last always stays"))
        writer.add({"event": EventKind.LOG, "address": "a", "level": "info", "message": "x" * 5_000})
        writer.flush(force=True)
        with store._reading() as cur:  # type: ignore[attr-defined]  # the raw table, as any reader has it
            cur.execute("SELECT kind, address, data FROM live_log ORDER BY n")
            rows = cur.fetchall()
    text = repr(rows)
    assert "s3cr3t-token-value" not in text and "transition" not in text and "dropped" not in text
    assert [kind for kind, _, _ in rows] == ["log", "progress", "progress", "log"]
    assert len(rows[-1][2]) < livelog.MESSAGE_CHARS + 100  # one line is cut short, not kept whole


def test_the_stream_merges_live_records_with_the_history_and_resumes_both(tmp_path: Path) -> None:
    """A message's id carries both positions (``SEQ.N``): a reconnect with it gets the rest."""
    mission = copy_demo(tmp_path)
    site = Site([mission], None)
    entry = site.entries["bridge-a12"]
    now = time.time()
    with site.store(entry) as store:
        store.write(
            "bridge-a12",
            [ResourceState("photos", "local.Files", "creating", "k", now)],
            [Event(EventKind.TRANSITION, "photos", None, "creating", {}, now - 1)],
        )
        writer = LiveLog(store, "bridge-a12")
        writer.add(progress("photos", 1.0, "published 8/8 file(s)"))
        writer.flush(force=True)
        stop = threading.Event()
        first = live.stream(site, entry, 0, stop, live_after=0)
        next(first)
        messages = [next(first), next(first)]
        first.close()
        assert '"after": "creating"' in messages[0] and '"published 8/8 file(s)"' in messages[1]
        last_id = messages[1].split("\n")[0][4:]
        seq, _, n = last_id.partition(".")
        assert seq.isdigit() and n.isdigit()
        writer.add(progress("photos", 1.0, "after the reconnect"))
        writer.flush(force=True)
        again = live.stream(site, entry, live.resume_point(last_id, None), stop, live.live_resume_point(last_id, None))
        next(again)
        assert '"after the reconnect"' in next(again)
        stop.set()
        assert list(again) == []


def event(kind: str, at: float, address: str | None = None, after: str | None = None, **data: object) -> Event:
    return Event(kind, address, None, after, dict(data), at)


def test_the_timeline_shows_where_each_nodes_time_went() -> None:
    """From recorded events alone: queued until its first step, submitting, uploading (the
    provider's phase), waiting on the service, downloading, then done; a failed node ends failed."""
    events = [
        event(EventKind.APPLY_STARTED, 100.0),
        event(EventKind.TRANSITION, 102.0, "odm", "creating"),
        event(EventKind.PHASE, 103.0, "odm", phase="uploading"),
        event(EventKind.TRANSITION, 110.0, "odm", "running"),
        event(EventKind.PHASE, 150.0, "odm", phase="downloading"),
        event(EventKind.TRANSITION, 160.0, "odm", "ready"),
        event(EventKind.TRANSITION, 100.0, "job", "creating"),
        event(EventKind.TRANSITION, 101.0, "job", "failed"),
        event(EventKind.APPLY_FINISHED, 161.0, ok=False),
    ]
    view = views.timeline_view(events)
    rows = {r["address"]: r for r in view["rows"]}
    bars = [(b["phase"], b["from"], b["to"]) for b in rows["odm"]["bars"]]
    assert bars == [
        ("queued", 100.0, 102.0),
        ("submitting", 102.0, 103.0),
        ("uploading", 103.0, 110.0),
        ("waiting on the service", 110.0, 150.0),
        ("downloading", 150.0, 160.0),
    ]
    assert rows["odm"]["result"] == "ready" and rows["job"]["result"] == "failed"
    assert [b["phase"] for b in rows["job"]["bars"]] == ["submitting"]
    from skyform.ui.pages import timeline_svg

    svg = timeline_svg(view)
    assert 'data-phase="uploading"' in svg and 'class="label res-done" data-address="odm">done<' in svg
    assert 'class="label res-failed" data-address="job">failed<' in svg


def test_a_large_graph_is_paged_by_whole_layers_and_each_page_holds_only_its_nodes() -> None:
    """2,500 resources (ten per layer): three pages of at most 1,000 nodes, in layer order;
    a page embeds its own nodes and the edges between them, counts the edges from earlier
    pages, and the legend still counts the whole mission."""
    from skyform.ui.pages import graph_page

    now = time.time()
    records = {
        f"r{i:04d}": ResourceState(
            f"r{i:04d}", "local.Files", "ready", f"k{i}", now, depends_on=[f"r{i - 10:04d}"] if i >= 10 else []
        )
        for i in range(2500)
    }
    lay = views.layout(None, records)
    assert lay.pages == 3 and views.GRAPH_PAGE == 1000
    sizes = [len(lay.page(k)["members"]) for k in (1, 2, 3)]
    assert sizes == [1000, 1000, 500]
    assert [lay.layer[r] for r in lay.page(2)["members"]][:1] == [100]
    second = lay.page(2)
    assert len(second["shape"]["nodes"]) == 1000 and second["from_elsewhere"] == 10
    assert len(second["shape"]["edges"]) == 990
    statuses = dict.fromkeys(records, ("local.Files", "ready"))
    marks = views.graph_marks(lay, statuses, None, 0, second["members"])
    marks["counts"] = views.status_counts(lay, statuses)
    html = graph_page("big", lay, 2, marks, csrf="c")
    assert 'data-total="2500"' in html and "ready 2500" in html
    assert "nodes 1,001 to 2,000 of 2,500" in html and '<a href="/m/big?page=3">3</a>' in html
    assert '"r0999"' not in html and '"r1000"' in html and '"r2000"' not in html  # its own nodes only


def test_a_line_written_while_the_node_page_loads_reaches_its_live_box(tmp_path: Path) -> None:
    """The node page says where in the live log it was drawn (``data-live``), and its stream
    follows on from there: a line written between the page and its stream's connection is
    shown, where "from now on" at connect time lost it."""
    import re

    from werkzeug.test import Client

    from skyform.ui.server import App, Security

    mission = copy_demo(tmp_path)
    site = Site([mission], None)
    entry = site.entries["bridge-a12"]
    now = time.time()
    with site.store(entry) as store:
        store.write("bridge-a12", [ResourceState("photos", "local.Files", "creating", "k", now)], [])
        writer = LiveLog(store, "bridge-a12")
        writer.add(progress("photos", 1.0, "before the page"))
        writer.flush(force=True)
        page = Client(App(site, Security())).get("/m/bridge-a12/node/photos").get_data(as_text=True)
        drawn_at = re.search(r'data-live="(\d+)"', page)
        assert drawn_at is not None, page[:500]
        writer.add(progress("photos", 1.0, "while the page loads"))
        writer.flush(force=True)
    stop = threading.Event()
    stream = live.stream(site, entry, 0, stop, live.live_resume_point(None, drawn_at.group(1)))
    next(stream)
    assert '"while the page loads"' in next(stream)
    stop.set()
    assert all("before the page" not in m for m in stream)
