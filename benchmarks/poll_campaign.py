"""CPU per poll of many live remote jobs: the engine's poll loop against a bare httpx loop (issue 16).

    python benchmarks/poll_campaign.py [--jobs 2000] [--window 60] [--parallelism 10] [--clock 20]

``skyform sandbox serve --clock F`` runs the NodeODM simulator in its own process (real HTTP
on 127.0.0.1; its CPU is not the engine's). ``skyform apply --detach`` submits ``--jobs``
``nodeodm.Task`` resources (nothing is polled while they upload); a second ``skyform
apply`` resumes them all and polls them (``GET /task/{uuid}/info``) at the provider's own
cadence - 10 s backing off to 60 s of service time - on the sandbox's clock, as ``apply
--sandbox`` does: at ``--clock 20`` every 0.5 s backing off to 3 s, more than the loop
serves for 2,000 jobs, so the engine polls flat out. The resuming apply runs against the
separate serve, so the sandbox clock is given to it by a two-line driver that sets
:meth:`skyform.api.Session._time_scale`; the rest is the ``skyform`` console script. The
simulator processes two tasks at a time; the others stay queued, so most polls see nothing
move - and tasks that finished while the others were created are downloaded by the resume.

Once every task was polled, the resuming apply's CPU time (``/proc``) and the simulator's
request counter are sampled over ``--window`` seconds: CPU per poll is their ratio. The
bare loop is a fresh Python process that GETs the same URLs (same token, one
``httpx.Client``, JSON decoded) for as many requests, in the same run, right after; its CPU
per request is measured the same way, from outside. NodeODM's API has no list endpoint that
carries task status (``/task/list`` answers uuids only), so one request per task and poll
is what any client pays. The sandbox's HTTP server (werkzeug's) answers ``Connection:
close``, so both sides open a connection per request. Figures are medians (over slices of
the window; over three bare runs); the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))
import itertools

import httpx
import rkit

TICKS = os.sysconf("SC_CLK_TCK")

BARE = """
import json, os, sys, time
import httpx
base, token, uuids, total = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
with httpx.Client(timeout=30) as client:
    done = 0
    start = os.times()
    while done < total:
        for uuid in uuids:
            client.get(f"{base}/task/{uuid}/info", params={"token": token}).json()
            done += 1
            if done >= total:
                break
    end = os.times()
print(json.dumps({"requests": done, "cpu_s": (end.user + end.system) - (start.user + start.system)}))
"""


# the console script, with the sandbox clock's poll cadence for an apply against a separate serve
DRIVER = """
import sys
from skyform import api
from skyform.cli.main import main
factor = float(sys.argv.pop(1))
api.Session._time_scale = lambda self: 1.0 / factor
main(sys.argv[1:])
"""


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(
    work: Path, jobs: int, window: float, parallelism: int, clock: float, timeout: float = 3600
) -> dict[str, Any]:
    """Engine and bare CPU per poll of ``jobs`` live NodeODM tasks (seconds), with the counts behind them."""
    env = rkit.clean_env(XDG_CACHE_HOME=str(work / "cache"))
    with rkit.Serve(work / "sbx", clock=clock, env=env) as serve:
        settings = serve.providers()["nodeodm"]
        base = serve.base_urls()["nodeodm"]
        resources: dict[str, Any] = {
            "photos": {"type": "local.Files", "spec": {"paths": ["data/DJI_0001.JPG", "data/DJI_0002.JPG"]}}
        }
        for i in range(jobs):
            resources[f"t{i:05d}"] = {
                "type": "nodeodm.Task",
                "spec": {"name": f"poll-{i}", "images": "${{ resources.photos.outputs.paths }}"},
            }
        mission = rkit.mini_mission(work / "m", {"nodeodm": settings}, resources, name="poll")
        # the jobs are submitted first (--detach: nothing polled while 2,000 creates upload),
        # then a second apply resumes them all - the apply that is measured
        created = rkit.run(
            "apply",
            "--auto-approve",
            "--detach",
            "--parallelism",
            str(parallelism),
            str(mission),
            env=env,
            timeout=timeout,
        )
        if created.returncode != 0:
            raise SystemExit(f"creating {jobs} tasks failed (exit {created.returncode}): {created.stderr[-2000:]}")

        def requests() -> int:
            return int(rkit_get(f"{base}/__sandbox__/stats")["requests"])

        uuids = [t["uuid"] if isinstance(t, dict) else t for t in rkit_get(f"{base}/task/list", settings)]
        args = ["apply", "--json", "--auto-approve", "--parallelism", str(parallelism), str(mission)]
        proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(clock), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            errors="replace",
        )
        threading.Thread(target=lambda: all(True for _ in rkit.events(proc, timeout=timeout)), daemon=True).start()
        try:
            # its plan refreshes every task, then each is polled at once: past both, and a moment
            floor = requests() + 2 * jobs
            deadline = time.time() + timeout
            while requests() < floor:
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"the resuming apply exited {proc.poll()} before polling every task")
                time.sleep(1.0)
            time.sleep(5)
            samples = [(time.time(), cpu_of(proc.pid), requests())]
            slice_s = window / 6
            while samples[-1][0] - samples[0][0] < window:
                time.sleep(slice_s)
                samples.append((time.time(), cpu_of(proc.pid), requests()))
            with httpx.Client(timeout=30, params={"token": settings.get("token") or ""}) as client:
                codes = [client.get(f"{base}/task/{t}/info").json()["status"]["code"] for t in uuids]
            running = sum(1 for code in codes if code in (10, 20))
        finally:
            proc.send_signal(signal.SIGINT)  # an interrupted apply records what runs and exits
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        polls = samples[-1][2] - samples[0][2]
        engine_cpu = samples[-1][1] - samples[0][1]
        per_slice = [(b[1] - a[1]) / (b[2] - a[2]) for a, b in itertools.pairwise(samples) if b[2] - a[2] > 0]
        bare_runs = []
        for _ in range(3):
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    BARE,
                    base,
                    settings.get("token") or "",
                    json.dumps(uuids),
                    str(max(polls, 500)),
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                check=True,
            )
            out = json.loads(done.stdout)
            bare_runs.append(out["cpu_s"] / out["requests"])
    return {
        "jobs": jobs,
        "clock": clock,
        "still_running_after": running,
        "window_s": round(samples[-1][0] - samples[0][0], 1),
        "polls": polls,
        "polls_per_s": round(polls / max(samples[-1][0] - samples[0][0], 1e-9), 1),
        "engine_cpu_s": round(engine_cpu, 3),
        "engine_cpu_per_poll_s": statistics.median(per_slice) if per_slice else engine_cpu / max(polls, 1),
        "bare_cpu_per_poll_s": statistics.median(bare_runs),
        "bare_runs_s": bare_runs,
        "load": round(os.getloadavg()[0], 1),
    }


def rkit_get(url: str, settings: dict[str, Any] | None = None) -> Any:
    import httpx

    params = {"token": settings["token"]} if settings and settings.get("token") else None
    return httpx.get(url, params=params, timeout=30).json()


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds, so the sandbox serve is stopped
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--window", type=float, default=60.0, help="seconds of polling measured")
    ap.add_argument("--parallelism", type=int, default=10)
    ap.add_argument("--clock", type=float, default=20.0, help="the sandbox clock's factor (poll cadence)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="skyform-poll-") as tmp:
        figures = measure(Path(tmp), args.jobs, args.window, args.parallelism, args.clock)
    ratio = figures["engine_cpu_per_poll_s"] / figures["bare_cpu_per_poll_s"]
    print(
        f"{figures['jobs']} live NodeODM tasks, {figures['polls']} polls in {figures['window_s']} s "
        f"({figures['polls_per_s']}/s): engine CPU {figures['engine_cpu_per_poll_s'] * 1000:.2f} ms per poll, "
        f"bare httpx {figures['bare_cpu_per_poll_s'] * 1000:.2f} ms per GET: {ratio:.2f}x (goal <= 1.2x), "
        f"load average {figures['load']}"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
