"""Load campaign (issue 10, suite 7): one `skyform apply` tracks N simultaneously running
remote jobs (default 2,000 fake.Job served by `skyform sandbox serve`).

    python benchmarks/load_campaign.py [--jobs 2000] [--job-seconds 75] [--parallelism 10]

Prints the figures: peak threads of the apply process (poll scheduling, not a thread per
job), CPU ms and resident memory per job, and the polls per second sustained while all
jobs were running.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))
import load


def main() -> int:
    # a SIGTERM unwinds like Ctrl-C, so the sandbox serve this script started is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--job-seconds", type=float, default=100.0, help="real seconds each job runs")
    ap.add_argument("--parallelism", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="skyform-load-") as tmp:
        result = load.run(Path(tmp), args.jobs, args.job_seconds, args.parallelism, timeout=args.job_seconds * 6 + 300)
    figures = result.figures()
    print(
        f"load campaign: {figures['peak_running']}/{args.jobs} jobs running at once, exit {figures['exit']}; "
        f"peak threads {figures['peak_threads']}; peak RSS {figures['peak_rss_mib']} MiB "
        f"({figures['rss_per_job_kib']} KiB/job); CPU {figures['cpu_ms_per_job']} ms/job; "
        f"{figures['polls_per_s_all_running']} polls/s sustained over {figures['window_s']} s with all running "
        f"(CPU share {figures['cpu_share_while_polling']})"
    )
    print(json.dumps(figures))
    ok = figures["exit"] == 0 and figures["peak_running"] == args.jobs and figures["peak_threads"] < 64
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
