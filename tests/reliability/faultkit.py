"""The fault campaign's one step: the demo mission against a serve with fault rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import crash
import rkit

EXPECTED = {
    "cvat": {"ground_truth_job": 0, "project": 1, "task": 1},
    "dronebundle": {"job": 1, "project": 1},
    "itwin": {"job": 1, "workspace": 1},
    "nodeodm": {"task": 1, "upload": 0},
    "satellogic": {"task": 1},
}


def fast_env(root: Path, **extra: str) -> dict[str, str]:
    """CLI environment with short retry backoff (Retry-After still wins)."""
    return rkit.clean_env(SKYFORM_RETRY_BASE="0.05", XDG_CACHE_HOME=str(root / "cache"), **extra)


def request_fault_rules(rate: float = 1.0) -> list[dict[str, Any]]:
    """Request faults at realistic rates (scaled by ``rate``); control endpoints are never hit."""
    return [
        {"fault": "latency", "delay": 0.15, "rate": min(1.0, 0.10 * rate)},
        {"fault": "status", "status": 429, "retry_after": 0.2, "rate": min(1.0, 0.06 * rate)},
        {"fault": "status", "status": 429, "rate": min(1.0, 0.04 * rate)},
        {"fault": "status", "status": 500, "rate": min(1.0, 0.03 * rate)},
        {"fault": "status", "status": 503, "rate": min(1.0, 0.04 * rate)},
        {"fault": "drop", "rate": min(1.0, 0.03 * rate)},
    ]


def converge_under_faults(root: Path, seed: int, rate: float = 1.0, max_applies: int = 2) -> dict[str, Any]:
    """Apply the demo under request faults until it converges (``max_applies``, plus
    applies after an operator resolved an AdoptError as its message says); the figures:
    requests, faulted, applies, operator actions, converged, duplicated, lost."""
    rules = request_fault_rules(rate)
    env = fast_env(root)
    with rkit.Serve(root / "sbx", clock=20000, faults=json.dumps(rules), seed=seed) as serve:
        serve_env = dict(env)
        mission = rkit.demo_mission(root / "m", serve.providers())
        applies, last, operator = 0, None, []
        for _ in range(max_applies + 2):
            applies += 1
            last = rkit.run(
                "apply", "--json", "--auto-approve", "--ack-irreversible", str(mission), env=serve_env, timeout=300
            )
            if last.returncode == 0:
                break
            # a create whose answer was lost (a dropped connection, a 5xx) where the service
            # offers no way to look: the AdoptError tells the operator what to check
            blocked = crash.blocked_addresses(last.stdout)
            for address, error in blocked.items():
                operator.append(crash.operator_resolves(serve, mission, address, error, serve_env))
            if not blocked and applies >= max_applies:
                break
        fired = serve.fired()
        stats = serve.stats()
        serve.set_faults([])
        plan = rkit.run("plan", "--detailed-exitcode", str(mission), env=serve_env, timeout=120)
        objects = serve.objects()
    duplicated = sum(
        max(0, objects.get(p, {}).get(k, 0) - n) for p, kinds in EXPECTED.items() for k, n in kinds.items()
    )
    lost = sum(max(0, n - objects.get(p, {}).get(k, 0)) for p, kinds in EXPECTED.items() for k, n in kinds.items())
    # one Faults object serves every simulator of a serve: each answers the same global counts
    by_kind = next(iter(fired.values()), {})
    return {
        "seed": seed,
        "requests": sum(stats.values()),
        "faulted": sum(by_kind.values()),
        "failed_answers": sum(n for k, n in by_kind.items() if k != "latency"),
        "fired": by_kind,
        "applies": applies,
        "operator_actions": operator,
        "converged": last is not None and last.returncode == 0 and plan.returncode == 0,
        "plan_exit": plan.returncode,
        "duplicated": duplicated,
        "lost": lost,
        "traceback": "Traceback" in (last.stderr if last else ""),
        "error": "" if last is None or last.returncode == 0 else last.stderr[-1500:],
    }
