"""CPU per poll of many live remote jobs: the engine's poll loop against a bare httpx loop (issue 16).

    python benchmarks/poll_campaign.py [--jobs 2000] [--window 60] [--parallelism 10] [--clock 20]
                                       [--profile FILE]

The server: ``skyform sandbox serve --clock F`` runs the NodeODM simulator in its own process
(real HTTP on 127.0.0.1; its CPU is not counted). It keeps connections alive, as NodeODM
2.2.4 does (``Connection: keep-alive``, ``Keep-Alive: timeout=5``), and both sides below
talk to this one server, in the same run.

The jobs: ``skyform apply --detach`` submits ``--jobs`` ``nodeodm.Task`` resources (nothing
is polled while they upload). Every task is made ``job_stuck`` by a sandbox fault rule, so
none finishes: no task is downloaded and no result recorded while the window is measured -
every poll is one ``GET /task/{uuid}/info`` that sees a long job still running, the common
case of thousands of long jobs.

The engine side: a second ``skyform apply`` resumes them all and polls them at the
provider's own cadence - 10 s backing off to 60 s of service time - on the sandbox's clock,
as ``apply --sandbox`` does: at ``--clock 20`` every 0.5 s backing off to 3 s, more than
the loop serves for 2,000 jobs, so the engine polls flat out. The resuming apply runs
against the separate serve, so the sandbox clock is given to it by a two-line driver that
sets :meth:`skyform.api.Session._time_scale`; the rest is the ``skyform`` console script.
Once every task was polled, that process's CPU time (``/proc``, every thread) and the
simulator's request counter are sampled over ``--window`` seconds: CPU per poll is their
ratio. A poll there is the whole engine step: timer, executor hand-off, the provider's GET
and its reading of the answer, the decision that nothing moved (no state row written).

The bare side: a fresh Python process with one ``httpx.Client`` GETs the same URLs (same
token, JSON decoded) as many times, flat out, right after; its CPU per request is measured
around the loop. NodeODM's API has no list endpoint that carries task status (``/task/list``
answers uuids only), so one request per task and poll is what any client pays.

Figures are medians (over six slices of the window; over three bare runs); the load average
is printed. ``--profile FILE`` records the engine's window with py-spy (``pip install
py-spy``): samples of threads holding the GIL (the engine's Python CPU; a thread waiting on
a socket or a queue is not sampled), taken without pausing the process, so the figures stay
valid.
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
print(json.dumps({"requests": done, "user_s": end.user - start.user, "sys_s": end.system - start.system}))
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


def cpu_of(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def measure(
    work: Path,
    jobs: int,
    window: float,
    parallelism: int,
    clock: float,
    timeout: float = 3600,
    profile: Path | None = None,
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
        # no task ever finishes: nothing is downloaded or recorded inside the measured window
        serve.set_faults([{"provider": "nodeodm", "match": "^Task poll-", "fault": "job_stuck"}])
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
        # the bare loop runs once before the engine's window and twice after: load drifts
        bare_requests = max(2 * jobs, 1000)
        bare_runs = [bare(base, settings, uuids, bare_requests, env, timeout)]
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
            spy = None
            if profile is not None:
                spy = subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("py-spy")),
                        "record",
                        "--nonblocking",
                        "--gil",
                        "--pid",
                        str(proc.pid),
                        "--duration",
                        str(int(window)),
                        "--format",
                        "raw",
                        "--output",
                        str(profile),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            samples = [(time.time(), cpu_of(proc.pid), requests())]
            slice_s = window / 6
            while samples[-1][0] - samples[0][0] < window:
                time.sleep(slice_s)
                samples.append((time.time(), cpu_of(proc.pid), requests()))
            if spy is not None:
                spy.wait(timeout=60)
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
        engine_user = samples[-1][1][0] - samples[0][1][0]
        engine_sys = samples[-1][1][1] - samples[0][1][1]
        per_slice = [(sum(b[1]) - sum(a[1])) / (b[2] - a[2]) for a, b in itertools.pairwise(samples) if b[2] - a[2] > 0]
        bare_runs.extend(bare(base, settings, uuids, bare_requests, env, timeout) for _ in range(2))
    return {
        "jobs": jobs,
        "clock": clock,
        "still_running_after": running,
        "window_s": round(samples[-1][0] - samples[0][0], 1),
        "polls": polls,
        "polls_per_s": round(polls / max(samples[-1][0] - samples[0][0], 1e-9), 1),
        "engine_cpu_s": round(engine_user + engine_sys, 3),
        "engine_cpu_per_poll_s": statistics.median(per_slice)
        if per_slice
        else (engine_user + engine_sys) / max(polls, 1),
        "engine_user_sys_per_poll_s": [engine_user / max(polls, 1), engine_sys / max(polls, 1)],
        "bare_cpu_per_poll_s": statistics.median(sum(r) for r in bare_runs),
        "bare_user_sys_per_poll_s": [
            statistics.median(r[0] for r in bare_runs),
            statistics.median(r[1] for r in bare_runs),
        ],
        "load": round(os.getloadavg()[0], 1),
    }


def bare(
    base: str, settings: dict[str, Any], uuids: list[str], requests: int, env: dict[str, str], timeout: float
) -> tuple[float, float]:
    """User and system CPU seconds per GET of the bare httpx loop (a fresh process)."""
    done = subprocess.run(
        [sys.executable, "-c", BARE, base, settings.get("token") or "", json.dumps(uuids), str(requests)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=True,
    )
    out = json.loads(done.stdout)
    return out["user_s"] / out["requests"], out["sys_s"] / out["requests"]


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
    ap.add_argument("--profile", type=Path, help="write a py-spy profile (raw, collapsed stacks) of the window")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="skyform-poll-") as tmp:
        figures = measure(Path(tmp), args.jobs, args.window, args.parallelism, args.clock, profile=args.profile)
    ratio = figures["engine_cpu_per_poll_s"] / figures["bare_cpu_per_poll_s"]
    print(
        f"{figures['jobs']} live NodeODM tasks, {figures['polls']} polls in {figures['window_s']} s "
        f"({figures['polls_per_s']}/s): engine CPU {figures['engine_cpu_per_poll_s'] * 1000:.2f} ms per poll, "
        f"bare httpx {figures['bare_cpu_per_poll_s'] * 1000:.2f} ms per GET: {ratio:.2f}x (goal <= 1.2x); "
        f"user/sys engine {'/'.join(f'{v * 1000:.2f}' for v in figures['engine_user_sys_per_poll_s'])} ms, "
        f"bare {'/'.join(f'{v * 1000:.2f}' for v in figures['bare_user_sys_per_poll_s'])} ms; "
        f"load average {figures['load']}"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
