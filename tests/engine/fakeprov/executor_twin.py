"""A second plugin claiming the executor name ``counting`` (a clash the registry reports)."""

from __future__ import annotations

from skyform import hookimpl
from skyform.apply.executor import ExecutorBackend

from .executor import open_counting


@hookimpl
def skyform_executors() -> list[ExecutorBackend]:
    return [ExecutorBackend("counting", open_counting)]
