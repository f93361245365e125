"""Shared machinery of the reliability campaigns: the CLI as a subprocess, a running
`skyform sandbox serve`, and the demo mission pointed at it.

The tests in this directory and the long scripts under ``benchmarks/`` both use it, so a
campaign measured by a script is the same campaign a test runs in miniature.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "specs" / "bridge-a12"
SKYFORM = [str(Path(sys.executable).parent / "skyform")]

# README "Exit codes": every code a run may end with. 70 (internal error) is a bug and is
# deliberately absent.
DOCUMENTED_EXITS = {0, 1, 2, 3, 4, 5, 6, 7, 64, 130}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: no developer secrets, fast simulator clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKYFORM_SECRET_", "SKYFORM_SANDBOX_"))}
    env.setdefault("NO_COLOR", "1")
    env.update(extra)
    return env


def run(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input: str | None = None,
    cwd: str | Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``skyform ARGS`` to the end; stdout/stderr captured as text."""
    return subprocess.run(
        SKYFORM + list(args),
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        cwd=cwd,
        errors="replace",
        check=False,
    )


def cli(
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: str | Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``skyform ARGS`` in this process (the CLI's own error boundary), answered like :func:`run`.

    The same command as :func:`run` without a process start (~0.5 s of CPU each): for the
    runs whose start-up, signals or timeout are not what a test is about. ``env`` is the
    whole environment, as for :func:`run`; ``PYTHONPATH`` entries are put on ``sys.path``.
    """
    from skyform.testing import run_cli

    full = env or clean_env()
    changes: dict[str, str | None] = {k: v for k, v in full.items() if os.environ.get(k) != v}
    changes.update({k: None for k in os.environ if k not in full})
    for entry in full.get("PYTHONPATH", "").split(os.pathsep):
        if entry and entry not in sys.path:
            sys.path.append(entry)
    done = run_cli(*args, env=changes, input=input, cwd=Path(cwd) if cwd is not None else None)
    if done.exception is not None:  # a bug in the error boundary itself: show it as a crash would
        stderr = done.stderr + f"\nTraceback (in-process run): {done.exception!r}"
        return subprocess.CompletedProcess(list(args), done.exit_code, done.stdout, stderr)
    return subprocess.CompletedProcess(list(args), done.exit_code, done.stdout, done.stderr)


def popen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``skyform ARGS`` in its own session (so a kill hits only it)."""
    return subprocess.Popen(
        SKYFORM + list(args),
        env=env or clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        errors="replace",
    )


def events(proc: subprocess.Popen[str], timeout: float = 60) -> Iterator[dict[str, Any]]:
    """JSON-lines events from a running ``--json`` command, as they come."""
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    yield json.loads(line)
                except ValueError:
                    continue
    finally:
        watchdog.cancel()


@dataclass
class Serve:
    """A `skyform sandbox serve --dir DIR` subprocess; the simulators outlive killed applies."""

    dir: Path
    clock: float = 3600
    faults: str | None = None
    seed: int = 0
    env: dict[str, str] | None = None  # the serve's environment (default: clean_env())
    proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30) -> Serve:
        self.dir.mkdir(parents=True, exist_ok=True)
        args = ["sandbox", "serve", "--dir", str(self.dir), "--clock", str(self.clock)]
        extra = {"SKYFORM_SANDBOX_SEED": str(self.seed)}
        if self.faults is not None:
            extra["SKYFORM_SANDBOX_FAULTS"] = self.faults
        self.proc = subprocess.Popen(
            SKYFORM + args,
            env={**(self.env or clean_env()), **extra},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if (self.dir / "serve.json").exists() and (self.dir / "providers.json").exists():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox serve exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("sandbox serve did not come up")

    def providers(self) -> dict[str, Any]:
        return json.loads((self.dir / "providers.json").read_text())

    def objects(self) -> dict[str, dict[str, int]]:
        out = cli("sandbox", "objects", "--dir", str(self.dir), "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)["objects"]

    def reset(self) -> None:
        out = cli("sandbox", "reset", "--dir", str(self.dir))
        assert out.returncode == 0, out.stderr

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        """Replace every simulator's fault rules (POST /__sandbox__/faults)."""
        import httpx

        for settings in self.base_urls().values():
            httpx.post(f"{settings}/__sandbox__/faults", json=rules, timeout=10).raise_for_status()

    def fired(self) -> dict[str, dict[str, int]]:
        import httpx

        return {
            p: httpx.get(f"{u}/__sandbox__/faults", timeout=10).json().get("fired", {})
            for p, u in self.base_urls().items()
        }

    def stats(self) -> dict[str, int]:
        import httpx

        return {
            p: httpx.get(f"{u}/__sandbox__/stats", timeout=10).json().get("requests", 0)
            for p, u in self.base_urls().items()
        }

    def base_urls(self) -> dict[str, str]:
        data = json.loads((self.dir / "serve.json").read_text())
        return dict(data["servers"])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def __enter__(self) -> Serve:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def demo_mission(
    dst: Path, providers: dict[str, Any] | None = None, edit: Callable[[dict[str, Any]], None] | None = None
) -> Path:
    """Copy the demo mission (its YAML and photos, never its .skyform) to ``dst``.

    ``providers`` (a serve's providers.json) replaces each provider's connection settings,
    keeping the mission's own non-connection settings (``prices``, iTwin's ``budget``). The result is
    written as JSON, which is YAML.
    """
    from ruamel.yaml import YAML

    dst.mkdir(parents=True, exist_ok=True)
    (dst / "data").mkdir(exist_ok=True)
    for photo in sorted((DEMO / "data").iterdir()):
        (dst / "data" / photo.name).write_bytes(photo.read_bytes())
    doc = YAML(typ="safe").load((DEMO / "mission.yaml").read_text())
    if providers is not None:
        for name, settings in providers.items():
            keep = {k: v for k, v in doc["providers"].get(name, {}).items() if k in ("budget", "prices")}
            doc["providers"][name] = {**settings, **keep}
    if edit is not None:
        edit(doc)
    (dst / "mission.yaml").write_text(json.dumps(doc, indent=1))
    return dst


def total_objects(objects: dict[str, dict[str, int]]) -> int:
    return sum(sum(kinds.values()) for kinds in objects.values())


def mini_mission(dst: Path, providers: dict[str, Any], resources: dict[str, Any], name: str = "mini") -> Path:
    """A small mission (JSON-as-YAML) with the demo's photos, for targeted campaigns."""
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "data").mkdir(exist_ok=True)
    for photo in sorted((DEMO / "data").iterdir()):
        (dst / "data" / photo.name).write_bytes(photo.read_bytes())
    doc = {
        "apiVersion": "skyform/v1",
        "kind": "Mission",
        "metadata": {"name": name},
        "providers": providers,
        "resources": resources,
    }
    (dst / "mission.yaml").write_text(json.dumps(doc, indent=1))
    return dst
