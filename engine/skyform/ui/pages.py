"""The HTML of every page, written with the standard library's escaping (no template engine).

Pages are rendered whole on the server (they read without JavaScript); ``static/ui.js``
draws the graph from the JSON embedded in its page and applies live events. Every text
that came from a mission, a record or an event is escaped here and was already made safe
by :mod:`.views`. Links and assets are paths on this server only: no page names another
host (a test checks each page).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

from .. import redact
from ..cli.output import Printer, action_text, plan_text
from ..plan.model import ActionKind, Plan
from .views import GRAPH_PAGE, Layout


def _asset_version() -> str:
    """A digest of the static assets: in their URLs, so a browser may keep them for long and
    still never runs an old script against a new page."""
    import hashlib
    from importlib import resources

    digest = hashlib.sha256()
    for name in ("ui.js", "ui.css"):
        digest.update(resources.files(__package__).joinpath("static", name).read_bytes())
    return digest.hexdigest()[:12]


ASSET_VERSION = _asset_version()
TABS = (("graph", "Graph"), ("plan", "Plan"), ("timeline", "Timeline"), ("outputs", "Outputs"), ("history", "History"))


def h(value: Any) -> str:
    return escape(redact.redact(value if isinstance(value, str) else json.dumps(value, default=str)))


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def mission_url(name: str, tab: str = "") -> str:
    return f"/m/{quote(name, safe='')}" + (f"/{tab}" if tab else "")


def node_url(name: str, address: str) -> str:
    return f"{mission_url(name)}/node/{quote(address, safe='')}"


def page(
    title: str,
    body: str,
    *,
    csrf: str,
    mission: str | None = None,
    tab: str = "",
    seq: int = 0,
    live: int | None = None,
) -> str:
    """The frame every page shares: the header, the mission's tabs, the live-stream hooks.

    ``seq`` is the last history event the page shows; ``live``, where a page that shows
    live-log lines was drawn in that log: its stream follows on from both, so a line
    written while the page loaded is not lost (None: the live log from the stream's start)."""
    tabs = ""
    if mission is not None:
        links = "".join(
            f'<a href="{mission_url(mission, "" if key == "graph" else key)}"'
            f"{' class=current' if key == tab else ''}>{label}</a>"
            for key, label in TABS
        )
        tabs = f'<nav class="tabs">{links}</nav>'
    at = f' data-live="{live}"' if live is not None else ""
    hooks = f' data-events="{mission_url(mission, "events")}" data-seq="{seq}"{at}' if mission is not None else ""
    heading = f'<a href="/">missions</a> / <a href="{mission_url(mission)}">{h(mission)}</a>' if mission else "missions"
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<meta name=csrf-token content={escape(csrf)}><title>{h(title)} · skyform</title>"
        f'<link rel=stylesheet href="/static/ui.css?v={ASSET_VERSION}">'
        f'<script src="/static/ui.js?v={ASSET_VERSION}" defer></script></head>'
        f'<body data-tab="{tab}"{hooks}><header><b>skyform</b> {heading}'
        '<span id=live class=live title="live updates">●</span></header>'
        f"{tabs}<main>{body}</main></body></html>"
    )


def missions_page(rows: Iterable[dict[str, Any]], *, csrf: str, problem: str = "") -> str:
    body = [
        "<h1>Missions</h1>"
        + (f"<pre class=error id=problem>{h(problem)}</pre>" if problem else "")
        + "<table class=list><tr><th>mission<th>status<th>last apply<th>resources"
        "<th>sync<th>changes / drift<th>cost</tr>"
    ]
    for r in rows:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(r["counts"].items())) or "none recorded"
        last = when(r["last_apply"]) + ("" if r["last_ok"] in (None, True) else " (failed)")
        changes = "-" if r["changes"] is None else f"{r['changes']} / {r['drift']}"
        cost = ", ".join(f"{v:,.2f} {k}" for k, v in r["cost"].items()) or "-"
        body.append(
            f'<tr class="mission st-{h(r["status"])}" data-mission="{h(r["name"])}">'
            f'<td><a href="{mission_url(r["name"])}">{h(r["name"])}</a>'
            f"<td>{h(r['status'])}<td>{last}<td>{h(counts)}<td>{_sync_cell(r, csrf)}<td>{changes}<td>{h(cost)}</tr>"
        )
    body.append("</table>")
    return page("missions", "".join(body), csrf=csrf)


def _sync_cell(row: dict[str, Any], csrf: str) -> str:
    """The mission's sync and where it comes from; without a saved plan, a button that
    computes a fresh one against the services (on demand only: it sends requests)."""
    sync = row["sync"]
    origin = row.get("sync_origin") or "no plan yet"
    cell = f'<span class="chip sync s-{sync.replace(" ", "-")}" title="{h(origin)}">{h(sync)}</span>'
    if row.get("can_check"):
        cell += (
            f'<form method=post action="{mission_url(row["name"], "sync")}" class=inline>'
            f'<input type=hidden name=csrf value="{escape(csrf)}">'
            f"<button class=check-sync>{'check again' if sync != 'unknown' else 'check sync'}</button></form>"
        )
    return cell


def graph_page(name: str, lay: Layout, number: int, marks: dict[str, Any], *, csrf: str) -> str:
    """One page of the graph: its shape and its marks embedded as JSON, drawn by
    ``static/ui.js``; the legend counts the whole mission, the pager links the others."""
    part = lay.page(number)
    legend = " ".join(f'<span class="chip st-{h(s)}">{h(s)} {c}</span>' for s, c in sorted(marks["counts"].items()))
    total = len(lay.order)
    pager = ""
    if lay.pages > 1:
        first = (number - 1) * GRAPH_PAGE + 1
        last = first + len(part["members"]) - 1
        layers = f"layers {lay.layer[part['members'][0]]} to {lay.layer[part['members'][-1]]}"
        around = sorted({1, lay.pages, *range(max(1, number - 3), min(lay.pages, number + 3) + 1)})
        links, previous = [], 0
        for k in around:
            if k - previous > 1:
                links.append("…")
            links.append(f"<b>{k}</b>" if k == number else f'<a href="{mission_url(name)}?page={k}">{k}</a>')
            previous = k
        elsewhere = part["from_elsewhere"]
        pager = (
            f'<p class=pager id=pager data-page="{number}" data-pages="{lay.pages}">'
            f"nodes {first:,} to {last:,} of {total:,} ({layers}) · page {' '.join(links)}"
            + (f" · {elsewhere:,} edge(s) from earlier pages not drawn" if elsewhere else "")
            + "</p>"
        )
    body = (
        f'<h1>{h(name)}</h1><p class=legend data-total="{total}">{total} resources: {legend}'
        " <span class=hint>fill: health · ring: sync · click a node for details</span></p>"
        f"{pager}"
        '<div class=split><div id=graph-wrap><svg id=graph xmlns="http://www.w3.org/2000/svg"></svg></div>'
        "<aside><div id=details class=details><p class=hint>Click a node.</p></div>"
        "<h2>Live</h2><ol id=log class=log></ol></aside></div>"
        f'<script type="application/json" id=graph-data>{_embedded(part["json"])}</script>'
        f'<script type="application/json" id=graph-marks>{_embedded(json.dumps(marks, separators=(",", ":")))}</script>'
    )
    return page(name, body, csrf=csrf, mission=name, tab="graph", seq=marks["seq"])


def _embedded(text: str) -> str:
    """JSON inside a script element: no ``</`` may close it early; secrets masked."""
    return redact.redact(text.replace("</", "<\\/"))


def _json_block(value: Any) -> str:
    return f"<pre class=json>{h(json.dumps(value, indent=2, default=str))}</pre>"


def node_page(
    name: str, view: dict[str, Any], artifacts: list[dict[str, Any]], *, csrf: str, seq: int, live: int | None = None
) -> str:
    remote = view["remote_id"] or "-"
    deps = ", ".join(f'<a href="{node_url(name, d)}">{h(d)}</a>' for d in view["depends_on"]) or "none"
    rows = "".join(_history_row(name, e) for e in view["history"])
    arts = "".join(_artifact(a) for a in artifacts) or "<p class=hint>No artifacts recorded.</p>"
    body = (
        f'<h1 data-address="{h(view["address"])}">{h(view["address"])} <small>{h(view["type"])}</small></h1>'
        f'<p>status <span id=node-status class="chip st-{h(view["status"])}">{h(view["status"])}</span>'
        f" · remote id <code>{h(remote)}</code>{_console(view.get('console'))} · depends on {deps}</p>"
        + (f"<p class=error>{h(view['error'])}</p>" if view["error"] else "")
        + f"<h2>Live</h2><div id=node-live class=details><p>now: <b id=node-phase>{h(view['phase'] or '-')}</b>"
        " <progress id=node-progress max=1 hidden></progress> <span id=node-progress-text class=hint></span></p>"
        "<ol id=node-log class=log></ol></div>"
        f"<h2>Spec <small>{h(view['spec_source'])}</small></h2>{_json_block(view['spec'])}"
        f"<h2>Outputs</h2>{_json_block(view['outputs'])}"
        f"<h2>Artifacts</h2>{arts}"
        f'<h2>History</h2><table class=list id=history data-address="{h(view["address"])}">'
        f"<tr><th>#<th>when<th>event<th>change<th>detail</tr>{rows}</table>"
    )
    return page(view["address"], body, csrf=csrf, mission=name, tab="", seq=seq, live=live)


def _console(link: dict[str, Any] | None) -> str:
    """The link to the object on its service: http(s) only (``Hooks.console_url`` checked it;
    checked again here, where it becomes an ``href``), opened without a referrer."""
    if not link or urlsplit(link["url"]).scheme not in ("http", "https"):
        return ""
    note = (
        " <small class=hint>(a sandbox run: the simulator's address, answering while it serves)</small>"
        if link["sandbox"]
        else ""
    )
    return (
        f' · <a id=console class=console href="{escape(link["url"], quote=True)}" target=_blank'
        f' rel="noopener noreferrer">open on the service ↗</a>{note}'
    )


def _artifact(a: dict[str, Any]) -> str:
    files = "".join(
        f"<tr><td>{h(f['key'])}<td><code>{h(f.get('path') or f.get('href') or '')}</code>"
        f"<td><code>{h(f.get('sha256') or '-')}</code><td>{h(f.get('size') or '-')}</tr>"
        for f in a["assets"]
    )
    item = f"<details><summary>STAC Item</summary>{_json_block(a['stac'])}</details>" if a.get("stac") else ""
    return (
        f"<section class=artifact><h3>{h(a['title'])} <small>{h(a['id'])}</small></h3>"
        f"<table class=list><tr><th>asset<th>file<th>sha256<th>bytes</tr>{files}</table>{item}</section>"
    )


def _history_row(name: str, e: dict[str, Any]) -> str:
    change = f"{h(e.get('before') or '-')} → {h(e.get('after'))}" if "after" in e else ""
    address = f'<a href="{node_url(name, e["address"])}">{h(e["address"])}</a> ' if e.get("address") else ""
    detail = h(e["data"]) if e.get("data") else ""
    return (
        f'<tr data-seq="{e["seq"]}"><td>{e["seq"]}<td>{when(e["at"])}<td>{h(e["kind"])}'
        f"<td>{address}{change}<td class=detail>{detail}</tr>"
    )


def history_page(name: str, events: list[dict[str, Any]], *, csrf: str, seq: int) -> str:
    rows = "".join(_history_row(name, e) for e in events)
    body = (
        f"<h1>History</h1><table class=list id=history><tr><th>#<th>when<th>event<th>change<th>detail</tr>"
        f"{rows}</table>"
    )
    return page(f"{name} history", body, csrf=csrf, mission=name, tab="history", seq=seq)


def plan_page(name: str, plan: Plan | None, origin: str, *, csrf: str, seq: int, error: str = "") -> str:
    """The plan as the terminal prints it: one card per action with the same symbol, verb and
    field diffs (``action_text``), then the same summary, cost and budget lines."""
    form = (
        f'<form method=post action="{mission_url(name, "plan")}" class=inline>'
        f'<input type=hidden name=csrf value="{escape(csrf)}"><button>plan again from state</button></form>'
    )
    if plan is None:
        body = f"<h1>Plan</h1><pre class=error>{h(error)}</pre>" if error else "<h1>Plan</h1><p>No plan.</p>"
        return page(f"{name} plan", body + form, csrf=csrf, mission=name, tab="plan", seq=seq)
    printer = Printer(color=False)
    cards, used, noops = [], 0, []
    for a in plan.actions:
        if a.action == ActionKind.NOOP and not a.drift:
            noops.append(a)
            continue
        lines = action_text(a, printer, plan.mode) + [
            f"    ! over budget: {str(b).partition(': ')[2]}" for b in plan.budget if b.address == a.address
        ]
        used += len(lines)
        cards.append(
            f'<section class="action act-{h(str(a.action))}" data-address="{h(a.address)}" data-action="{a.action}"'
            + (f' data-irreversible="{h(str(a.irreversibility.level))}"' if a.irreversibility is not None else "")
            + ">"
            f"<pre><b>{h(lines[0])}</b>\n{h(chr(10).join(lines[1:]))}</pre></section>"
        )
    footer = plan_text(plan, printer)[used:]
    warn = _irreversible(plan)
    rest = "".join(
        f'<li data-address="{h(a.address)}" data-action="noop">{h(a.address)} <small>{h(a.reason)}</small></li>'
        for a in noops
    )
    body = (
        f"<h1>Plan <small>{h(origin)}</small></h1>{warn}"
        f"<div class=summary><pre>{h(chr(10).join(footer))}</pre></div>{''.join(cards)}"
        + (f"<details><summary>{len(noops)} up to date</summary><ul>{rest}</ul></details>" if noops else "")
        + (form if origin.startswith("planned") else "")
    )
    return page(f"{name} plan", body, csrf=csrf, mission=name, tab="plan", seq=seq)


def _irreversible(plan: Plan) -> str:
    """What the plan marks as not reversible, as its ``irreversible`` list holds it (the
    kinds' own declarations: class, reason, until when it can be called off), never a rule
    of the page's own: a reversible delete is not listed, an irreversible create is."""
    from ..plan.irreversible import markings

    marked = markings(plan.actions)
    if not marked:
        return ""
    items = "".join(
        f'<li data-address="{h(m.address)}" data-class="{h(str(m.declared.level))}">'
        f"<b>{h(m.address)}</b> ({h(m.action)}) <span class=irr-class>{h(str(m.declared.level))}</span>"
        + (f" until <span class=irr-until>{h(m.declared.until)}</span>" if m.declared.until else "")
        + (f": <span class=irr-reason>{h(m.declared.reason)}</span>" if m.declared.reason else "")
        + "</li>"
        for m in marked
    )
    return f"<section id=irreversible class=irreversible><h2>Cannot be undone</h2><ul>{items}</ul></section>"


PHASE_CLASS = {
    "queued": "queued",
    "submitting": "submit",
    "uploading": "up",
    "waiting on the service": "wait",
    "downloading": "down",
    "deleting": "delete",
}
RESULT_CLASS = {"ready": "done", "deleted": "done", "forgotten": "done", "failed": "failed"}


def timeline_svg(view: dict[str, Any]) -> str:
    """The last run as a Gantt chart: one row per node, one bar per phase, time left to right."""
    if not view["rows"]:
        return "<p class=hint>No run recorded yet.</p>"
    label, width, row_h = 170, 760, 22
    span = max(view["end"] - view["start"], 1e-3)
    parts = []
    for i, row in enumerate(view["rows"]):
        y = 24 + i * row_h
        parts.append(f'<text x=4 y="{y + 15}" class=label>{h(row["address"])}</text>')
        for bar in row["bars"]:
            x = label + (bar["from"] - view["start"]) / span * width
            w = max((bar["to"] - bar["from"]) / span * width, 1.5)
            seconds = bar["to"] - bar["from"]
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height=16'
                f' class="bar ph-{PHASE_CLASS.get(bar["phase"], "other")}"'
                f' data-address="{h(row["address"])}" data-phase="{h(bar["phase"])}">'
                f"<title>{h(row['address'])}: {h(bar['phase'])} {seconds:.1f}s</title></rect>"
            )
        if row.get("result"):
            result = row["result"]
            parts.append(
                f'<text x="{label + width + 6}" y="{y + 15}" class="label res-{RESULT_CLASS.get(result, "other")}"'
                f' data-address="{h(row["address"])}">{h("done" if result == "ready" else result)}'
                f"</text>"
            )
    ticks = "".join(
        f'<text x="{label + f * width:.0f}" y=14 class=tick>{span * f:.1f}s</text>' for f in (0, 0.25, 0.5, 0.75, 1)
    )
    height = 30 + len(view["rows"]) * row_h
    legend = " ".join(f'<span class="chip ph-{c}">{p}</span>' for p, c in PHASE_CLASS.items())
    legend += ' <span class="chip res-done">done</span> <span class="chip res-failed">failed</span>'
    return (
        f"<p class=legend>{legend}{' · <b>running</b>' if view['running'] else ''}</p>"
        f'<svg id=timeline width="{label + width + 80}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"{ticks}{''.join(parts)}</svg>"
    )


def timeline_page(name: str, view: dict[str, Any], *, csrf: str, seq: int) -> str:
    started = f" <small>run started {when(view['start'])}</small>" if view["start"] else ""
    body = f"<h1>Timeline{started}</h1><div id=timeline-wrap>{timeline_svg(view)}</div>"
    return page(f"{name} timeline", body, csrf=csrf, mission=name, tab="timeline", seq=seq)


def outputs_page(name: str, outputs: dict[str, Any], *, csrf: str, seq: int) -> str:
    rows = "".join(f"<tr><td>{h(k)}<td><code>{h(v)}</code></tr>" for k, v in outputs.items())
    body = "<h1>Outputs</h1>" + (
        f"<table class=list id=outputs><tr><th>output<th>value</tr>{rows}</table>" if rows else "<p>None yet.</p>"
    )
    return page(f"{name} outputs", body, csrf=csrf, mission=name, tab="outputs", seq=seq)


def error_page(title: str, message: str, *, csrf: str, mission: str | None = None) -> str:
    return page(title, f"<h1>{h(title)}</h1><p class=error>{h(message)}</p>", csrf=csrf, mission=mission)
