"""A third-party executor, registered like any plugin: it counts the calls it runs locally.

Registered through SKYFORM_PLUGIN_MODULES=fakeprov.executor; every call goes to the engine's
own thread pool after one line per call is appended to $FAKE_EXECUTOR_LOG.
"""

from __future__ import annotations

import os
from typing import Any

from skyform import hookimpl
from skyform.apply.executor import ExecutorBackend, ExecutorContext, LocalExecutor


class Counting(LocalExecutor):
    def submit(self, call: Any, reporter: Any, report: Any) -> None:
        with open(os.environ["FAKE_EXECUTOR_LOG"], "a") as log:
            log.write(f"{call.address} {call.step}\n")
        super().submit(call, reporter, report)


def open_counting(context: ExecutorContext) -> Counting:
    return Counting(context.runtime, context.parallelism)


@hookimpl
def skyform_executors() -> list[ExecutorBackend]:
    return [ExecutorBackend("counting", open_counting, "counts calls, runs them here")]
