"""Refresh (the reads before a plan) keeps to the same concurrency limits as apply."""

from __future__ import annotations

import json
import threading
from typing import Any


def test_refresh_honours_the_providers_own_parallelism(ws, monkeypatch):
    """The fake provider allows 8 calls at once: a plan with --parallelism 20 reads at most 8 at a time.

    Refresh used to run --parallelism reads whatever the provider declared.
    """
    from fakeprov.provider import Thing

    ws.write("resources:\n" + "".join(f"  r{i}: {{type: fake.Thing, spec: {{name: r{i}}}}}\n" for i in range(12)))
    applied = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert applied.code == 0, str(applied)
    lock, inflight, peak = threading.Lock(), [0], [0]
    real_read = Thing.read

    def counted_read(self: Any, record: Any, ctx: Any) -> Any:
        with lock:
            inflight[0] += 1
            peak[0] = max(peak[0], inflight[0])
        try:
            return real_read(self, record, ctx)
        finally:
            with lock:
                inflight[0] -= 1

    monkeypatch.setattr(Thing, "read", counted_read)
    # every read is slow, so that reads a limit did not hold back would overlap
    monkeypatch.setenv(
        "SKYFORM_SANDBOX_FAULTS",
        json.dumps([{"provider": "fake", "match": "^GET /objects/", "fault": "latency", "delay": 0.2}]),
    )
    planned = ws.run("plan", "--sandbox", "--parallelism", "20", ws.path)
    assert planned.code == 0, str(planned)
    assert "No changes." in planned.out
    assert peak[0] == 8, peak[0]
