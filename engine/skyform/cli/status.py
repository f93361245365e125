"""``skyform status``: each resource's recorded status, and the live state of running jobs.

After ``apply --detach`` the state says only "running"; what the user wants to know is how
far the remote job has got. So for every recorded job still running, ``status`` asks its
service (a provider ``read``, never a write: state is left as it is, and the next
``apply`` records what finished). A run against the sandbox, as recorded in state, is
polled against the simulators. ``--no-poll`` reads state only.
"""

from __future__ import annotations

import json
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .common import MISSION, open_mission_state, state_option
from .options import shared
from .statecmd import _when


@dataclass(frozen=True)
class Live:
    """What a service said about one running job just now."""

    status: str | None = None
    progress: float | None = None
    message: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def poll_running(
    mission: Path, state_url: str | None, running: list[Any], *, sandbox: bool, secrets_file: Path | None
) -> dict[str, Live]:
    """Read each running job from its service (nothing is written to state)."""
    from ..api import Options, Session
    from ..state.records import to_record

    out: dict[str, Live] = {}
    with Session(mission, Options(state_url=state_url, sandbox=sandbox, secrets_file=secrets_file)) as session:
        assert session.runtime is not None
        for rs in running:
            try:
                _, kind = session.runtime.kind(rs.type)
                ctx = session.runtime.context(
                    rs.address, rs.type, idempotency_key=rs.idempotency_key, intent_at=rs.intent_at
                )
                found = kind.read(to_record(rs), ctx)
            except Exception as exc:  # a status report never fails for one job
                from ..redact import redact

                out[rs.address] = Live(error=redact(f"{type(exc).__name__}: {exc}"))
                continue
            out[rs.address] = (
                Live(status="gone", message="the remote job no longer exists")
                if found is None
                else Live(found.status, found.progress, found.message)
            )
    return out


@click.command()
@MISSION
@state_option
@shared("sandbox", sandbox="Poll the sandbox simulators (default when state records a sandbox run).")
@shared("secrets_file", secrets_file="YAML file of NAME: value secrets (else env SKYFORM_SECRET_<NAME>).")
@click.option(
    "--poll/--no-poll", default=True, show_default=True, help="Ask the services how far running jobs have got."
)
@shared("json", json="Machine-readable JSON on stdout.")
def status(
    mission: Path, state_url: str | None, sandbox: bool, secrets_file: Path | None, poll: bool, as_json: bool
) -> int:
    """Show each resource's status and the progress of running remote jobs (polled live)."""
    _, name, store, _ = open_mission_state(mission, state_url)
    with closing(store):
        rows = store.resources(name)
        lock = store.lock_info(name)
        events = store.events(name, limit=200)
        recorded = store.mission(name)
        workers, operations = _workers(store, name)
    progress: dict[str, Any] = {}
    for e in events:
        if e.address and "progress" in e.data:
            progress[e.address] = e.data["progress"]
    running = [r for r in rows.values() if r.status == "running"]
    live: dict[str, Live] = {}
    if poll and running:
        was_sandbox = bool(recorded and recorded.attributes.get("sandbox"))
        live = poll_running(mission, state_url, running, sandbox=sandbox or was_sandbox, secrets_file=secrets_file)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "lock": lock.__dict__ if lock else None,
                    "resources": [
                        {
                            "address": r.address,
                            "status": r.status,
                            "remote_id": r.remote_id,
                            "progress": live[r.address].progress
                            if r.address in live and live[r.address].progress is not None
                            else progress.get(r.address),
                            "error": r.error,
                            **({"remote": live[r.address].to_json()} if r.address in live else {}),
                        }
                        for r in rows.values()
                    ],
                    "workers": workers,
                    "operations": operations,
                },
                indent=2,
            )
        )
        return 0
    if lock:
        click.echo(
            f"Locked by {lock.holder} (pid {lock.pid} on {lock.host}) since {_when(lock.since)} for {lock.operation}"
        )
    for r in rows.values():
        click.echo(_row(r, live.get(r.address), progress.get(r.address)))
    for op in operations:
        where = f"queue {op['queue']}, delivery {op['delivery']}"
        click.echo(f"{op['address']:<24} {op['step']} on worker {op['worker']} ({where})")
    if workers:
        seen = "; ".join(f"{w['name']} ({', '.join(w['queues'])}; {_ago(w['seen_at'])})" for w in workers)
        click.echo(f"Workers seen: {seen}")
    if running:
        finished = [a for a, seen in live.items() if seen.status in ("ready", "failed", "gone")]
        polled = f" (polled at {time.strftime('%H:%M:%S')})" if live else " (as recorded; --no-poll)"
        click.echo(
            f"{len(running)} remote job(s) running{polled}; `skyform apply` waits for them"
            + (f" and records the {len(finished)} that finished." if finished else ".")
        )
    return 0


def _workers(store: Any, mission: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The workers seen (``skyform worker``, any mission) and this mission's operations on
    them now (live leases); none for a state without leases (a backend, an older file)."""
    try:
        leases = store.leases()
        seen, held = leases.workers(), leases.running(mission)
    except Exception:  # no leases here (StateError), or a read-only older file without the table
        return [], []
    now = time.time()
    workers = [{"name": w.name, "host": w.host, "pid": w.pid, "queues": w.queues, "seen_at": w.seen_at} for w in seen]
    operations = [
        {
            "address": lease.address,
            "step": lease.step,
            "worker": lease.worker,
            "queue": lease.queue,
            "delivery": lease.deliveries,
            "lease_expires_in": round(lease.expires_at - now, 1),
        }
        for lease in held
        if lease.expires_at > now
    ]
    return workers, operations


def _ago(at: float) -> str:
    seconds = max(0, int(time.time() - at))
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}m ago" if seconds < 7200 else _when(at)


def _row(r: Any, seen: Live | None, recorded_progress: float | None) -> str:
    err = f"  {r.error}" if r.error else ""
    extra = ""
    if seen is not None:
        if seen.error:
            extra = f" (could not poll: {seen.error})"
        elif seen.status == "running":
            pct = f" {seen.progress * 100:.0f}%" if seen.progress is not None else ""
            extra = f"{pct} {seen.message or ''}".rstrip()
        else:
            extra = f" (service: {seen.status}{'; ' + seen.message if seen.message else ''})"
    elif r.status == "running" and recorded_progress is not None:
        extra = f" {recorded_progress * 100:.0f}%"
    return f"{r.address:<24} {r.status:<9}{extra} {r.remote_id or ''}{err}"
