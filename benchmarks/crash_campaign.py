"""Crash campaign (issue 10, suite 1): >= 50 seeded SIGKILLs of `skyform apply` of the demo
mission against `skyform sandbox serve`, every phase, each followed by a resumed apply.

    python benchmarks/crash_campaign.py [--kills 50] [--per-round 4] [--seed 1] [--clock 20000]

Prints one line per round and the figure: kills survived / objects duplicated / objects
lost, kills per phase, operator actions (imports after an AdoptError, as the message says).
Exit 1 when anything was duplicated or lost or a round did not converge.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))
import crash
import rkit


def main() -> int:
    # a SIGTERM unwinds like Ctrl-C, so the sandbox serve this script started is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--per-round", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clock", type=float, default=20000)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="skyform-crash-") as tmp:
        root = Path(tmp)
        env = rkit.clean_env(XDG_CACHE_HOME=str(root / "cache"), XDG_STATE_HOME=str(root / "xdg-state"))
        with rkit.Serve(root / "sbx", clock=args.clock) as serve:
            serve.set_faults(crash.LATENCY_RULES)
            expected = crash.expected_objects(serve, root, env)
            kills, rounds, duplicated, lost, unconverged, incomplete = 0, 0, 0, 0, 0, 0
            phases: collections.Counter[str] = collections.Counter()
            operator: list[str] = []
            while kills < args.kills:
                rounds += 1
                r = crash.run_round(serve, root / f"round{rounds}", expected, rng, args.per_round, env)
                hit = [k for k in r.kills if k.hit]
                kills += len(hit)
                phases.update(k.phase for k in hit)
                duplicated += r.duplicated
                lost += r.lost
                unconverged += not r.converged
                incomplete += not r.history_complete
                operator += r.operator_actions
                print(
                    f"round {rounds}: kills {[(k.phase, k.address) for k in hit]} -> converged={r.converged} "
                    f"dup={r.duplicated} lost={r.lost} plan={r.plan_exit} history={r.history_complete} "
                    f"operator={r.operator_actions}",
                    flush=True,
                )
                for note in r.notes:
                    print("   ", note.strip().replace("\n", "\n    ")[:1500])
    figure = {
        "kills": kills,
        "rounds": rounds,
        "kills_survived": kills if not (duplicated or lost or unconverged) else kills - unconverged,
        "objects_duplicated": duplicated,
        "objects_lost": lost,
        "rounds_not_converged": unconverged,
        "histories_incomplete": incomplete,
        "kills_per_phase": dict(phases),
        "operator_actions": len(operator),
        "seconds": round(time.time() - started, 1),
    }
    print(
        f"\ncrash campaign: {kills} kills over {rounds} rounds; duplicated {duplicated}, lost {lost}; "
        f"rounds not converged {unconverged}; histories incomplete {incomplete}; "
        f"operator imports after AdoptError {len(operator)}; phases {dict(phases)}; "
        f"{figure['seconds']} s"
    )
    if args.json:
        print(json.dumps(figure))
    return 1 if duplicated or lost or unconverged else 0


if __name__ == "__main__":
    sys.exit(main())
