"""The load campaign: one `skyform apply` tracking thousands of running remote jobs.

The engine's fake provider's job (tests/engine/fakeprov: runs ``duration`` simulated
seconds), registered as ``load.Job`` with a real service's poll cadence (loadprov.py),
is served by `skyform sandbox serve` in its own process, so what is
measured is the apply process alone: its threads, CPU time and resident memory sampled
from /proc, and the polls per second it sustains while every job is running (from the
simulator's request counter).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rkit

ENGINE_TESTS = rkit.REPO / "tests" / "engine"
CLOCK = 600.0
TICKS = os.sysconf("SC_CLK_TCK")


def fake_env(root: Path, **extra: str) -> dict[str, str]:
    return rkit.clean_env(
        SKYFORM_DISABLE_PLUGIN_AUTOLOAD="1",
        SKYFORM_PLUGINS="local,state",
        SKYFORM_PLUGIN_MODULES="loadprov",
        SKYFORM_RETRY_BASE="0.05",
        PYTHONPATH=os.pathsep.join([str(ENGINE_TESTS), str(Path(__file__).resolve().parent)]),
        XDG_CACHE_HOME=str(root / "cache"),
        **extra,
    )


@dataclass
class Sample:
    at: float
    threads: int
    rss_kib: int
    cpu_s: float
    running: int
    requests: int


@dataclass
class LoadResult:
    jobs: int
    exit: int | None = None
    samples: list[Sample] = field(default_factory=list)
    all_running_at: float | None = None
    first_done_at: float | None = None
    finished_at: float | None = None
    peak_running: int = 0

    def figures(self) -> dict[str, Any]:
        """Peak threads, CPU and memory per job, polls/s sustained while all jobs ran."""
        s = self.samples
        window = [
            x
            for x in s
            if self.all_running_at
            and x.at >= self.all_running_at
            and (self.first_done_at is None or x.at <= self.first_done_at)
        ]
        polls = None
        if len(window) >= 2:
            polls = (window[-1].requests - window[0].requests) / max(window[-1].at - window[0].at, 1e-9)
            cpu_share = (window[-1].cpu_s - window[0].cpu_s) / max(window[-1].at - window[0].at, 1e-9)
        else:
            cpu_share = None
        peak_rss = max((x.rss_kib for x in s), default=0)
        base_rss = s[0].rss_kib if s else 0
        return {
            "jobs": self.jobs,
            "exit": self.exit,
            "peak_running": self.peak_running,
            "peak_threads": max((x.threads for x in s), default=0),
            "peak_rss_mib": round(peak_rss / 1024, 1),
            "rss_per_job_kib": round((peak_rss - base_rss) / max(self.jobs, 1), 1),
            "cpu_s_total": round(s[-1].cpu_s, 2) if s else None,
            "cpu_ms_per_job": round(1000 * s[-1].cpu_s / max(self.jobs, 1), 2) if s else None,
            "window_s": round(window[-1].at - window[0].at, 1) if len(window) >= 2 else 0,
            "polls_per_s_all_running": round(polls, 1) if polls is not None else None,
            "cpu_share_while_polling": round(cpu_share, 2) if cpu_share is not None else None,
            "seconds_to_all_running": round(self.all_running_at, 1) if self.all_running_at else None,
            "seconds_total": round(self.finished_at, 1) if self.finished_at else None,
        }


def _proc(pid: int) -> tuple[int, int, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    threads = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))
    rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    return threads, rss, cpu


def run(root: Path, jobs: int, job_seconds: float, parallelism: int = 10, timeout: float = 900) -> LoadResult:
    """Apply ``jobs`` fake jobs that each run ``job_seconds`` of real time; sample the apply."""
    env = fake_env(root)
    result = LoadResult(jobs)
    with rkit.Serve(root / "sbx", clock=CLOCK, env=env) as serve:
        fake = serve.providers()["load"]
        base = serve.base_urls()["load"]
        duration = job_seconds * CLOCK
        resources = {
            f"j{i:05d}": {"type": "load.Job", "spec": {"name": f"job-{i}", "duration": duration}} for i in range(jobs)
        }
        mission = rkit.mini_mission(root / "m", {"load": fake}, resources, name="load")
        import httpx

        stats = httpx.Client(timeout=10)
        started = time.time()
        proc = rkit.popen("apply", "--json", "--auto-approve", "--parallelism", str(parallelism), str(mission), env=env)
        running = 0
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                try:
                    threads, rss, cpu = _proc(proc.pid)
                    requests = stats.get(f"{base}/__sandbox__/stats").json()["requests"]
                except (OSError, StopIteration, ValueError, httpx.HTTPError):
                    break
                result.samples.append(Sample(time.time() - started, threads, rss, cpu, running, requests))
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for event in rkit.events(proc, timeout=timeout):
            if event.get("event") != "transition":
                continue
            if event.get("after") == "running":
                running += 1
                result.peak_running = max(result.peak_running, running)
                if running == jobs and result.all_running_at is None:
                    result.all_running_at = time.time() - started
            elif event.get("after") in ("ready", "failed") and event.get("before") == "running":
                running -= 1
                if result.first_done_at is None:
                    result.first_done_at = time.time() - started
        result.exit = proc.wait(timeout=60)
        result.finished_at = time.time() - started
        stop.set()
        sampler.join(timeout=5)
        stats.close()
    return result


def dump(result: LoadResult) -> str:
    return json.dumps(result.figures())
