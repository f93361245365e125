"""``skyform worker``: a Celery worker that runs skyform operations from named queues.

Start one per machine (or several): it consumes ``--queues`` (default ``default``) with
``--concurrency`` processes, resolves the secrets operations name from its own environment
(``SKYFORM_SECRET_<NAME>``) or ``--secrets-file``, and reaches the state database the
operations name (``--state`` overrides it: another host name, a password). It holds at
most one unstarted operation per process (prefetch 1) and acknowledges an operation only
when it ran, so a worker that dies gives its operations back to the broker.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import click

from ..cli.options import shared


@click.command(name="worker")
@shared("broker", "secrets_file")
@click.option(
    "--queues",
    "-Q",
    default="default",
    show_default=True,
    metavar="A,B",
    help="Comma-separated queues to consume (a resource's lifecycle.queue, a provider's settings.queues).",
)
@click.option(
    "--concurrency", "-c", type=click.IntRange(1, 256), default=2, show_default=True, help="Worker processes."
)
@click.option("--name", "-n", metavar="NAME", help="This worker's name (default skyform-<pid>@<host>).")
@shared(
    "state",
    state="The state database, when this machine reaches it differently from the URL apply sends "
    "(a password, another host name). Env: SKYFORM_STATE.",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
    help="Celery's execution pool: prefork (processes; enforces the time limit), threads or solo.",
)
def command(
    broker: str | None,
    secrets_file: Path | None,
    queues: str,
    concurrency: int,
    name: str | None,
    state_url: str | None,
    pool: str,
) -> int:
    """Run skyform operations from QUEUES on this machine (apply --executor celery sends them)."""
    from ..errors import UsageError
    from .app import check_broker, make_app, shown
    from .missions import register as register_missions
    from .tasks import WorkerSettings, register

    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    if not wanted:
        raise UsageError("--queues names no queue", hint="e.g. --queues site-a12,default")
    if secrets_file is not None and not secrets_file.is_file():
        raise UsageError(f"secrets file {secrets_file} does not exist")
    app = make_app(broker)
    check_broker(app)
    register(app)
    register_missions(app)  # whole gitops missions (gitops apply --executor celery)
    app.conf.skyform_worker = WorkerSettings(
        queues=wanted, secrets_file=str(secrets_file) if secrets_file else None, state=state_url
    )
    hostname = name or f"skyform-{os.getpid()}@{socket.gethostname()}"
    from celery.signals import worker_ready

    @worker_ready.connect(weak=False)
    def announce(**_: Any) -> None:  # tests and operators wait for this line
        if state_url:  # alive in the state it names from the start, before any operation
            _beacon(hostname, wanted, state_url)
        click.echo(f"skyform worker {hostname} ready", err=True)

    click.echo(f"skyform worker {hostname}: queues {', '.join(wanted)} on {shown(str(app.conf.broker_url))}", err=True)
    argv: list[Any] = [
        "worker",
        "--queues",
        ",".join(wanted),
        "--concurrency",
        str(concurrency),
        "--hostname",
        hostname,
        "--pool",
        pool,
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
    ]
    app.worker_main(argv)
    return 0


def _beacon(hostname: str, queues: list[str], state_url: str) -> None:
    """Mark this worker alive in ``state_url`` now and by heartbeat (``skyform status``, and the
    coordinator's ``--worker-timeout`` telling a busy queue from one nobody serves)."""
    from ..errors import SkyformError
    from .heartbeat import Beacon
    from .tasks import _open_store

    try:
        stores = {state_url: _open_store(state_url, Path.cwd())}
    except SkyformError as exc:  # the database is down: operations will say so when they come
        click.echo(f"skyform worker {hostname}: cannot reach the state database yet: {exc}", err=True)
        return
    beacon = Beacon(hostname, queues, stores)
    beacon.beat()
    beacon.start()
