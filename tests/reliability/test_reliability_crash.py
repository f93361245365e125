"""Crash campaign, short: a few seeded SIGKILLs of an apply of the demo mission against a
running `skyform sandbox serve`, each resumed; nothing duplicated, nothing lost.

The long campaign (>= 50 kills over every phase) is benchmarks/crash_campaign.py.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crash
import rkit

# a campaign (seeded SIGKILLs, each resumed): README, Development; run with `-m slow`
pytestmark = pytest.mark.slow


EXPECTED = {
    "cvat": {"ground_truth_job": 0, "project": 1, "task": 1},
    "dronebundle": {"job": 1, "project": 1},
    "itwin": {"job": 1, "workspace": 1},
    "nodeodm": {"task": 1, "upload": 0},
    "satellogic": {"task": 1},
}


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory):
    with rkit.Serve(tmp_path_factory.mktemp("crash") / "sbx", clock=20000) as s:
        s.set_faults(crash.LATENCY_RULES)
        yield s


def test_killed_between_create_request_and_state_write_then_resumed(serve: rkit.Serve, tmp_path: Path) -> None:
    """SIGKILL while create requests are in flight (the service creates, the client never hears),
    then an upload/poll kill; the resumed apply adopts or is told to import - one object each,
    plan shows no changes, the history has every resource ready."""
    env = rkit.clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    phases = [p for p in crash.PHASES if p.name in ("create-in-flight", "upload", "polling")]
    result = crash.run_round(serve, tmp_path / "m", EXPECTED, random.Random(3), 3, env, phases=phases)
    assert any(k.hit for k in result.kills), result.kills
    assert (result.duplicated, result.lost) == (0, 0), result
    assert result.final_exit == 0 and result.plan_exit == 0, result.notes
    assert result.history_complete
