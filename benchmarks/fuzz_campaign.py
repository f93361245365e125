"""Bad-input campaign, long (issue 10, suite 3): thousands of mutated and generated
missions through the loader and validator, random expressions through the expression
parser, and every hostile document through `skyform validate` as a subprocess.

    python benchmarks/fuzz_campaign.py [--cases 5000] [--seed 1] [--bound 10]

A case is a traceback when anything but a SpecError/ExpressionError escapes (in-process) or
the CLI exits outside the README's codes / prints "Traceback"; a hang when it takes longer
than --bound seconds (in-process cases are interrupted with SIGALRM). Prints the figure:
cases run / tracebacks / hangs, and every offending case.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import string
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))
import hostile
import rkit


class Hang(Exception):
    """Raised by SIGALRM when one case outlives the bound."""


def _alarm(*_: object) -> None:
    raise Hang()


def in_process(check, cases, bound: float, report: Counter, offenders: list) -> None:
    """Run (name, text) cases through the checker with a per-case alarm."""
    for name, text in cases:
        signal.setitimer(signal.ITIMER_REAL, bound)
        try:
            verdict = check(name, text)
        except Hang:
            report["hangs"] += 1
            offenders.append((name, "hang", f"over {bound}s"))
            continue
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        report["cases"] += 1
        report[verdict.outcome] += 1
        if verdict.outcome == "crash":
            report["tracebacks"] += 1
            offenders.append((name, "crash", verdict.detail[:200]))


def expressions(rng: random.Random, n: int, bound: float, report: Counter, offenders: list) -> None:
    from skyform.spec.expressions import ExpressionError, dig, parse, resolve

    alphabet = string.ascii_letters + string.digits + "._-[]{}$ \n'\"\\" + "é💥"
    data = {"var": {"x": [1, {"y": "z"}]}, "mission": {"name": "m"}, "secrets": {}, "resources": {}}

    def lookup(ref):
        return dig(data.get(ref.root, {}), ref.path, ref.text)

    for _ in range(n):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        if rng.random() < 0.5:
            text = rng.choice(["var.", "resources.", "secrets.", "mission.", "${{ "]) + text
        signal.setitimer(signal.ITIMER_REAL, bound)
        try:
            try:
                parse(text)
            except ExpressionError:
                pass
            try:
                resolve({"a": ["${{" + text + "}}", text + "${{ var.x[1].y }}"]}, lookup)
            except ExpressionError:
                pass
            report["cases"] += 1
        except Hang:
            report["hangs"] += 1
            offenders.append((f"expression {text!r}", "hang", ""))
        except Exception as exc:
            report["cases"] += 1
            report["tracebacks"] += 1
            offenders.append((f"expression {text!r}", "crash", f"{type(exc).__name__}: {exc}"[:200]))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def cli(documents, bound: float, report: Counter, offenders: list, work: Path) -> None:
    """Each document through `skyform validate` as a subprocess."""
    for i, (name, text) in enumerate(documents):
        mission = work / f"cli{i}"
        mission.mkdir()
        (mission / "mission.yaml").write_bytes(text)
        started = time.time()
        try:
            done = rkit.run("validate", str(mission), timeout=bound)
        except Exception:
            report["hangs"] += 1
            offenders.append((f"cli {name}", "hang", f"over {bound}s"))
            continue
        report["cases"] += 1
        report[f"cli exit {done.returncode}"] += 1
        if done.returncode not in rkit.DOCUMENTED_EXITS or "Traceback" in done.stderr:
            report["tracebacks"] += 1
            offenders.append((f"cli {name}", f"exit {done.returncode}", done.stderr.strip()[-200:]))
        if time.time() - started > bound / 2:
            offenders.append((f"cli {name}", "slow", f"{time.time() - started:.1f}s"))


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=5000, help="mutated/generated missions (in-process)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bound", type=float, default=10.0, help="seconds one case may take")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, _alarm)
    report: Counter[str] = Counter()
    offenders: list[tuple[str, str, str]] = []
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="skyform-fuzz-") as tmp:
        work = Path(tmp)
        (work / "m" / "data").mkdir(parents=True)
        (work / "m" / "data" / "a.JPG").write_bytes(b"\xff\xd8\xff")
        check = hostile.checker(work / "m")
        demo = hostile.demo_document()
        demo_text = (rkit.DEMO / "mission.yaml").read_bytes()
        quarter = args.cases // 4
        mutated = (
            (
                f"mutated seed={i}",
                hostile.to_text(hostile.mutate(demo, random.Random(rng.random()), rng.randrange(1, 7))),
            )
            for i in range(quarter)
        )
        edited = (
            (f"edited seed={i}", hostile.mutate_text(demo_text, random.Random(rng.random()), rng.randrange(1, 9)))
            for i in range(quarter)
        )
        noise = ((f"bytes {i}", rng.randbytes(rng.randrange(0, 600))) for i in range(quarter))
        soup_chars = ":-{}[]&*!|>'\"#%@`?,\n\t ~<=\\$.0123456789abkxyz\r\u00e9\ufeff"
        soup = (
            (f"soup {i}", "".join(rng.choice(soup_chars) for _ in range(rng.randrange(0, 300))).encode())
            for i in range(args.cases - 3 * quarter)
        )
        for batch in (mutated, edited, noise, soup):
            in_process(check, batch, args.bound, report, offenders)
        print(f"in-process missions: {dict(report)}", flush=True)
        expressions(rng, args.cases // 2, args.bound, report, offenders)
        print(f"+ expressions: {dict(report)}", flush=True)
        documents = hostile.corpus_files() + list(hostile.generated())
        cli(documents, max(args.bound, 60.0), report, offenders, work)
    seconds = time.time() - started
    print(
        f"\nbad-input campaign: {report['cases']} cases run, {report['tracebacks']} tracebacks, "
        f"{report['hangs']} hangs ({seconds:.0f} s)"
    )
    for name, what, detail in offenders[:60]:
        print(f"  {what:8} {name[:90]}  {detail}")
    if args.json:
        print(
            json.dumps(
                {
                    "cases": report["cases"],
                    "tracebacks": report["tracebacks"],
                    "hangs": report["hangs"],
                    "seconds": round(seconds),
                    "outcomes": dict(report),
                }
            )
        )
    return 1 if report["tracebacks"] or report["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
