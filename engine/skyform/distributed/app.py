"""The Celery app of skyform, and the settings that make its delivery safe under failure.

One factory, :func:`make_app`, serves the coordinator (which sends operations) and
``skyform worker`` (which runs them), so both sides agree on every setting:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only after
  its operation ran, and a worker killed mid-operation gives it back to the broker, so
  another worker runs it again (the write-ahead intent and the idempotency key make that
  second run adopt what the first one created).
- ``worker_prefetch_multiplier=1``: a worker holds no operations it is not running, so a
  dead worker strands nothing and a long upload does not block queued work behind it.
- JSON only (``accept_content``): no pickle from the network.
- An operation runs at most :func:`longest_operation` seconds (``SKYFORM_LONGEST_OPERATION``,
  default 25 min): below RabbitMQ's ``consumer_timeout`` (30 min by default), which would
  otherwise close the channel of a late-acked task that runs longer. Long *waiting* never
  sits in a task: polling stays in the coordinator.
- Redis: the ``visibility_timeout`` (after which an unacknowledged message is delivered
  again) is twice the longest operation (``SKYFORM_VISIBILITY_TIMEOUT`` sets it, never at
  or below an operation's hard time limit), so a running operation is never handed to a
  second worker; skyform sends no countdown or ETA at all (a countdown longer than the
  visibility timeout is a known way to duplicate work).

Importing this module imports Celery: only the ``celery`` executor and ``skyform worker``
do, never ``import skyform``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import Celery

from .. import redact
from ..errors import BrokerError, UsageError

#: RabbitMQ on this machine, the default broker.
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
#: The environment variable naming the broker (``--broker`` wins over it).
BROKER_ENV = "SKYFORM_BROKER"
#: The queue operations go to when neither their resource nor their provider names one.
DEFAULT_QUEUE = "default"
#: RabbitMQ's default ``consumer_timeout`` (30 minutes): a late-acked task running longer
#: has its channel closed by the server.
RABBITMQ_CONSUMER_TIMEOUT = 1800.0
_LONGEST_DEFAULT = 1500.0
_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss")


def broker_url(explicit: str | None = None) -> str:
    """The broker to use: ``--broker``, else ``SKYFORM_BROKER``, else local RabbitMQ."""
    url = explicit or os.environ.get(BROKER_ENV) or DEFAULT_BROKER
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in _SCHEMES:
        raise UsageError(
            f"broker URL {shown(url)!r} is not a RabbitMQ or Redis URL",
            hint="e.g. --broker amqp://guest:guest@127.0.0.1:5672// or --broker redis://127.0.0.1:6379/0",
        )
    password = urlsplit(url).password
    if password and password != "guest":  # RabbitMQ's well-known default is no secret
        redact.register(password)
    return url


def is_redis(url: str) -> bool:
    return url.split("://", 1)[0].lower() in ("redis", "rediss")


def shown(url: str) -> str:
    """``url`` with its password masked, for messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def longest_operation() -> float:
    """Seconds one operation may run on a worker (``SKYFORM_LONGEST_OPERATION``)."""
    raw = os.environ.get("SKYFORM_LONGEST_OPERATION", "")
    try:
        value = float(raw) if raw else _LONGEST_DEFAULT
    except ValueError:
        raise UsageError(f"SKYFORM_LONGEST_OPERATION={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise UsageError(f"SKYFORM_LONGEST_OPERATION={raw!r} must be positive")
    return value


def hard_limit_grace() -> float:
    """Seconds between the soft time limit (an exception in the operation) and the hard one
    (its process is killed): ``SKYFORM_TIME_LIMIT_GRACE``, default 30."""
    raw = os.environ.get("SKYFORM_TIME_LIMIT_GRACE", "")
    try:
        value = float(raw) if raw else 30.0
    except ValueError:
        raise UsageError(f"SKYFORM_TIME_LIMIT_GRACE={raw!r} is not a number of seconds") from None
    return max(value, 0.0)


def visibility_timeout(longest: float) -> float:
    """Seconds after which Redis gives an unacknowledged message to another worker: the
    operation of a killed worker comes back after this long.

    ``SKYFORM_VISIBILITY_TIMEOUT``, default twice the longest operation. It must stay above
    the hard time limit (``longest`` plus the grace), or an operation still running is
    delivered to a second worker: a shorter wait after a kill is bought with a shorter
    longest operation (``SKYFORM_LONGEST_OPERATION``), never below it.
    """
    raw = os.environ.get("SKYFORM_VISIBILITY_TIMEOUT", "")
    if not raw:
        return 2 * longest
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"SKYFORM_VISIBILITY_TIMEOUT={raw!r} is not a number of seconds") from None
    hard = longest + hard_limit_grace()
    if value <= hard:
        raise UsageError(
            f"SKYFORM_VISIBILITY_TIMEOUT={raw!r} must be above an operation's hard time limit, {hard:g}s "
            f"(SKYFORM_LONGEST_OPERATION {longest:g}s + SKYFORM_TIME_LIMIT_GRACE {hard - longest:g}s): "
            "Redis would hand an operation still running to a second worker",
            hint="lower SKYFORM_LONGEST_OPERATION as well (on the workers and the coordinator alike), "
            "or leave SKYFORM_VISIBILITY_TIMEOUT unset (twice the longest operation)",
        )
    return value


def settings(url: str, longest: float | None = None) -> dict[str, Any]:
    """The Celery configuration for ``url`` (see the module docstring for each choice)."""
    longest = longest_operation() if longest is None else longest
    conf: dict[str, Any] = {
        "broker_url": url,
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # a worker that loses the broker connection stops its late-acked operations: the
        # broker redelivers them anyway, and a second copy must not keep running here
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        # completions come back on the coordinator's reply queue (small, fenced), not
        # through a result backend
        "task_ignore_result": True,
        "task_default_queue": DEFAULT_QUEUE,
        "task_soft_time_limit": longest,
        "task_time_limit": longest + hard_limit_grace(),
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
    }
    if is_redis(url):
        conf["broker_transport_options"] = {"visibility_timeout": visibility_timeout(longest)}
    return conf


def make_app(broker: str | None = None, *, longest: float | None = None) -> Celery:
    """The skyform Celery app on ``broker`` (see :func:`broker_url`), with its tasks."""
    url = broker_url(broker)
    app = Celery("skyform", set_as_current=False)
    app.conf.update(settings(url, longest))
    return app


def check_broker(app: Celery, timeout: float = 5.0) -> None:
    """Fail clearly, naming the broker, when it does not answer."""
    url = str(app.conf.broker_url)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # kombu raises the transport's own errors
        raise BrokerError(
            f"cannot reach the broker {shown(url)}: {redact.redact(str(exc)) or type(exc).__name__}",
            hint="start RabbitMQ or Redis, or name another with --broker URL / SKYFORM_BROKER",
        ) from None
