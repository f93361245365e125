// skyform ui: draws the graph from its page's JSON and applies live events (plain JS, no
// dependency, nothing fetched from another host).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COL = 190, ROW = 34, W = 170, H = 24, ROWS = 40, FIRST = 150, CHUNK = 2000;
const FINISHED = new Set(["ready", "failed", "deleted", "forgotten"]);

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

// Where each node sits: its layer's column(s), ROWS nodes per column.
function place(nodes) {
  const byLayer = new Map();
  nodes.forEach((n, i) => { if (!byLayer.has(n.layer)) byLayer.set(n.layer, []); byLayer.get(n.layer).push(i); });
  const pos = new Array(nodes.length);
  let x = 10, height = 0;
  for (const layer of [...byLayer.keys()].sort((a, b) => a - b)) {
    const members = byLayer.get(layer);
    members.forEach((i, k) => { pos[i] = [x + Math.floor(k / ROWS) * COL, 10 + (k % ROWS) * ROW]; });
    x += Math.ceil(members.length / ROWS) * COL;
    height = Math.max(height, 10 + Math.min(members.length, ROWS) * ROW);
  }
  return { pos, width: x, height, order: [...byLayer.keys()].sort((a, b) => a - b).flatMap(l => byLayer.get(l)) };
}

function slug(text) { return String(text).replace(/ /g, "-"); }
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
function esc(text) { return String(text).replace(/[&<>"']/g, c => ESCAPES[c]); }

function drawGraph() {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const marks = JSON.parse(document.getElementById("graph-marks").textContent);
  data.health = marks.health;
  // the shape's rows and the marks (views.Layout.shape, views.graph_marks) into the objects
  // the drawing and the live updates use
  data.nodes = data.nodes.map(([id, type, layer], i) => ({
    id, type: data.types[type], layer, status: marks.status[i], health: marks.health[marks.status[i]] || "missing",
    sync: marks.syncs[marks.sync[i]] }));
  const svg = document.getElementById("graph");
  const { pos, width, height, order } = place(data.nodes);
  svg.setAttribute("width", width + 10);
  svg.setAttribute("height", height + 10);
  const edges = el("g", { class: "edges" }, svg);
  const layer = el("g", { class: "nodes" }, svg);
  const incoming = new Map();
  data.edges.forEach(([a, b]) => { if (!incoming.has(b)) incoming.set(b, []); incoming.get(b).push(a); });
  const byId = new Map();
  window.skyformGraph = { data, byId, drawn: 0 };
  let next = 0;
  // Progressive: the first layers at once, the rest a chunk per frame (a 10,000-node mission
  // shows its roots immediately and never blocks the page). Markup is built as text and
  // parsed once per chunk: far cheaper than one DOM call per element.
  function chunk(size) {
    const stop = Math.min(next + size, order.length);
    const parts = [];
    let d = "";
    const first = next;
    for (; next < stop; next++) {
      const i = order[next], n = data.nodes[i], [x, y] = pos[i];
      const label = n.id.length > 24 ? n.id.slice(0, 23) + "…" : n.id;
      parts.push(`<g class="node h-${n.health} s-${slug(n.sync)}" data-id="${esc(n.id)}" data-status="${esc(n.status)}"` +
                 ` transform="translate(${x},${y})"><rect width="${W}" height="${H}" rx="4"></rect>` +
                 `<circle cx="${W - 9}" cy="${H / 2}" r="5"></circle><text x="6" y="16">${esc(label)}</text></g>`);
      for (const a of incoming.get(i) || []) {
        const [x0, y0] = pos[a];
        d += `M${x0 + W},${y0 + H / 2}L${x},${y + H / 2}`;
      }
    }
    layer.insertAdjacentHTML("beforeend", parts.join(""));
    const drawn = layer.children;
    for (let k = first; k < stop; k++) {
      const g = drawn[k];
      byId.set(g.dataset.id, { g, node: data.nodes[order[k]] });
    }
    if (d) el("path", { d }, edges);
    window.skyformGraph.drawn = next;
    svg.setAttribute("data-drawn", next);
    if (next < order.length) requestAnimationFrame(() => chunk(CHUNK));
    else {
      svg.setAttribute("data-complete", "true");
      svg.setAttribute("data-complete-ms", performance.now().toFixed(1));  // benchmarks/ui_page.py
    }
  }
  chunk(FIRST);
  svg.addEventListener("click", (ev) => {
    const g = ev.target.closest(".node");
    if (!g) return;
    document.querySelectorAll(".node.selected").forEach(s => s.classList.remove("selected"));
    g.classList.add("selected");
    showDetails(byId.get(g.dataset.id).node);
  });
}

function showDetails(n) {
  const box = document.getElementById("details");
  box.replaceChildren();
  const h = document.createElement("h3");
  h.textContent = n.id;
  const p = document.createElement("p");
  p.textContent = `${n.type} · status ${n.status} · health ${n.health} · sync ${n.sync}`;
  const a = document.createElement("a");
  a.href = `${location.pathname.replace(/\/$/, "")}/node/${encodeURIComponent(n.id)}`;
  a.textContent = "spec, outputs, history, artifacts →";
  a.id = "node-link";
  box.append(h, p, a);
}

function setStatus(address, status) {
  const graph = window.skyformGraph;
  if (graph && graph.byId.has(address)) {
    const { g, node } = graph.byId.get(address);
    node.status = status;
    node.health = graph.data.health[status] || "missing";
    g.dataset.status = status;
    g.classList.remove("h-healthy", "h-progressing", "h-degraded", "h-missing");
    g.classList.add(`h-${node.health}`);
  }
  const chip = document.getElementById("node-status");
  if (chip && document.querySelector("h1[data-address]").dataset.address === address) {
    chip.textContent = status;
    chip.className = `chip st-${status}`;
  }
}

const LOG_KEPT = 500;  // lines a live list keeps: the page of a months-long run stays small

function describe(ev) {
  const change = ev.after !== undefined ? ` ${ev.before || "-"} → ${ev.after}` : "";
  const pct = typeof ev.fraction === "number" ? ` ${Math.round(ev.fraction * 100)}%` : "";
  const said = ev.message || (ev.data && (ev.data.message || ev.data.phase)) || "";
  return `${ev.kind}${change}${pct}${said ? " " + said : ""}`;
}

function appendLine(list, text, attrs) {
  const li = document.createElement("li");
  li.textContent = text;
  for (const [k, v] of Object.entries(attrs)) li.dataset[k] = v;
  list.appendChild(li);
  while (list.children.length > LOG_KEPT) list.firstChild.remove();
  list.scrollTop = list.scrollHeight;
}

function logLine(ev) {
  const log = document.getElementById("log");
  if (!log) return;
  appendLine(log, `${new Date(ev.at * 1000).toLocaleTimeString()} ${ev.address || ""} ${describe(ev)}`,
             { kind: ev.kind, address: ev.address || "" });
}

// The node page's live box: its phase, its progress bar, its progress and log lines.
function nodeLive(ev) {
  const heading = document.querySelector("h1[data-address]");
  const list = document.getElementById("node-log");
  if (!heading || !list || heading.dataset.address !== ev.address) return;
  const chip = document.getElementById("node-status");
  if (ev.kind === "phase" && ev.data) document.getElementById("node-phase").textContent = ev.data.phase;
  if (ev.kind === "transition" && ev.after) document.getElementById("node-phase").textContent = ev.after;
  if (ev.kind === "progress" && typeof ev.fraction === "number") {
    const bar = document.getElementById("node-progress");
    bar.hidden = false;
    bar.value = ev.fraction;
    document.getElementById("node-progress-text").textContent = `${Math.round(ev.fraction * 100)}% ${ev.message || ""}`;
  }
  if (ev.kind === "progress" || ev.kind === "log" || ev.kind === "retry" || ev.kind === "phase") {
    appendLine(list, `${new Date(ev.at * 1000).toLocaleTimeString()} ${describe(ev)}`,
               { kind: ev.kind, status: chip ? chip.textContent : "" });
  }
}

function historyRow(ev) {
  const table = document.getElementById("history");
  if (!table || (table.dataset.address && table.dataset.address !== ev.address)) return;
  if (table.querySelector(`tr[data-seq="${ev.seq}"]`)) return;
  const tr = document.createElement("tr");
  tr.dataset.seq = ev.seq;
  const change = ev.after !== undefined ? `${ev.address || ""} ${ev.before || "-"} → ${ev.after}` : (ev.address || "");
  for (const text of [ev.seq, new Date(ev.at * 1000).toLocaleString(), ev.kind, change,
                      ev.data ? JSON.stringify(ev.data) : ""]) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
  }
  tr.lastChild.className = "detail";
  table.appendChild(tr);
}

let timelinePending = false;
function refreshTimeline() {
  const wrap = document.getElementById("timeline-wrap");
  if (!wrap || timelinePending) return;
  timelinePending = true;
  setTimeout(() => {
    fetch(`${location.pathname}?fragment=1`, { credentials: "same-origin" })
      .then(r => r.text()).then(html => { wrap.innerHTML = html; })
      .finally(() => { timelinePending = false; });
  }, 500);
}

// Live: the server streams the state's history; the browser resumes from the last id it
// saw (Last-Event-ID) after any reconnect, so no event is lost.
function follow() {
  const url = document.body.dataset.events;
  if (!url || !window.EventSource) return;
  // the page's own position in the live log too (a node page): lines written while it loaded
  const live = document.body.dataset.live ? `&live=${document.body.dataset.live}` : "";
  const source = new EventSource(`${url}?after=${document.body.dataset.seq || 0}${live}`);
  const dot = document.getElementById("live");
  source.onopen = () => dot.classList.add("on");
  source.onerror = () => dot.classList.remove("on");
  const handle = (msg) => {
    const ev = JSON.parse(msg.data);
    nodeLive(ev);  // before the status moves: a line says what the node was doing then
    logLine(ev);
    if (ev.seq === undefined) return;  // a live record (progress, a log line): not history
    document.body.dataset.seq = ev.seq;
    if (ev.kind === "transition" && ev.address && ev.after) setStatus(ev.address, ev.after);
    historyRow(ev);
    refreshTimeline();
  };
  source.onmessage = handle;
  window.skyformLive = source;
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.getElementById("graph-data")) drawGraph();
  follow();
});
