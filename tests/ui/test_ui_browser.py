"""``skyform ui`` in a real browser (headless Chromium) against sandbox applies of the demo.

One browser for the module. What a user sees: the graph shows every node of the mission,
a node's state changes on the open page while an apply runs (server-sent events), the plan
view shows the same actions as ``skyform plan --json``, a node's page shows its outputs and
artifacts, the timeline has a bar per node, and no credential of the run appears in any
page's HTML. Screenshots of each view are saved (the directory is printed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import SKYFORM, Served, copy_demo, sandbox_secrets, skyform_here, wait_for

VIEWS = ("", "/plan", "/timeline", "/outputs", "/history", "/node/reconstruct")


def shot(browser: Any, artifacts: Path, name: str) -> None:
    browser.save_screenshot(str(artifacts / f"{name}.png"))


def graph_nodes(browser: Any) -> dict[str, str]:
    result: dict[str, str] = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#graph .node')]"
        ".map(g => [g.dataset.id, g.dataset.status]));"
    )
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-browser")


@dataclass
class LiveApply:
    """What the open pages showed while a real ``skyform apply`` of the demo ran.

    Seen once for the module: the apply it watched leaves the demo applied, and the views of
    an applied mission (graph, node, timeline, outputs) are looked at on that same run
    instead of a second apply of the demo (~1/4 of the module's time).
    """

    mission: Path
    before: dict[str, str]  # node states on the graph opened before the apply started
    changed: list[str]  # nodes whose state changed on that page while the apply still ran
    running_when_changed: bool
    returncode: int
    stderr: str
    done: dict[str, str]  # node states once every node was ready
    log: list[tuple[str, str | None]]  # the graph page's log lines and their kinds
    upload_lines: list[tuple[str, str | None]]  # the node page's upload progress and the status shown then
    phases: list[str]  # the node page's phase lines


@pytest.fixture(scope="module")
def live(browser: Any, workdir: Path, artifacts_dir: Path) -> Iterator[LiveApply]:
    """The page is open before the apply starts; what it shows while and after it runs."""
    mission = copy_demo(workdir)
    served = Served([mission], cwd=workdir)
    try:
        browser.get(served.url + "/m/bridge-a12")
        wait_for(
            lambda: browser.execute_script("return document.getElementById('graph').dataset.complete"), what="graph"
        )
        before = graph_nodes(browser)
        wait_for(lambda: "on" in browser.find_element("id", "live").get_attribute("class"), what="the event stream")
        graph_window = browser.current_window_handle
        browser.switch_to.new_window("window")  # a second window follows one resource's page
        browser.get(served.url + "/m/bridge-a12/node/reconstruct")
        wait_for(lambda: "on" in browser.find_element("id", "live").get_attribute("class"), what="the node's stream")
        node_window = browser.current_window_handle
        browser.switch_to.window(graph_window)
        apply = subprocess.Popen(
            [*SKYFORM, "apply", "--sandbox", "--auto-approve", str(mission)],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # seen while the apply still runs: the page changed by itself, nobody reloaded it
            changed = wait_for(
                lambda: apply.poll() is None and [a for a, s in graph_nodes(browser).items() if s != "planned"],
                timeout=60,
                what="a node state to change during the apply",
            )
            running_when_changed = apply.poll() is None
            shot(browser, artifacts_dir, "graph-live")
            _, err = apply.communicate(timeout=240)
        finally:
            if apply.poll() is None:
                apply.kill()
                apply.wait()
        done = wait_for(
            lambda: (n := graph_nodes(browser)) and set(n.values()) == {"ready"} and n,
            timeout=30,
            what="every node ready",
        )
        log = [(li.text, li.get_attribute("data-kind")) for li in browser.find_elements("css selector", "#log li")]
        browser.switch_to.window(node_window)
        upload_lines = wait_for(
            lambda: [
                (li.text, li.get_attribute("data-status"))
                for li in browser.find_elements("css selector", "#node-log li[data-kind=progress]")
                if "uploaded" in li.text
            ],
            timeout=30,
            what="the upload's progress on the node page",
        )
        phases = [li.text for li in browser.find_elements("css selector", "#node-log li[data-kind=phase]")]
        shot(browser, artifacts_dir, "node-live")
        browser.close()
        browser.switch_to.window(graph_window)
    finally:
        served.stop()
    yield LiveApply(
        mission, before, changed, running_when_changed, apply.returncode, err, done, log, upload_lines, phases
    )


def test_live_apply_changes_node_states_on_the_open_graph(live: LiveApply) -> None:
    """The page is open before the apply starts; nodes go planned → ... → ready on it."""
    assert set(live.before.values()) == {"planned"}, live.before
    assert live.running_when_changed and live.changed
    assert live.returncode == 0, live.stderr
    assert set(live.done) == set(live.before)
    assert any("apply_finished" in text for text, _ in live.log)
    # beside the graph, the run's progress reports (not kept in the history) were streamed too
    assert any(kind == "progress" for _, kind in live.log)
    # each line arrived while the task was still being created: live, not read back afterwards
    lines = live.upload_lines
    assert all(status == "creating" for _, status in lines), lines
    assert lines[-1][0].split(" progress ")[1].startswith("100% uploaded 8/8 files"), lines
    assert any("uploading" in p for p in live.phases) and any("downloading" in p for p in live.phases), live.phases


@pytest.fixture(scope="module")
def applied(live: LiveApply) -> Path:
    """The demo applied in the sandbox: the run the live pages watched (it must have succeeded)."""
    assert live.returncode == 0, live.stderr
    return live.mission


def test_graph_shows_every_node_and_a_click_opens_its_details(
    browser: Any, serve: Any, applied: Path, artifacts_dir: Path
) -> None:
    graph = json.loads(skyform_here("graph", "--format", "json", applied, cwd=applied.parent).stdout)
    served = serve(applied, cwd=applied.parent)
    browser.get(served.url + "/m/bridge-a12")
    wait_for(lambda: browser.execute_script("return document.getElementById('graph').dataset.complete"), what="graph")
    nodes = graph_nodes(browser)
    assert set(nodes) == {n["id"] for n in graph["nodes"]} and set(nodes.values()) == {"ready"}
    edges = browser.execute_script("return JSON.parse(document.getElementById('graph-data').textContent).edges.length")
    assert edges == len(graph["edges"])
    shot(browser, artifacts_dir, "graph")
    browser.find_element("css selector", '#graph .node[data-id="reconstruct"] rect').click()
    details = browser.find_element("id", "details").text
    assert "reconstruct" in details and "nodeodm.Task" in details and "healthy" in details
    browser.find_element("id", "node-link").click()
    wait_for(lambda: "/node/reconstruct" in browser.current_url, what="the node page")
    page = browser.find_element("tag name", "main").text
    assert "orthophoto" in page and "sha256" in page.lower() and "STAC Item" in page
    link = browser.find_element("id", "console")  # the task on the (simulated) node, by the provider's hook
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/task/[\w-]+/info", link.get_attribute("href"))
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
    shot(browser, artifacts_dir, "node")
    browser.get(served.url + "/m/bridge-a12/timeline")
    bars = browser.find_elements("css selector", "#timeline rect.bar")
    assert {b.get_attribute("data-address") for b in bars} == set(nodes)
    phases = [b.get_attribute("data-phase") for b in bars if b.get_attribute("data-address") == "reconstruct"]
    assert phases[:2] == ["queued", "submitting"] and "uploading" in phases and phases[-1] == "downloading", phases
    assert phases.index("uploading") < phases.index("waiting on the service") < phases.index("downloading")
    results = browser.find_elements("css selector", "#timeline text.res-done")
    assert {r.get_attribute("data-address") for r in results} == set(nodes)
    shot(browser, artifacts_dir, "timeline")
    browser.get(served.url + "/m/bridge-a12/outputs")
    outputs = json.loads(skyform_here("output", "--json", applied, cwd=applied.parent).stdout)
    table = browser.find_element("id", "outputs").text
    assert all(name in table for name in outputs), (outputs, table)
    shot(browser, artifacts_dir, "outputs")
    browser.get(served.url + "/")
    assert "bridge-a12" in browser.find_element("tag name", "table").text
    shot(browser, artifacts_dir, "missions")


def test_plan_view_shows_the_same_actions_as_plan_json(
    browser: Any, serve: Any, workdir: Path, artifacts_dir: Path
) -> None:
    """A saved plan of a fresh demo: every action, with its kind, as ``plan --json`` lists it."""
    mission = copy_demo(workdir / "planned")
    saved = workdir / "planned" / "demo.plan"
    lines = skyform_here("plan", "--sandbox", "--json", "-o", saved, mission, cwd=workdir).stdout.splitlines()
    plan = next(json.loads(line) for line in lines if json.loads(line).get("event") == "plan")
    served = serve(mission, "--plan", saved, cwd=workdir)
    browser.get(served.url + "/m/bridge-a12/plan")
    shown = browser.execute_script(
        "return [...document.querySelectorAll('[data-action]')].map(e => [e.dataset.address, e.dataset.action]);"
    )
    assert sorted(map(tuple, shown)) == sorted((a["address"], a["action"]) for a in plan["actions"])
    text = browser.find_element("tag name", "main").text
    assert "+ baseline (satellogic.Task) will be created" in text
    assert f"Plan: {plan['counts']['create']} to create" in text and "Estimated cost" in text
    shot(browser, artifacts_dir, "plan")
    browser.get(served.url + "/")  # the missions list counts the saved plan's changes and cost
    row = browser.find_element("css selector", "tr.mission").text
    assert f"{len(plan['actions'])} / 0" in row and "units" in row, row


def test_no_credential_of_the_run_appears_in_any_page(browser: Any, serve: Any, applied: Path) -> None:
    secrets = sandbox_secrets(applied)
    assert len(secrets) >= 5
    served = serve(applied, cwd=applied.parent)
    for view in VIEWS:
        browser.get(served.url + "/m/bridge-a12" + view)
        # the page's script has run (it draws the graph, then connects the stream)
        wait_for(lambda: "on" in browser.find_element("id", "live").get_attribute("class"), what=f"{view}'s stream")
        html = browser.page_source
        assert "bridge-a12" in html
        leaked = [s for s in secrets if s in html]
        assert not leaked, (view, leaked)


@pytest.mark.postgres
def test_a_page_on_another_machine_shows_the_uploads_progress_and_log_lines_live(
    browser: Any, serve: Any, workdir: Path, artifacts_dir: Path, postgres_url: str
) -> None:
    """The apply records to PostgreSQL; ``skyform ui --state URL`` runs in another directory
    (no mission files, no ``.skyform`` of the apply). The NodeODM task's page, opened once the
    task's intent is recorded, shows the upload's progress and the retry line an upload thread
    logged (one file answered 503) while the task is still being created - and no credential."""
    mission = copy_demo(workdir / "remote")
    elsewhere = workdir / "laptop"
    elsewhere.mkdir()
    served = serve("--state", postgres_url, cwd=elsewhere)
    faults = [
        {"provider": "nodeodm", "match": "POST /task/new/init", "fault": "latency", "delay": 4},
        {"provider": "nodeodm", "match": "POST /task/new/upload/", "fault": "latency", "delay": 0.5},
        {"provider": "nodeodm", "match": "POST /task/new/upload/", "fault": "status", "status": 503, "times": 1},
    ]
    apply = subprocess.Popen(
        [*SKYFORM, "apply", "--sandbox", "--auto-approve", "--state", postgres_url, str(mission)],
        cwd=mission,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SKYFORM_SANDBOX_FAULTS": json.dumps(faults)},
    )
    node = served.url + "/m/bridge-a12/node/reconstruct"
    try:

        def opened() -> bool:
            browser.get(node)
            return bool(browser.find_elements("css selector", "h1[data-address=reconstruct]"))

        wait_for(opened, timeout=90, what="the task's page (its intent recorded in PostgreSQL)")
        wait_for(lambda: "on" in browser.find_element("id", "live").get_attribute("class"), what="the node's stream")
        lines = wait_for(
            lambda: (
                [
                    (li.get_attribute("data-kind"), li.text, li.get_attribute("data-status"))
                    for li in browser.find_elements("css selector", "#node-log li")
                    if li.get_attribute("data-kind") in ("progress", "log")
                ]
                if any("100% uploaded" in li.text for li in browser.find_elements("css selector", "#node-log li"))
                else None
            ),
            timeout=90,
            what="the upload's progress on the page",
        )
        shot(browser, artifacts_dir, "node-remote")
        _, err = apply.communicate(timeout=240)
        assert apply.returncode == 0, err
    finally:
        if apply.poll() is None:
            apply.kill()
            apply.wait()
    progress = [(text, status) for kind, text, status in lines if kind == "progress" and "uploaded" in text]
    retries = [(text, status) for kind, text, status in lines if kind == "log" and "retry 1 of" in text]
    assert len(progress) >= 2 and all(status == "creating" for _, status in progress), lines
    assert len(retries) == 1 and retries[0][1] == "creating", lines
    assert "nodeodm: upload of DJI_" in retries[0][0] and "503" in retries[0][0], retries
    html = browser.page_source
    leaked = [s for s in sandbox_secrets(mission) if s in html]
    assert not leaked, leaked
