"""The built-in ``local`` executor, registered through the ``skyform`` entry-point group.

It is offered by the ``skyform_executors`` hook exactly as a third-party executor would be
(entry point ``executors``); ``celery`` comes from :mod:`skyform.distributed.plugin`.
"""

from __future__ import annotations

from .. import hookimpl
from .executor import ExecutorBackend, open_local

LOCAL = ExecutorBackend(
    name="local",
    open=open_local,
    description="provider calls on a thread pool in this process (the default; no broker)",
)


@hookimpl
def skyform_executors() -> list[ExecutorBackend]:
    return [LOCAL]
