"""Fixtures of the ``skyform ui`` tests: the demo mission applied in the sandbox, a real
``skyform ui`` server process, the system's headless Chromium, and where screenshots go.

The browser is Debian's ``chromium`` driven by its ``chromium-driver`` through Selenium
(no browser can be downloaded here); tests skip, saying why, only where neither is
installed (``.ci/run`` installs both, so CI never skips).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "specs" / "bridge-a12"
SKYFORM = [str(Path(sys.executable).parent / "skyform")]  # the console script, as a user runs it
CHROMIUM = Path(os.environ.get("SKYFORM_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("SKYFORM_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))


def skyform(*args: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a fresh process."""
    done = subprocess.run(
        [*SKYFORM, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"skyform {' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done


def skyform_here(*args: str | Path, cwd: Path, check: bool = True) -> Any:
    """Run the CLI in this process (a ``CliRun``): for the commands whose start-up is not what
    a test looks at (tests/README.md, rule 1)."""
    from skyform.testing import run_cli

    done = run_cli(*args, cwd=cwd)
    if check and done.exit_code != 0:
        raise AssertionError(f"skyform {' '.join(map(str, args))} exited {done.exit_code}:\n{done.output}")
    return done


def copy_demo(into: Path) -> Path:
    mission = into / "bridge-a12"
    shutil.copytree(DEMO, mission, ignore=shutil.ignore_patterns(".skyform"))
    return mission


class Served:
    """A ``skyform ui`` process and the address it printed."""

    def __init__(self, args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [*SKYFORM, "ui", "--port", "0", *map(str, args)],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"(http://\S+)", line)
        if not found:
            self.process.kill()
            said = self.process.stderr.read() if self.process.stderr else ""
            self.stop()
            raise AssertionError(f"skyform ui printed no address: {line!r} {said}")
        self.address = found.group(1)
        self.url = self.address.split("?", 1)[0].rstrip("/")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start ``skyform ui ARGS`` (port 0) in a directory; every server stops after the test."""
    started: list[Served] = []

    def start(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Served:
        served = Served(list(args), cwd, env)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def sandbox_secrets(mission: Path) -> set[str]:
    """Every credential of the demo's sandbox run: the simulators' keys and client secrets,
    and the tokens their OAuth servers issued (as the simulators saved them)."""
    from skyform_cvat.simulator.server import SANDBOX_TOKEN as CVAT_TOKEN
    from skyform_dronebundle.simulator.access import SANDBOX_KEY
    from skyform_itwin.simulator.server import SANDBOX_CLIENT_SECRET
    from skyform_nodeodm.simulator.server import SANDBOX_TOKEN as NODEODM_TOKEN
    from skyform_satellogic.simulator.server import CLIENT_SECRET

    found = {CVAT_TOKEN, SANDBOX_KEY, SANDBOX_CLIENT_SECRET, NODEODM_TOKEN, CLIENT_SECRET}
    for saved in (mission / ".skyform" / "sandbox").glob("*.json"):
        data = json.loads(saved.read_text())
        for key in ("tokens", "access_tokens", "sessions", "keys"):
            if isinstance(data.get(key), dict):
                found |= {k for k in data[key] if isinstance(k, str) and len(k) >= 8}
    return found


@pytest.fixture(scope="module")
def artifacts_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$SKYFORM_TEST_ARTIFACTS/<module>``, else under pytest's tmp."""
    base = os.environ.get("SKYFORM_TEST_ARTIFACTS")
    root = Path(base) if base else tmp_path_factory.getbasetemp() / "artifacts"
    out = root / request.module.__name__.rpartition(".")[2]
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of {request.module.__name__}: {out}")
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole module (the system's; never a download)."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            f"no system browser: {CHROMIUM} and {CHROMEDRIVER} are needed "
            "(apt-get install chromium chromium-driver; .ci/run does)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL schema (SKYFORM_TEST_POSTGRES_URL; set, the server must answer)."""
    from skyform.state import open_store
    from skyform.state.plugin import skyform_state_backends

    base = os.environ.get("SKYFORM_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("SKYFORM_TEST_POSTGRES_URL is not set")
    url = f"{base}{'&' if '?' in base else '?'}schema=skyform_ui_{uuid.uuid4().hex[:12]}"
    first = open_store(url, tmp_path, skyform_state_backends())
    yield url
    first.drop_schema()  # type: ignore[attr-defined]
    first.close()
