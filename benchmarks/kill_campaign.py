"""Distributed kill campaign (issue 17): >= 20 seeded SIGKILLs of skyform workers (and once
per round the coordinator) while the demo mission is applied with ``--executor celery``
against ``skyform sandbox serve``: NodeODM and CVAT uploads and the all.zip download run on
the workers, which are killed as their machine dying would (the whole process group).

    python benchmarks/kill_campaign.py [--kills 20] [--per-round 3] [--seed 1]
        [--broker amqp://guest:guest@127.0.0.1:5672//] [--clock 20000] [--phases upload,cvat-upload]

Needs the machine's broker (RabbitMQ by default, ``--broker redis://127.0.0.1:6379/0``) and
PostgreSQL (``SKYFORM_TEST_POSTGRES_URL``, default postgresql://postgres@127.0.0.1:5432/test).
Prints one line per round and the figure: kills survived / objects duplicated / lost,
kills per target and phase, artifacts verified. Exit 1 when anything was duplicated, lost
or corrupt, or a round did not converge.
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
import killkit
import rkit


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: serve and workers stopped
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--per-round", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//")
    ap.add_argument("--clock", type=float, default=20000)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    ap.add_argument("--phases", help="only these worker phases (comma-separated names of killkit.WORKER_PHASES)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    only = [p for p in killkit.WORKER_PHASES if p.name in (args.phases or "").split(",")] or None
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="skyform-kill-") as tmp:
        root = Path(tmp)
        env = rkit.clean_env(XDG_CACHE_HOME=str(root / "cache"), XDG_STATE_HOME=str(root / "xdg-state"))
        with rkit.Serve(root / "sbx", clock=args.clock) as serve:
            serve.set_faults(crash.LATENCY_RULES)
            expected = crash.expected_objects(serve, root, env)
            kills = rounds = duplicated = lost = unconverged = corrupt = artifacts = 0
            phases: collections.Counter[str] = collections.Counter()
            operator: list[str] = []
            while kills < args.kills:
                rounds += 1
                r = killkit.run_round(
                    serve, root / f"round{rounds}", expected, rng, args.per_round, env, args.broker, phases=only
                )
                hit = [k for k in r.kills if k.hit]
                kills += len(hit)
                phases.update(f"{k.target}:{k.phase}" for k in hit)
                duplicated += r.duplicated
                lost += r.lost
                unconverged += not r.converged
                corrupt += r.corrupt_artifacts
                artifacts += r.artifacts
                operator += r.operator_actions
                print(
                    f"round {rounds}: kills {[(k.target, k.phase, k.address) for k in hit]} -> "
                    f"converged={r.converged} dup={r.duplicated} lost={r.lost} plan={r.plan_exit} "
                    f"artifacts={r.artifacts} corrupt={r.corrupt_artifacts} operator={r.operator_actions}",
                    flush=True,
                )
                if not r.converged:
                    for note in r.notes:
                        print("   ", note.strip().replace("\n", "\n    ")[:1500])
                if rounds > 4 * args.kills:  # aims that never hit: stop, the figure says so
                    break
    figure = {
        "broker": args.broker.split("://", 1)[0],
        "kills": kills,
        "rounds": rounds,
        "kills_survived": kills if not (duplicated or lost or unconverged) else kills - unconverged,
        "objects_duplicated": duplicated,
        "objects_lost": lost,
        "rounds_not_converged": unconverged,
        "artifacts_verified": artifacts,
        "artifacts_corrupt": corrupt,
        "kills_per_phase": dict(phases),
        "operator_actions": len(operator),
        "seconds": round(time.time() - started, 1),
    }
    print(
        f"{figure['kills_survived']} kills survived / {duplicated} objects duplicated / {lost} lost "
        f"in {rounds} rounds; {artifacts} artifacts verified, {corrupt} corrupt; per phase "
        f"{dict(phases)}; {len(operator)} operator action(s); {figure['seconds']} s"
    )
    if args.json:
        print(json.dumps(figure))
    return 1 if (duplicated or lost or unconverged or corrupt) else 0


if __name__ == "__main__":
    sys.exit(main())
