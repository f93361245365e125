"""Scaling of ``gitops apply`` (issue 17): 16 I/O-bound missions, side by side and on workers.

    python benchmarks/gitops_scaling.py [--missions 16] [--jobs 1,2,4] [--workers 1,2,4]
                                        [--ops 30] [--readme]

Each mission photographs a site and reconstructs it: ``local.Files`` (4 photos) and a
``nodeodm.Task`` against a simulated NodeODM node (real HTTP on 127.0.0.1, started by
this script, 16 tasks processed in parallel so the node is not the bottleneck). The
simulator adds latency by rule (``sandbox/faults.py``): every photo upload waits
``--upload-latency`` seconds and the products' download ``--download-latency``; the
photogrammetry itself takes a few seconds on the simulator's clock, which the engine
waits for with timers (its first look at a new task is after 2 s). So a mission is
waiting, not computing: the case where missions side by side should scale.

Rounds, each a fresh repository of ``--missions`` missions (fresh names, so every round
creates everything) applied by one ``skyform gitops apply`` process, timed from outside:

- ``--jobs`` 1, 2, 4: threads of one process (``gitops apply --jobs N``);
- ``--workers`` 1, 2, 4: ``gitops apply --executor celery --jobs MISSIONS`` against that many
  ``skyform worker`` processes (``--concurrency 1`` each) on RabbitMQ, state in PostgreSQL.

Speed-up is the makespan of ``--jobs 1`` (or of 1 worker) over the makespan of the round:
ratios from one run, the goal being 3.2x at 4. The per-operation dispatch overhead of
Celery: ``skyform apply`` of one mission of ``--ops`` independent ``local.Files`` (one
tiny file each) with the local executor and with ``--executor celery`` on 1 worker,
(celery - local) / ops. Everything this script starts is stopped at its end (workers,
simulator), also on Ctrl-C. ``--readme`` rewrites README.md's "Scaling" table from this
run; the figures also go to ``benchmarks/last-scaling.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SKYFORM = str(Path(sys.executable).with_name("skyform"))
PHOTOS = ROOT / "specs" / "nodeodm-basic" / "data" / "a12"
POSTGRES = os.environ.get("SKYFORM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BROKER = os.environ.get("SKYFORM_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
TOKEN = "scaling-token"

MISSION = """\
apiVersion: skyform/v1
kind: Mission
metadata: {{name: {name}}}
providers:
  nodeodm:
    url: "{url}"
    token: "${{{{ secrets.NODEODM_TOKEN }}}}"
    parallel_uploads: 1
resources:
  photos:
    type: local.Files
    spec: {{glob: "data/*.JPG"}}
  reconstruct:
    type: nodeodm.Task
    spec:
      name: {name}
      images: "${{{{ resources.photos.outputs.paths }}}}"
      options: {{pc-quality: lowest, fast-orthophoto: true}}
    lifecycle: {{timeout: 1h}}
"""

OPS_MISSION_HEAD = "apiVersion: skyform/v1\nkind: Mission\nmetadata: {{name: {name}}}\nresources:\n"
OPS_RESOURCE = '  f{i}: {{type: local.Files, spec: {{glob: "data/f{i}.txt"}}}}\n'


def git(repo: Path, *args: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.org")
    env.update(GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.org")
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def make_repository(where: Path, prefix: str, missions: int, url: str) -> Path:
    repo = where / f"repo-{prefix}"
    for i in range(missions):
        site = repo / "sites" / f"site-{i:02d}"
        (site / "data").mkdir(parents=True)
        (site / "mission.yaml").write_text(MISSION.format(name=f"{prefix}-site-{i:02d}", url=url))
        for photo in PHOTOS.glob("*.JPG"):
            shutil.copy(photo, site / "data" / photo.name)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "sites")
    return repo


class Node:
    """A simulated NodeODM node in this process, with latency rules on uploads and downloads."""

    def __init__(self, upload_latency: float, download_latency: float, clock: float) -> None:
        sys.path.insert(0, str(ROOT / "plugins"))
        from skyform.sandbox.clock import SimClock
        from skyform.sandbox.faults import Faults
        from skyform.sandbox.host import SimulatorHost
        from skyform.sandbox.simulator import SimulatorOptions
        from skyform_nodeodm.simulator.server import NodeODMSimulator

        rules = [
            {"fault": "latency", "delay": upload_latency, "match": "POST /task/new/upload/"},
            {"fault": "latency", "delay": download_latency, "match": "GET /task/.*/download/"},
        ]
        self.sim = NodeODMSimulator(
            SimulatorOptions(clock=SimClock(clock), faults=Faults.load(rules)), token=TOKEN, max_parallel_tasks=64
        )
        self.host = SimulatorHost()
        self.url = self.host.start(self.sim).base_url

    def stop(self) -> None:
        self.host.stop()


class Workers:
    """``skyform worker`` processes on one queue; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, count: int, queue: str, env: dict[str, str], logs: Path) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = logs
        for i in range(count):
            log = (logs / f"worker-{queue}-{i}.log").open("wb")
            self.procs.append(
                subprocess.Popen(
                    [
                        SKYFORM,
                        "worker",
                        "--broker",
                        BROKER,
                        "--queues",
                        queue,
                        "--concurrency",
                        "1",
                        "--name",
                        f"scaling-{i}-{queue}@localhost",
                        "--state",
                        POSTGRES,
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 90
        for i in range(count):
            path = logs / f"worker-{queue}-{i}.log"
            while b" ready" not in path.read_bytes():
                if self.procs[i].poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"worker {i} did not start:\n{path.read_text()[-2000:]}")
                time.sleep(0.2)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs.clear()


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run(cmd, check=False, capture_output=True, env=env, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        summary = {}
    if done.returncode != 0:
        raise SystemExit(
            f"`{' '.join(cmd[:4])} ...` exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return seconds, summary


def gitops_round(repo: Path, work: Path, extra: list[str], env: dict[str, str]) -> float:
    seconds, summary = timed(
        [SKYFORM, "gitops", "apply", str(repo), "--state", POSTGRES, "--workdir", str(work), "--json", *extra], env
    )
    results = {m["result"] for m in summary.get("missions", [])}
    if results != {"applied"}:
        raise SystemExit(f"a round did not apply every mission: {summary.get('summary')}")
    return seconds


def dispatch_overhead(where: Path, ops: int, queue: str, env: dict[str, str]) -> dict[str, float]:
    """``skyform apply`` of ``ops`` independent cheap operations, local executor vs celery."""
    figures: dict[str, float] = {}
    for executor in ("local", "celery"):
        mission = where / f"ops-{executor}"
        (mission / "data").mkdir(parents=True)
        name = f"ops-{executor}-{uuid.uuid4().hex[:8]}"
        head = OPS_MISSION_HEAD.format(name=name)
        if executor == "celery":  # local.Files operations to this run's worker queue
            head = head.replace("resources:\n", f"settings: {{queues: {{local: {queue}}}}}\nresources:\n")
        body = head + "".join(OPS_RESOURCE.format(i=i) for i in range(ops))
        (mission / "mission.yaml").write_text(body)
        for i in range(ops):
            (mission / "data" / f"f{i}.txt").write_text(f"{i}\n")
        extra = ["--executor", "celery", "--broker", BROKER] if executor == "celery" else []
        seconds, _ = timed([SKYFORM, "apply", str(mission), "--auto-approve", "--state", POSTGRES, *extra], env)
        figures[executor] = seconds
    figures["per_operation_ms"] = (figures["celery"] - figures["local"]) / ops * 1000
    return figures


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the finally blocks stop what we started
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--missions", type=int, default=16)
    ap.add_argument("--jobs", default="1,2,4")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--ops", type=int, default=30)
    ap.add_argument("--upload-latency", type=float, default=2.0)
    ap.add_argument("--download-latency", type=float, default=1.0)
    ap.add_argument("--clock", type=float, default=120.0, help="the simulated node's clock factor")
    ap.add_argument("--readme", action="store_true")
    ap.add_argument(
        "--readme-from", type=Path, metavar="JSON", help="only rewrite README.md from a saved run (last-scaling.json)"
    )
    args = ap.parse_args()
    jobs = [int(j) for j in args.jobs.split(",") if j]
    workers = [int(w) for w in args.workers.split(",") if w]
    if args.readme_from:
        saved = json.loads(args.readme_from.read_text())
        for key in ("jobs", "workers"):
            saved[key] = {int(n): t for n, t in saved[key].items()}
        write_readme(saved)
        return 0
    run_id = uuid.uuid4().hex[:6]
    node = Node(args.upload_latency, args.download_latency, args.clock)
    figures: dict[str, Any] = {"missions": args.missions, "ops": args.ops, "jobs": {}, "workers": {}}
    figures["latency"] = {"upload_s": args.upload_latency, "download_s": args.download_latency}
    try:
        with tempfile.TemporaryDirectory(prefix="skyform-scaling-") as tmp:
            where = Path(tmp)
            env = dict(os.environ, SKYFORM_SECRET_NODEODM_TOKEN=TOKEN, XDG_STATE_HOME=str(where / "xdg"))
            for n in jobs:
                repo = make_repository(where, f"s{run_id}-j{n}", args.missions, node.url)
                figures["jobs"][n] = gitops_round(repo, where / f"work-j{n}", ["--jobs", str(n)], env)
                print(f"--jobs {n}: {figures['jobs'][n]:.1f} s", flush=True)
            for n in workers:
                queue = f"scaling-{run_id}-w{n}"
                pool = Workers(n, queue, env, where)
                try:
                    repo = make_repository(where, f"s{run_id}-w{n}", args.missions, node.url)
                    celery = [
                        "--executor",
                        "celery",
                        "--broker",
                        BROKER,
                        "--queue",
                        queue,
                        "--jobs",
                        str(args.missions),
                    ]
                    figures["workers"][n] = gitops_round(repo, where / f"work-w{n}", celery, env)
                    print(f"{n} worker(s): {figures['workers'][n]:.1f} s", flush=True)
                    if n == 1 and args.ops:
                        figures["dispatch"] = dispatch_overhead(where, args.ops, queue, env)
                        print(f"dispatch: {figures['dispatch']}", flush=True)
                finally:
                    pool.stop()
    finally:
        node.stop()
    figures["measured"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    figures["load_average"] = round(os.getloadavg()[0], 1)
    print("\n".join(table(figures)))
    (HERE / "last-scaling.json").write_text(json.dumps(figures, indent=2) + "\n")
    if args.readme:
        write_readme(figures)
    return 0


def speedups(times: dict[int, float]) -> dict[int, float]:
    if not times:
        return {}
    base = times.get(1) or next(iter(times.values()))
    return {n: base / t for n, t in times.items()}


def table(figures: dict[str, Any]) -> list[str]:
    rows = ["| run | makespan | speed-up |", "|---|---|---|"]
    for n, s in speedups(figures["jobs"]).items():
        rows.append(f"| `gitops apply --jobs {n}` | {figures['jobs'][n]:.1f} s | {s:.2f}x |")
    for n, s in speedups(figures["workers"]).items():
        rows.append(f"| `--executor celery`, {n} worker(s) | {figures['workers'][n]:.1f} s | {s:.2f}x |")
    d = figures.get("dispatch")
    if d:
        rows.append(
            f"| Celery dispatch overhead per operation | {d['per_operation_ms']:.0f} ms | "
            f"apply of {figures.get('ops', 30)} operations: local {d['local']:.1f} s, celery {d['celery']:.1f} s |"
        )
    return rows


GOAL = 3.2  # speed-up at 4 (jobs or workers) for I/O-bound missions, issue 17


def goals(figures: dict[str, Any]) -> str:
    parts = []
    for key, what in (("jobs", "`--jobs 4`"), ("workers", "4 workers")):
        s = speedups(figures[key]).get(4)
        if s is not None:
            parts.append(f"{what} {s:.2f}x {'met' if s >= GOAL else '**not met**'}")
    return f"Goal: >= {GOAL}x at 4 for I/O-bound missions: " + ("; ".join(parts) or "not measured") + "."


def write_readme(figures: dict[str, Any]) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    lat = figures.get("latency", {})
    block = "\n".join(
        [
            "<!-- scaling:start (written by benchmarks/gitops_scaling.py --readme) -->",
            f"Measured {figures.get('measured', '?')} by `python benchmarks/gitops_scaling.py`, one run, load average "
            f"{figures.get('load_average', '?')} on 2 cores: {figures['missions']} missions, each 4 photo uploads of "
            f"{lat.get('upload_s', '?')} s, a photogrammetry wait and a {lat.get('download_s', '?')} s download.",
            "",
            *table(figures),
            "",
            goals(figures),
            "<!-- scaling:end -->",
        ]
    )
    pattern = re.compile(r"<!-- scaling:start.*?<!-- scaling:end -->", re.S)
    if not pattern.search(text):
        raise SystemExit("README.md has no scaling block (<!-- scaling:start --> ... <!-- scaling:end -->)")
    readme.write_text(pattern.sub(lambda _m: block, text))


if __name__ == "__main__":
    sys.exit(main())
