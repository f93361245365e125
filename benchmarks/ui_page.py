"""``skyform ui``: how long the mission page of a 10,000-resource mission takes to load (issue 20).

Usage: python benchmarks/ui_page.py [--resources 10000] [--repeat 5] [--goal-ms 1000]

A mission of N ``local.Files`` resources (each depends on the one ten before, as in
benchmarks/run.py: N/10 graph layers) with a recorded state of N resources in mixed
statuses and a transition event each, written through the StateStore API as an apply
would. A real ``skyform ui`` process serves it; the system's headless Chromium opens the
mission page ``--repeat`` times after one warm-up and reads the browser's Navigation
Timing. Before each measured load one more transition is recorded, so the server renders
the page from the state again (its kept copy is stale, as during a run); a second load of
the unchanged state is reported beside it. The graph is paged (1,000 nodes a page, whole
layers left to right): the last page is measured too, and the run checks that the page
says it holds every resource of the mission (``data-total``). ``loadEventEnd`` (the page is loaded and shows
the first layers of the graph; the rest is drawn a chunk per frame) is the figure the goal
is about, with the time until the whole graph is drawn beside it. Exits 1 when the median
load is over the goal. Absolute times move with the load of this shared machine; the
median of several rounds is what to read.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SKYFORM = str(Path(sys.executable).with_name("skyform"))
STATUSES = ("ready",) * 7 + ("running", "failed", "creating")


def write_mission(directory: Path, n: int) -> Path:
    sys.path.insert(0, str(HERE))
    from run import write_mission as write  # the same mission shape as the engine's benchmarks

    return write(directory, n)


def record_state(mission: Path, n: int) -> None:
    """N recorded resources and a transition each, in one transaction (as a journal writes)."""
    from skyform.providers.host import load_registry
    from skyform.state import open_store
    from skyform.state.base import Event, ResourceState

    store = open_store(None, mission, load_registry().state_backends.values())
    now = time.time()
    rows, events = [], []
    for i in range(n):
        address, status = f"r{i:05d}", STATUSES[i % len(STATUSES)]
        deps = [f"r{i - 10:05d}"] if i >= 10 else []
        rows.append(
            ResourceState(
                address,
                "local.Files",
                status,
                f"key-{i}",
                now,
                remote_id=f"files-{i}",
                spec={"paths": ["data/img.jpg"], "min_count": 1},
                outputs={"count": 1},
                depends_on=deps,
            )
        )
        events.append(Event("transition", address, None, status, {"remote_id": f"files-{i}"}, now))
    try:
        store.write("bench", rows, events)
    finally:
        store.close()


def touch_state(mission: Path, i: int) -> None:
    """One more recorded transition (as a running apply writes): the server's cached page
    is stale, so the next load is rendered from the state again."""
    from skyform.providers.host import load_registry
    from skyform.state import open_store
    from skyform.state.base import Event

    store = open_store(None, mission, load_registry().state_backends.values())
    try:
        store.write("bench", [], [Event("transition", f"r{i:05d}", "ready", "ready", {}, time.time())])
    finally:
        store.close()


#: loads that met the SQLite state's transient "database disk image is malformed" while the
#: previous page's event stream read it during touch_state's write (a bug of the state
#: layer, reproduced without the UI: see COORDINATION.md); such a load is made again
STATE_READ_ERRORS = [0]


def measure(driver: Any, url: str) -> dict[str, float]:
    for _ in range(3):
        driver.get("about:blank")
        driver.get(url)
        if driver.execute_script("return document.getElementById('graph') !== null"):
            break
        text = driver.find_element("tag name", "body").text
        if "malformed" not in text:
            raise SystemExit(f"{url} is no graph page: {text[:500]}")
        STATE_READ_ERRORS[0] += 1
    else:
        raise SystemExit(f"{url}: the state could not be read three times in a row")
    deadline = time.monotonic() + 60
    while not driver.execute_script("return document.getElementById('graph').dataset.complete"):
        if time.monotonic() > deadline:
            raise SystemExit("the graph was not drawn completely within 60 s")
        time.sleep(0.02)
    timing = driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return {response: n.responseEnd, dom: n.domContentLoadedEventEnd, load: n.loadEventEnd,"
        " bytes: n.transferSize, drawn: Number(document.getElementById('graph').dataset.completeMs)};"
    )
    return {k: float(v) for k, v in timing.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--goal-ms", type=float, default=1000.0)
    args = parser.parse_args()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="skyform-ui-bench-") as tmp:
        mission = write_mission(Path(tmp) / "bench", args.resources)
        record_state(mission, args.resources)
        server = subprocess.Popen([SKYFORM, "ui", "--port", "0", str(mission)], stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            found = re.search(r"(http://\S+)/", server.stdout.readline())
            if not found:
                raise SystemExit("skyform ui printed no address")
            url = found.group(1) + "/m/bench"
            options = webdriver.ChromeOptions()
            options.binary_location = "/usr/bin/chromium"
            for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
            try:
                measure(driver, url)  # warm-up: the server's first read of the mission and the state
                nodes = driver.execute_script("return document.querySelectorAll('#graph .node').length")
                total = driver.execute_script(
                    "const l = document.querySelector('.legend[data-total]');"
                    " return l ? Number(l.dataset.total) : document.querySelectorAll('#graph .node').length;"
                )
                pages = driver.execute_script(
                    "const p = document.getElementById('pager'); return p ? Number(p.dataset.pages) : 1;"
                )
                last_url = f"{url}?page={pages}"
                if pages > 1:
                    measure(driver, last_url)  # warm-up of the last page
                rounds, cached, last_page = [], [], []
                for i in range(args.repeat):
                    touch_state(mission, i)  # each measured load renders the page anew
                    rounds.append(measure(driver, url))
                    cached.append(measure(driver, url))  # the same state again: the page as kept
                    if pages > 1:
                        touch_state(mission, i)
                        last_page.append(measure(driver, last_url))
            finally:
                driver.quit()
        finally:
            server.terminate()
            server.wait(timeout=10)
    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    result = {
        "resources": args.resources,
        "nodes_drawn": nodes,
        "nodes_on_the_pages": total,
        "pages": pages,
        "rounds": args.repeat,
        "median_ms": {k: round(v, 1) for k, v in median.items() if k != "bytes"},
        "median_ms_unchanged_state": {
            k: round(statistics.median(r[k] for r in cached), 1) for k in ("response", "load", "drawn")
        },
        "page_bytes": int(median["bytes"]),
        "median_ms_last_page": {
            k: round(statistics.median(r[k] for r in last_page), 1) for k in ("response", "load", "drawn")
        }
        if last_page
        else None,
        "loads_made_again_after_a_state_read_error": STATE_READ_ERRORS[0],
        "goal_ms": args.goal_ms,
        "met": median["load"] < args.goal_ms,
    }
    print(json.dumps(result, indent=2))
    print(
        f"mission page of {args.resources} resources: loaded in {median['load']:.0f} ms (goal < {args.goal_ms:.0f} ms,"
        f" {median['load'] / args.goal_ms:.2f} of it); whole graph drawn after {median['drawn']:.0f} ms"
    )
    sys.exit(0 if result["met"] and total == args.resources else 1)


if __name__ == "__main__":
    main()
