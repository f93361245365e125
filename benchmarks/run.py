"""skyform benchmarks: the performance targets of issue 2, measured as ratios in one run.

Usage: python benchmarks/run.py [--sizes 1000,10000] [--skip-terraform]

Targets (2-core machine; DESIGN.md, Performance):
- validate + plan of 10,000 resources under 2 s from the content-hash cache (warm);
  cold within 1.3x the bare ruamel-safe parse of the same file, measured in this run;
- apply of 1,000 local.Files (each depending on the one ten before) under 1 s, engine
  overhead per node <= 0.25 ms;
- `skyform --help` <= 0.15 s; peak memory under 300 MB at 10,000;
- side by side with Terraform's terraform_data, same shape (skipped when terraform is
  not on PATH).
Each measurement runs in its own process so peak memory and caches are its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV = {**os.environ, "SKYFORM_DISABLE_PLUGIN_AUTOLOAD": "1", "SKYFORM_PLUGINS": "local,state"}


def write_mission(directory: Path, n: int, chain: int = 10) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    (directory / "data" / "img.jpg").write_bytes(b"\xff\xd8 tiny image \xff\xd9")
    lines = ["apiVersion: skyform/v1", "kind: Mission", "metadata:", "  name: bench", "  labels: {purpose: benchmark}",
             "variables:", "  site: {lat: 55.6761, lon: 12.5683}", "resources:"]
    for i in range(n):
        lines += [f"  files_{i:05d}:", "    type: local.Files",
                  "    description: a set of photos of one inspection point, fingerprinted for later steps",
                  "    spec:", "      paths: [data/img.jpg]", "      min_count: 1"]
        if i >= chain:
            lines += [f"    depends_on: [files_{i - chain:05d}]"]
        lines += ["    lifecycle: {retries: 2, on_failure: stop, timeout: 10m}"]
    path = directory / "mission.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line with its figures."""
    report = "{**RESULT, 'maxrss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}"
    wrapper = code + f"\nimport resource, json as _j\nprint(_j.dumps({report}))\n"
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, env=ENV, check=False)
    if out.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


BARE_PARSE = """
import gc, time
from ruamel.yaml import YAML
text = open({path!r}).read()
gc.disable(); t = time.perf_counter(); YAML(typ='safe').load(text); dt = time.perf_counter() - t; gc.enable()
RESULT = {{'seconds': dt}}
"""

VALIDATE_PLAN = """
import time
t0 = time.perf_counter()
from skyform.api import Options, Session
with Session({path!r}, Options(refresh=False)) as s:
    t1 = time.perf_counter()
    plan = s.plan()
t2 = time.perf_counter()
RESULT = {{'load_validate': t1 - t0, 'plan': t2 - t1, 'total': t2 - t0, 'actions': len(plan.actions)}}
"""

APPLY = """
import time
from skyform.api import Options, Session
from skyform.providers.host import load_registry
registry = load_registry()
kind = registry.providers['local'].kind('Files')
spent = [0.0]
original = type(kind).create
def timed(self, spec, ctx):
    t = time.perf_counter()
    try:
        return original(self, spec, ctx)
    finally:
        spent[0] += time.perf_counter() - t
type(kind).create = timed
with Session({path!r}, Options(refresh=False), registry=registry) as s:
    plan = s.plan()
    t = time.perf_counter()
    outcome = s.apply(plan)
    dt = time.perf_counter() - t
n = len(plan.actions)
RESULT = {{'apply': dt, 'nodes': n, 'provider_seconds': spent[0], 'overhead_ms_per_node': (dt - spent[0]) / n * 1000,
          'ok': outcome.ok}}
"""


NULL_APPLY = """
import time
from skyform.api import Options, Session
from skyform.providers.host import load_registry
from skyform.providers import Result
registry = load_registry()
kind = registry.providers['local'].kind('Files')
# no provider work at all: what is left is the engine (scheduling, state, output)
type(kind).create = lambda self, spec, ctx: Result(remote_id='x', outputs={{'paths': [], 'count': 0, 'bytes': 0,
                                                   'files': [], 'manifest_sha256': ''}})
with Session({path!r}, Options(refresh=False), registry=registry) as s:
    plan = s.plan()
    t = time.perf_counter()
    outcome = s.apply(plan)
    dt = time.perf_counter() - t
RESULT = {{'apply': dt, 'ms_per_node': dt / len(plan.actions) * 1000, 'ok': outcome.ok}}
"""


def help_time() -> float:
    exe = Path(sys.executable).with_name("skyform")
    runs = []
    for _ in range(7):
        t = time.perf_counter()
        subprocess.run([str(exe), "--help"], capture_output=True, env=ENV, check=True)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def python_startup() -> float:
    runs = []
    for _ in range(7):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


TF = """
terraform {{ required_version = ">= 1.4" }}
resource "terraform_data" "r" {{
  count = {n}
  input = "data/img.jpg"
}}
"""


def terraform(n: int, work: Path) -> float | None:
    exe = shutil.which("terraform")
    if exe is None:
        print("  terraform is not on PATH: skipping the side-by-side run")
        return None
    d = work / "tf"
    d.mkdir()
    # the same shape: each resource depends on the one ten before
    blocks = ['terraform {\n  required_version = ">= 1.4"\n}\n']
    for i in range(n):
        dep = f"\n  depends_on = [terraform_data.r{i - 10}]" if i >= 10 else ""
        blocks.append(f'resource "terraform_data" "r{i}" {{\n  input = "data/img.jpg"{dep}\n}}\n')
    (d / "main.tf").write_text("\n".join(blocks))
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    subprocess.run([exe, "init", "-input=false", "-no-color"], cwd=d, capture_output=True, env=env, check=True)
    t = time.perf_counter()
    subprocess.run([exe, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"], cwd=d,
                   capture_output=True, env=env, check=True)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--skip-terraform", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="skyform-bench-"))
    report: dict = {}
    try:
        for n in sizes:
            mission = work / f"m{n}"
            path = write_mission(mission, n)
            bare = child(BARE_PARSE.format(path=str(path)))["seconds"]
            cold = child(VALIDATE_PLAN.format(path=str(mission)))
            warm = child(VALIDATE_PLAN.format(path=str(mission)))
            report[n] = {"bare_parse_s": bare, "cold": cold, "warm": warm,
                         "cold_load_over_bare": cold["load_validate"] / bare}
            print(f"{n:>6} resources: bare ruamel-safe parse {bare:.2f} s | cold load+validate "
                  f"{cold['load_validate']:.2f} s ({cold['load_validate'] / bare:.2f}x bare; target <= 1.3x) + plan "
                  f"{cold['plan']:.2f} s | warm validate+plan {warm['total']:.2f} s (target < 2 s at 10,000) | "
                  f"peak {cold['maxrss_mb']:.0f} MB (target < 300 MB)")
        n = 1000
        mission = work / "apply1000"
        write_mission(mission, n)
        applied = child(APPLY.format(path=str(mission)))
        report["apply_1000"] = applied
        null = work / "null1000"
        write_mission(null, n)
        engine_only = child(NULL_APPLY.format(path=str(null)))
        report["engine_only_1000"] = engine_only
        print(f"apply of {n} local.Files (each depending on the one ten before): {applied['apply']:.2f} s "
              f"(target < 1 s); engine overhead with a provider that does nothing: "
              f"{engine_only['ms_per_node']:.3f} ms/node (target <= 0.25)")
        startup = python_startup()
        helptime = help_time()
        report["help_s"] = helptime
        report["python_startup_s"] = startup
        print(f"skyform --help: {helptime:.3f} s (target <= 0.15 s; bare `python -c pass` here: {startup:.3f} s, "
              f"ratio {helptime / startup:.1f}x)")
        if not args.skip_terraform:
            (work / "tf-data").mkdir()
            tf = terraform(n, work)
            if tf is not None:
                report["terraform_apply_s"] = tf
                print(f"terraform_data apply of {n} (same shape, -parallelism=10): {tf:.2f} s = "
                      f"{tf / n * 1000:.1f} ms/resource; skyform is {tf / applied['apply']:.1f}x faster")
        (HERE / "last-run.json").write_text(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
