"""A provider for the load campaign: the engine test provider's job, polled like a real one.

``fake.Job`` (tests/engine/fakeprov) suggests a poll every 0.05-0.2 s, right for fast engine
tests but 10,000 polls/s for 2,000 jobs. ``load.Job`` is the same job, served by the same
simulator, with the poll interval of a real service (``poll_interval`` 2 s, backing off
to 10 s), so the campaign measures how one process tracks thousands of jobs.
Registered with ``SKYFORM_PLUGIN_MODULES=loadprov`` (tests/reliability on PYTHONPATH).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from skyform import hookimpl


def _provider() -> Any:
    from fakeprov.provider import PROVIDER as FAKE
    from fakeprov.provider import Job
    from fakeprov.simulator import FakeSimulator

    class LoadJob(Job):
        """fake.Job with a real service's poll cadence."""

        poll_interval = 2.0
        max_poll_interval = 10.0

    class LoadSimulator(FakeSimulator):
        provider = "load"

    return replace(FAKE, name="load", kinds=(LoadJob(),), simulator=lambda options: LoadSimulator(options))


@hookimpl
def skyform_providers():  # type: ignore[no-untyped-def]
    return [_provider()]
