"""Load, short: one apply tracks 150 running jobs (load.Job, see loadprov.py) with a
bounded number of threads.

The long campaign (2,000 jobs, CPU/memory per job, polls per second) is
benchmarks/load_campaign.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load

# a campaign (150 running jobs in one apply): README, Development; run with `-m slow`
pytestmark = pytest.mark.slow


def test_many_running_jobs_are_polled_on_timers_not_threads(tmp_path: Path) -> None:
    """All 150 jobs are running at once, the apply's thread count stays near its worker
    pool (--parallelism 10), they are polled, and the apply succeeds."""
    result = load.run(tmp_path, jobs=150, job_seconds=15, parallelism=10, timeout=240)
    figures = result.figures()
    assert figures["exit"] == 0, figures
    assert figures["peak_running"] == 150, figures
    assert figures["peak_threads"] <= 30, figures
    # 150 jobs polled every 2-10 s: between 15 and 75 polls/s when the process keeps up
    assert figures["polls_per_s_all_running"] and figures["polls_per_s_all_running"] > 10, figures
