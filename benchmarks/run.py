"""skyform benchmarks (issue 16): whole commands side by side with Terraform and doit, in one run.

Usage: python benchmarks/run.py [--repeat 3] [--sizes 100,1000,10000] [--plan-sizes 10000,50000]
                                [--terraform-max 1000] [--poll-jobs 2000] [--readme]

Every figure is a whole process timed from outside - interpreter start-up, imports and
plugin loading included, as a user waits for it - the median of ``--repeat`` rounds, with
the tools interleaved in each round so that a load spike on this shared machine hits both
sides. Read the ratios: absolute times on a shared 2-core machine move with the load. Peak
RSS is each process's own (``wait4``). Same DAG shape everywhere: each resource depends on
the one ten before; ``local.Files`` against Terraform's ``terraform_data``; for the engine's
own cost per node, a provider that does nothing (``noop_plugin.py``) against doit tasks with
empty actions, as the slope between two sizes; the CPU per poll of ``--poll-jobs`` live
NodeODM tasks against a bare httpx loop (``poll_campaign.py``, 0 skips it). ``--readme`` rewrites README.md's
Performance table from this run. Results also go to ``benchmarks/last-run.json``. Python's
bytecode cache is on (compiled first), as for any installed package.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import poll_campaign

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SKYFORM = str(Path(sys.executable).with_name("skyform"))
TERRAFORM = shutil.which("terraform")
CHAIN = 10


@dataclass
class Sample:
    seconds: float  # wall clock, what the user waits
    cpu: float  # user + system CPU of the process (all its threads): steadier on a loaded machine
    rss_mb: float


@dataclass
class Figure:
    """One row: skyform against another tool (or a floor), with the issue's goal."""

    name: str
    skyform: list[Sample] = field(default_factory=list)
    other: list[Sample] = field(default_factory=list)
    other_name: str = ""
    goal: str = ""
    met: bool | None = None
    note: str = ""

    def s(self) -> float:
        return statistics.median(x.seconds for x in self.skyform)

    def o(self) -> float | None:
        return statistics.median(x.seconds for x in self.other) if self.other else None

    def rss(self) -> float:
        return max(x.rss_mb for x in self.skyform)

    def s_cpu(self) -> float:
        return statistics.median(x.cpu for x in self.skyform)

    def o_cpu(self) -> float | None:
        return statistics.median(x.cpu for x in self.other) if self.other else None


def environment(**extra: str) -> dict[str, str]:
    """The environment of every timed process: no SKYFORM_/TF_ settings, and Python's bytecode
    cache usable (PYTHONDONTWRITEBYTECODE, set in some sandboxes, would recompile every module
    of every command)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SKYFORM_", "TF_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", NO_COLOR="1", **extra)
    return env


def run(
    cmd: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    ok: tuple[int, ...] = (0,),
) -> Sample:
    """Time one process from outside; its own peak RSS from wait4."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env or environment(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in ok:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} (in {cwd}) exited {proc.returncode}:\n{err.read().decode()[-3000:]}")
    return Sample(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


# -- workloads -----------------------------------------------------------------------------


def write_mission(directory: Path, n: int, kind: str = "local.Files") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    (directory / "data" / "img.jpg").write_bytes(b"\xff\xd8 tiny image \xff\xd9")
    lines = [
        "apiVersion: skyform/v1",
        "kind: Mission",
        "metadata:",
        "  name: bench",
        "resources:",
    ]
    for i in range(n):
        lines += [f"  r{i:05d}:", f"    type: {kind}"]
        lines += (
            ["    spec:", "      paths: [data/img.jpg]", "      min_count: 1"]
            if kind == "local.Files"
            else ["    spec:", f"      n: {i}"]
        )
        if i >= CHAIN:
            lines += [f"    depends_on: [r{i - CHAIN:05d}]"]
    (directory / "mission.yaml").write_text("\n".join(lines) + "\n")
    return directory


def write_terraform(directory: Path, n: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    blocks = ['terraform {\n  required_version = ">= 1.4"\n}\n']
    for i in range(n):
        dep = f"\n  depends_on = [terraform_data.r{i - CHAIN}]" if i >= CHAIN else ""
        blocks.append(f'resource "terraform_data" "r{i}" {{\n  input = "data/img.jpg"{dep}\n}}\n')
    (directory / "main.tf").write_text("\n".join(blocks))
    subprocess.run(
        [TERRAFORM or "terraform", "init", "-input=false", "-no-color"],
        cwd=directory,
        capture_output=True,
        env=environment(),
        check=True,
    )
    return directory


DODO = """
def noop():
    return True

def task_r():
    for i in range({n}):
        yield {{"name": str(i), "actions": [noop], "uptodate": [False],
               "task_dep": ["r:%d" % (i - {chain})] if i >= {chain} else []}}
"""


def write_dodo(directory: Path, n: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dodo.py").write_text(DODO.format(n=n, chain=CHAIN))
    return directory


def fresh_state(mission: Path) -> None:
    for name in ("state.db", "state.db-wal", "state.db-shm", "state.db.backup"):
        (mission / ".skyform" / name).unlink(missing_ok=True)


def fresh_tf_state(directory: Path) -> None:
    for name in ("terraform.tfstate", "terraform.tfstate.backup"):
        (directory / name).unlink(missing_ok=True)


def interleaved(
    repeat: int,
    figure: Figure,
    sky: Callable[[], Sample],
    other: Callable[[], Sample] | None,
) -> Figure:
    for i in range(repeat):
        steps = [(figure.skyform, sky)] + ([(figure.other, other)] if other else [])
        for bucket, step in steps if i % 2 == 0 else steps[::-1]:
            bucket.append(step())
    return figure


# -- the figures ---------------------------------------------------------------------------


FLOOR = "import click, ruamel.yaml.events, ruamel.yaml.clib._ruamel_yaml"


def startup(work: Path, repeat: int) -> list[Figure]:
    one = write_mission(work / "one", 1)
    help_ = interleaved(
        max(repeat, 5),
        Figure(
            "`skyform --help`",
            other_name="`python -c pass`",
            note="the interpreter's floor",
        ),
        lambda: run([SKYFORM, "--help"], work),
        lambda: run([sys.executable, "-c", "pass"], work),
    )
    run([SKYFORM, "validate", str(one)], work)  # the content-hash cache as a user's second run has it
    tf = write_terraform(work / "tf-one", 1) if TERRAFORM else None
    validate = interleaved(
        max(repeat, 5),
        Figure(
            "`skyform validate`, one resource",
            other_name="`terraform validate`",
            goal="<= 0.15 s and <= 4x terraform validate",
        ),
        lambda: run([SKYFORM, "validate", str(one)], work),
        partial(run, [TERRAFORM, "validate", "-no-color"], tf) if tf and TERRAFORM else None,
    )
    o = validate.o()
    validate.met = validate.s() <= 0.15 and (o is None or validate.s() <= 4 * o)
    # what no command of a click CLI that reads YAML can go under: the interpreter, click and
    # the YAML parser imported (a cached mission imports no parser: validate may beat it)
    floor = interleaved(
        max(repeat, 5),
        Figure(
            "`skyform validate`, one resource, against the start-up floor",
            other_name=f"`python -c '{FLOOR}'`",
            note="CPython, click and the YAML parser imported",
        ),
        lambda: run([SKYFORM, "validate", str(one)], work),
        lambda: run([sys.executable, "-c", FLOOR], work),
    )
    return [help_, validate, floor]


def side_by_side(work: Path, n: int, repeat: int, tf_max: int) -> list[Figure]:
    mission = write_mission(work / f"local{n}", n)
    tf = write_terraform(work / f"tf{n}", n) if TERRAFORM and n <= tf_max else None
    goals = {
        100: ("apply >= 2x faster", 2.0, "re-plan never slower (>= 1.0x)", 1.0),
        1000: ("apply >= 50x faster", 50.0, "re-plan >= 6x faster", 6.0),
    }
    apply_goal, apply_ratio, plan_goal, plan_ratio = goals.get(n, ("", 0.0, "", 0.0))

    def sky_apply() -> Sample:
        fresh_state(mission)
        return run([SKYFORM, "apply", "--auto-approve", str(mission)], work)

    def tf_apply() -> Sample:
        assert tf is not None and TERRAFORM
        fresh_tf_state(tf)
        return run(
            [
                TERRAFORM,
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-parallelism=10",
            ],
            tf,
        )

    apply = interleaved(
        repeat,
        Figure(f"apply, {n:,} resources", other_name="terraform apply", goal=apply_goal),
        sky_apply,
        tf_apply if tf else None,
    )
    plan = interleaved(
        repeat,
        Figure(f"re-plan with refresh, {n:,}", other_name="terraform plan", goal=plan_goal),
        lambda: run([SKYFORM, "plan", str(mission)], work),
        partial(run, [TERRAFORM, "plan", "-input=false", "-no-color", "-parallelism=10"], tf)
        if tf and TERRAFORM
        else None,
    )
    for figure, ratio in ((apply, apply_ratio), (plan, plan_ratio)):
        o = figure.o()
        if o is not None and ratio:
            figure.met = o / figure.s() >= ratio
    return [apply, plan]


BARE_PARSE = "import sys; from ruamel.yaml import YAML; YAML(typ='safe').load(open(sys.argv[1]))"


def large(work: Path, sizes: list[int], repeat: int) -> tuple[list[Figure], dict[int, float]]:
    """Cold plan and re-plan with refresh against the bare parse of the same file, whole processes."""
    figures: list[Figure] = []
    per_resource: dict[int, float] = {}
    for n in sizes:
        mission = write_mission(work / f"large{n}", n)
        rounds = repeat if n <= 10_000 else 1
        bare = partial(run, [sys.executable, "-c", BARE_PARSE, str(mission / "mission.yaml")], work)

        cold = interleaved(
            rounds,
            Figure(
                f"cold plan, {n:,} resources",
                other_name="bare ruamel safe parse",
                goal="<= 1.2x the bare parse",
            ),
            partial(
                run,
                [SKYFORM, "plan", str(mission)],
                work,
                environment(SKYFORM_NO_CACHE="1"),
            ),
            bare,
        )
        cold.met = cold.s() <= 1.2 * (cold.o() or 0)
        fresh_state(mission)
        run([SKYFORM, "apply", "--auto-approve", str(mission)], work)
        replan = interleaved(
            rounds,
            Figure(
                f"re-plan with refresh, {n:,}",
                other_name="bare ruamel safe parse",
                goal="<= 1.5x the bare parse",
            ),
            partial(run, [SKYFORM, "plan", str(mission)], work),
            bare,
        )
        replan.met = replan.s() <= 1.5 * (replan.o() or 0)
        per_resource[n] = replan.s() / n
        figures += [cold, replan]
    return figures, per_resource


def marginal(work: Path, small: int, big: int, repeat: int) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per extra no-op node between ``small`` and ``big`` (wall, CPU): skyform, doit, doit threaded."""
    env = environment(SKYFORM_PLUGIN_MODULES="noop_plugin", PYTHONPATH=str(HERE))
    doit = [sys.executable, "-m", "doit"]
    totals: dict[str, dict[int, list[Sample]]] = {
        "skyform": {},
        "doit": {},
        "doit -n 2 -P thread": {},
    }
    for n in (small, big):
        mission = write_mission(work / f"noop{n}", n, kind="bench.Noop")
        dodo = write_dodo(work / f"dodo{n}", n)

        def sky(mission: Path = mission) -> Sample:
            fresh_state(mission)
            return run([SKYFORM, "apply", "--auto-approve", str(mission)], work, env)

        runs: dict[str, Callable[[], Sample]] = {
            "skyform": sky,
            "doit": partial(run, [*doit, "run", "-f", str(dodo / "dodo.py")], dodo),
            "doit -n 2 -P thread": partial(
                run,
                [*doit, "run", "-n", "2", "-P", "thread", "-f", str(dodo / "dodo.py")],
                dodo,
            ),
        }
        for i in range(repeat):
            order = list(runs) if i % 2 == 0 else list(runs)[::-1]
            for name in order:
                totals[name].setdefault(n, []).append(runs[name]())

    def slope(samples: dict[int, list[Sample]], measure: Callable[[Sample], float]) -> float:
        return (statistics.median(map(measure, samples[big])) - statistics.median(map(measure, samples[small]))) / (
            big - small
        )

    return (
        {name: slope(t, lambda x: x.seconds) for name, t in totals.items()},
        {name: slope(t, lambda x: x.cpu) for name, t in totals.items()},
    )


# -- report --------------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    tf = (
        subprocess.run([TERRAFORM, "version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
        if TERRAFORM
        else "Terraform: not on PATH"
    )
    import doit  # type: ignore[import-untyped]

    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {tf}, "
        f"doit {'.'.join(map(str, doit.__version__))}, load average {os.getloadavg()[0]:.1f} at the end"
    )


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def rows(figures: list[Figure]) -> list[str]:
    out = []
    for f in figures:
        o, oc = f.o(), f.o_cpu()
        ratio = f"**{o / f.s():.2f}x**" if o else "-"
        cpu_ratio = f"{oc / f.s_cpu():.2f}x" if oc and f.s_cpu() else "-"
        met = {True: "met", False: "**not met**", None: ""}[f.met]
        out.append(
            f"| {f.name} | {fmt(f.s())}, CPU {fmt(f.s_cpu())} ({f.rss():.0f} MB) | {f.other_name}: {fmt(o)}, "
            f"CPU {fmt(oc)} | {ratio} (CPU {cpu_ratio}) | {f.goal} {met} |".replace("  |", " |")
        )
    return out


def poll_row(polling: dict[str, Any] | None, jobs: int) -> str:
    """The live-jobs row: engine CPU per poll against a bare httpx GET of the same URLs."""
    if polling is None:
        return (
            "| live remote jobs, CPU per poll | not measured in this run (--poll-jobs 0; "
            "benchmarks/poll_campaign.py) | bare httpx | - | <= 1.2x bare httpx: **not measured** |"
        )
    engine, bare = polling["engine_cpu_per_poll_s"], polling["bare_cpu_per_poll_s"]
    met = "met" if engine <= 1.2 * bare else "**not met**"
    return (
        f"| {jobs:,} live NodeODM tasks, CPU per poll | {engine * 1000:.2f} ms ({polling['polls']:,} polls in "
        f"{polling['window_s']:.0f} s, load {polling['load']}) | bare httpx GET of the same URLs: "
        f"{bare * 1000:.2f} ms | **{bare / engine:.2f}x** (engine {engine / bare:.2f}x bare) | "
        f"<= 1.2x bare httpx {met} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--plan-sizes", default="10000,50000")
    parser.add_argument(
        "--terraform-max",
        type=int,
        default=1000,
        help="largest size run with Terraform too",
    )
    parser.add_argument("--marginal", default="1000,10000", help="two sizes for the per-node slope")
    parser.add_argument("--poll-jobs", type=int, default=2000, help="live jobs of the poll figure (0: skip it)")
    parser.add_argument("--poll-window", type=float, default=60.0, help="seconds of polling measured")
    parser.add_argument("--poll-clock", type=float, default=20.0, help="sandbox clock of the poll figure")
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's Performance table")
    args = parser.parse_args()
    if not TERRAFORM:
        print("terraform is not on PATH: its columns stay empty", file=sys.stderr)
    # the bytecode cache as an installed skyform has it (pip compiles at install time)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            str(ROOT / "engine"),
            str(ROOT / "plugins"),
            str(HERE),
        ],
        env=environment(),
        capture_output=True,
        check=False,
    )
    work = Path(tempfile.mkdtemp(prefix="skyform-bench-"))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        figures = startup(work, args.repeat)
        for n in [int(s) for s in args.sizes.split(",") if s]:
            figures += side_by_side(work, n, args.repeat, args.terraform_max)
        big, per_resource = large(work, [int(s) for s in args.plan_sizes.split(",") if s], args.repeat)
        figures += big
        small_n, big_n = (int(s) for s in args.marginal.split(","))
        slopes, cpu_slopes = marginal(work, small_n, big_n, args.repeat)
        polling = (
            poll_campaign.measure(work / "poll", args.poll_jobs, args.poll_window, 10, args.poll_clock)
            if args.poll_jobs
            else None
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "| figure | skyform: wall, CPU (peak RSS) | other: wall, CPU | ratio other / skyform: wall (CPU) | goal |",
        "|---|---|---|---|---|",
        *rows(figures),
    ]
    sizes = sorted(per_resource)
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        growth = per_resource[b] / per_resource[a]
        lines.append(
            f"| re-plan cost per resource, {a:,} -> {b:,} | {per_resource[a] * 1000:.3f} -> "
            f"{per_resource[b] * 1000:.3f} ms | - | **{growth:.2f}x** | <= 1.1x "
            f"{'met' if growth <= 1.1 else '**not met**'} |"
        )
    threaded = slopes["doit -n 2 -P thread"]
    ms = {k: f"{v * 1000:.3f} ms" for k, v in slopes.items()}
    cpu = {k: f"{v * 1000:.3f} ms" for k, v in cpu_slopes.items()}
    lines.append(
        f"| engine cost per no-op node (slope {small_n:,} -> {big_n:,}) | {ms['skyform']}, CPU {cpu['skyform']} | "
        f"doit {ms['doit']} (CPU {cpu['doit']}); doit -n 2 -P thread {ms['doit -n 2 -P thread']} "
        f"(CPU {cpu['doit -n 2 -P thread']}) | **{threaded / slopes['skyform']:.2f}x** vs threaded | "
        f"<= doit threaded {'met' if slopes['skyform'] <= threaded else '**not met**'} |"
    )
    lines.append(poll_row(polling, args.poll_jobs))
    where = f"Measured {started} by `python benchmarks/run.py` (medians of {args.repeat}): {machine()}."
    missed = [f.name for f in figures if f.met is False]
    if polling is None or polling["engine_cpu_per_poll_s"] > 1.2 * polling["bare_cpu_per_poll_s"]:
        missed.append("CPU per poll of live jobs" + (" (not measured)" if polling is None else ""))
    if len(sizes) >= 2 and per_resource[sizes[-1]] / per_resource[sizes[0]] > 1.1:
        missed.append("re-plan cost per resource")
    if slopes["skyform"] > threaded:
        missed.append("engine cost per no-op node")
    lines += [
        "",
        "Goals not met in this run: " + ("; ".join(missed) if missed else "none") + ".",
    ]
    print(where)
    print("\n".join(lines))
    report = {
        "when": started,
        "machine": where,
        "figures": [
            {
                "name": f.name,
                "skyform_s": f.s(),
                "other": f.other_name,
                "other_s": f.o(),
                "peak_rss_mb": f.rss(),
                "goal": f.goal,
                "met": f.met,
            }
            for f in figures
        ],
        "per_resource_replan_s": per_resource,
        "per_node_slope_s": slopes,
        "per_node_slope_cpu_s": cpu_slopes,
        "polling": polling,
    }
    (HERE / "last-run.json").write_text(json.dumps(report, indent=2) + "\n")
    if args.readme:
        readme = ROOT / "README.md"
        text = readme.read_text()
        block = f"<!-- benchmarks:start -->\n{where}\n\n" + "\n".join(lines) + "\n<!-- benchmarks:end -->"
        text, count = re.subn(
            r"<!-- benchmarks:start -->.*?<!-- benchmarks:end -->",
            lambda _: block,
            text,
            flags=re.DOTALL,
        )
        if count != 1:
            raise SystemExit("README.md has no <!-- benchmarks:start --> ... <!-- benchmarks:end --> block")
        readme.write_text(text)


if __name__ == "__main__":
    main()
