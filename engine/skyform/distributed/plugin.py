"""The built-in ``celery`` executor, registered through the ``skyform`` entry-point group.

Like a third-party executor, it is offered by the ``skyform_executors`` hook (entry point
``celery``). Celery itself is imported only when the executor is opened.
"""

from __future__ import annotations

from typing import Any

from .. import hookimpl
from ..apply.executor import ExecutorBackend, ExecutorContext


def open_celery(context: ExecutorContext) -> Any:
    from .executor import CeleryExecutor

    return CeleryExecutor(context)


CELERY = ExecutorBackend(
    name="celery",
    open=open_celery,
    description="operations on skyform worker processes behind a RabbitMQ or Redis broker (--broker)",
)


@hookimpl
def skyform_executors() -> list[ExecutorBackend]:
    return [CELERY]
