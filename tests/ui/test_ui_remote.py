"""Following a run from another machine: an apply records to PostgreSQL in one process, and
``skyform ui --state postgresql://...`` started in another directory (no mission files, no
``.skyform`` of the apply) streams its states, progress and provider log lines while it
runs, resumes by ``Last-Event-ID`` across a restart of the server, and never shows a secret.

The mission uses the engine suite's fake provider (tests/engine/fakeprov): its ``chatter``
makes one create report progress and log a line naming the provider's token, at a pace a
test can watch. The browser's view of the same is in test_ui_browser.py.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import ROOT, SKYFORM, wait_for

FAKEPROV = ROOT / "tests" / "engine"
#: the fake provider's sandbox token (fakeprov/simulator.py; checked below, so it cannot drift)
TOKEN = "fake-sandbox-token"
LINES = 60
MISSION = f"""apiVersion: skyform/v1
kind: Mission
metadata: {{name: remote-a12}}
resources:
  talk: {{type: fake.Thing, spec: {{name: talk, chatter: {LINES}, chatter_every: 0.05}}}}
  after: {{type: fake.Thing, spec: {{name: after}}, depends_on: [talk]}}
"""

pytestmark = pytest.mark.postgres


def fake_env() -> dict[str, str]:
    """The fake provider beside the built-ins, for the apply and the page alike."""
    path = os.pathsep.join([str(FAKEPROV), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {"PYTHONPATH": path, "SKYFORM_PLUGIN_MODULES": "fakeprov.plugin", "NO_COLOR": "1"}


class Stream:
    """An SSE connection to a ``skyform ui`` server, read message by message."""

    def __init__(self, url: str, path: str, last_id: str | None = None) -> None:
        where = urlsplit(url)
        self.conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last_id} if last_id else {})}
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.status

    def next(self) -> tuple[str, dict[str, Any]]:
        """The next message with data: its id and its data."""
        ident, data = "", None
        while True:
            line = self.response.readline().decode()
            if not line:
                raise AssertionError("the stream ended")
            line = line.rstrip("\n")
            if line.startswith("id: "):
                ident = line[4:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and data is not None:
                return ident, data

    def close(self) -> None:
        self.conn.close()


def start_apply(mission: Path, url: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SKYFORM, "apply", "--sandbox", "--auto-approve", "--state", url, str(mission)],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **fake_env()},
    )


def page_of(url: str, path: str) -> tuple[int, str]:
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_a_page_elsewhere_streams_progress_and_log_lines_live_resumes_after_a_restart_and_hides_the_token(
    postgres_url: str, serve: Any, tmp_path: Path
) -> None:
    """While the apply runs: the page (another directory, PostgreSQL only) gets ``talk``'s log
    lines and progress before ``talk`` is ready; the server restarts in the middle and the
    stream, resumed with the last id, carries on - every line once, in order. The token the
    provider wrote into each line is in neither the raw table, nor the stream, nor the page."""
    site_a, elsewhere = tmp_path / "site-a", tmp_path / "laptop"
    site_a.mkdir()
    elsewhere.mkdir()
    (site_a / "mission.yaml").write_text(MISSION)
    served = serve("--state", postgres_url, cwd=elsewhere, env=fake_env())
    apply = start_apply(site_a, postgres_url, site_a)
    seen: list[dict[str, Any]] = []
    try:
        # the mission is on the page once the apply recorded it (the server started before)
        wait_for(lambda: page_of(served.url, "/m/remote-a12")[0] == 200, timeout=60, what="the mission on the page")
        stream = Stream(served.url, "/m/remote-a12/events?after=0&live=0")
        last_id = ""
        while sum(1 for d in seen if d["kind"] == "log") < LINES // 3:
            last_id, data = stream.next()
            seen.append(data)
        stream.close()
        assert apply.poll() is None, "the apply ended before the page saw a third of its lines"
        served.stop()  # the page's server restarts while the apply goes on
        served = serve("--state", postgres_url, cwd=elsewhere, env=fake_env())
        stream = Stream(served.url, "/m/remote-a12/events", last_id=last_id)
        while not (seen and seen[-1]["kind"] == "apply_finished"):
            _, data = stream.next()
            seen.append(data)
        stream.close()
        _, err = apply.communicate(timeout=120)
        assert apply.returncode == 0, err
    finally:
        if apply.poll() is None:
            apply.kill()
            apply.wait()
    logs = [d for d in seen if d["kind"] == "log"]
    assert [d["message"].split(" with ")[0] for d in logs] == [
        f"fake: step {i} of {LINES}" for i in range(1, LINES + 1)
    ]
    assert {d["address"] for d in logs} == {"talk"} and all(d["message"].endswith("token ***") for d in logs)
    kinds = [(d["kind"], d.get("address"), d.get("after")) for d in seen]
    ready = kinds.index(("transition", "talk", "ready"))
    progress = [i for i, d in enumerate(seen) if d["kind"] == "progress" and d.get("address") == "talk"]
    assert progress and progress[-1] < ready, kinds  # live: before the resource was ready, not read back after
    assert seen[progress[-1]]["fraction"] == 1.0
    status, node_page = page_of(served.url, "/m/remote-a12/node/talk")
    assert status == 200 and "talk" in node_page
    from skyform.state import open_store
    from skyform.state.plugin import skyform_state_backends

    store = open_store(postgres_url, tmp_path, skyform_state_backends())
    try:
        with store._reading() as cur:  # type: ignore[attr-defined]  # the raw table, as any reader has it
            cur.execute(store._sql("SELECT kind, address, data::text FROM {t}live_log"))  # type: ignore[attr-defined]
            raw = repr(cur.fetchall())
    finally:
        store.close()
    assert "fake: step 1 of" in raw
    assert f'TOKEN = "{TOKEN}"' in (FAKEPROV / "fakeprov" / "simulator.py").read_text()
    for text in (raw, json.dumps(seen), node_page):
        assert TOKEN not in text
