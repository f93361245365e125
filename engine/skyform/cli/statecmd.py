"""``skyform state``, ``history``, ``output``, ``force-unlock`` and ``import`` (``status``: status.py)."""

from __future__ import annotations

import dataclasses
import json
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import click

from ..errors import ExitCode, SkyformError, UsageError
from ..events import EventKind
from .common import MISSION, mission_and_names, open_mission_state, state_option
from .options import shared


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@click.group()
def state() -> None:
    """Inspect or edit recorded state."""


@state.command("list")
@MISSION
@state_option
@shared("json", json="Machine-readable JSON on stdout.")
def state_list(mission: Path, state_url: str | None, as_json: bool) -> int:
    """List recorded resources."""
    _, name, store, _ = open_mission_state(mission, state_url)
    with closing(store):
        rows = store.resources(name)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"address": r.address, "type": r.type, "status": r.status, "remote_id": r.remote_id}
                    for r in rows.values()
                ],
                indent=2,
            )
        )
        return 0
    for r in rows.values():
        click.echo(f"{r.address:<24} {r.type:<22} {r.status:<9} {r.remote_id or '-'}")
    return 0


@state.command("show")
@click.argument("words", nargs=-1, required=True, metavar="[MISSION] ADDRESS")
@state_option
def state_show(words: tuple[str, ...], state_url: str | None) -> int:
    """Show everything recorded about ADDRESS (secrets appear only as digests)."""
    mission, (address,) = mission_and_names(words, ("address",))
    _, name, store, _ = open_mission_state(mission, state_url)
    with closing(store):
        rs = store.resources(name).get(address)
    if rs is None:
        raise UsageError(f"no resource {address!r} in the state of {name}")
    data = {f.name: getattr(rs, f.name) for f in dataclasses.fields(rs)}
    click.echo(json.dumps(data, indent=2, default=str))
    return 0


@state.command("rm")
@click.argument("words", nargs=-1, required=True, metavar="[MISSION] ADDRESS")
@state_option
def state_rm(words: tuple[str, ...], state_url: str | None) -> int:
    """Forget ADDRESS: drop it from state without touching the remote object."""
    from ..state.base import Event, Removal

    mission, (address,) = mission_and_names(words, ("address",))
    _, name, store, _ = open_mission_state(mission, state_url)
    with closing(store), store.locked(name, "state rm", warn=lambda m: click.echo(f"Warning: {m}", err=True)):
        if address not in store.resources(name):
            raise UsageError(f"no resource {address!r} in the state of {name}")
        store.write(name, [Removal(address)], [Event(EventKind.STATE_RM, address, at=time.time())])
    click.echo(f"Removed {address} from state (the remote object, if any, was left alone).")
    return 0


@click.command()
@MISSION
@state_option
@click.option("--limit", type=int, default=50, show_default=True)
@shared("json", json="Machine-readable JSON on stdout.")
def history(mission: Path, state_url: str | None, limit: int, as_json: bool) -> int:
    """Show the mission's event history (newest last)."""
    _, name, store, _ = open_mission_state(mission, state_url)
    with closing(store):
        events = store.events(name, limit=limit)
    for e in events:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "seq": e.seq,
                        "at": e.at,
                        "kind": e.kind,
                        "address": e.address,
                        "before": e.before,
                        "after": e.after,
                        "data": e.data,
                    }
                )
            )
        else:
            change = f" {e.before or '-'} → {e.after}" if e.after else ""
            click.echo(f"{_when(e.at)}  {e.kind:<16} {e.address or '':<20}{change}")
    return 0


def _mission_and_name(words: tuple[str, ...]) -> tuple[Path, str | None]:
    """``output [MISSION] [NAME]``: one argument is the mission when it is an existing file
    or directory, else the output's name (so ``skyform output orthophoto`` works in the
    mission's directory, as the README shows)."""
    if len(words) > 2:
        raise UsageError(f"expected [MISSION] [NAME], got {len(words)} arguments")
    if len(words) == 2:
        return Path(words[0]), words[1]
    if len(words) == 1:
        return (Path(words[0]), None) if Path(words[0]).exists() else (Path("."), words[0])
    return Path("."), None


@click.command()
@click.argument("words", nargs=-1, metavar="[MISSION] [NAME]")
@state_option
@shared("json", json="Machine-readable JSON on stdout.")
def output(words: tuple[str, ...], state_url: str | None, as_json: bool) -> int:
    """Show the mission's outputs (or output NAME) from the last apply."""
    mission, name = _mission_and_name(words)
    loaded, mname, store, _ = open_mission_state(mission, state_url)
    with closing(store):
        ms = store.mission(mname)
        if name is not None and name in loaded.outputs and name not in (ms.outputs if ms else {}):
            _unresolved_output(loaded, store, name)
    from .output import shown

    outputs = {k: shown(v) for k, v in (ms.outputs if ms else {}).items()}
    if name is not None:
        if name not in outputs:
            from ..suggest import did_you_mean

            raise UsageError(
                f"no output {name!r}; outputs: {', '.join(outputs) or 'none'}", hint=did_you_mean(name, list(outputs))
            )
        value = outputs[name]
        click.echo(json.dumps(value) if as_json or not isinstance(value, str) else value)
        return 0
    if as_json:
        click.echo(json.dumps(outputs, indent=2))
    else:
        for key, value in outputs.items():
            click.echo(f"{key} = {json.dumps(value)}")
    return 0


def _unresolved_output(mission: Any, store: Any, name: str) -> None:
    """Say why a declared output has no recorded value: its path names nothing (exit 3,
    naming file, line and path), or no apply has recorded it yet."""
    from ..errors import Diagnostic, SpecError
    from ..spec.secrets import Secrets
    from ..validate.scope import Scope

    records = store.resources(mission.name)
    scope = Scope(mission, Secrets({}, environ={}), {a: r.outputs for a, r in records.items() if r.status == "ready"})
    problems: list[Diagnostic] = []
    scope.resolve_at(mission.outputs[name], ("outputs", name), problems, "mission")
    if problems:
        raise SpecError(problems)
    raise UsageError(f"output {name!r} has no recorded value yet", hint="run `skyform apply` to record it")


@click.command("force-unlock")
@MISSION
@state_option
@click.option("--yes", is_flag=True, help="Do not ask.")
def force_unlock(mission: Path, state_url: str | None, yes: bool) -> int:
    """Remove the mission's lock whoever holds it (only when its holder is surely gone)."""
    _, name, store, _ = open_mission_state(mission, state_url)
    with closing(store):
        info = store.lock_info(name)
        if info is None:
            click.echo("The mission is not locked.")
            return 0
        if not yes:
            from .common import is_interactive

            if not is_interactive():
                from ..errors import PlanRefused

                raise PlanRefused(
                    f"force-unlock needs confirmation: the lock is held by {info.holder} "
                    f"(pid {info.pid} on {info.host})",
                    hint="pass --yes if that run is surely gone",
                )
            click.confirm(f"Remove the lock held by {info.holder} (pid {info.pid} on {info.host})?", abort=True)
        store.force_unlock(name)
    click.echo("Lock removed.")
    return 0


@click.command("import")
@click.argument("words", nargs=-1, required=True, metavar="[MISSION] ADDRESS REMOTE_ID")
@state_option
@shared("sandbox", sandbox="Import from the sandbox simulators.")
@shared("secrets_file", secrets_file="YAML file of NAME: value secrets (else env SKYFORM_SECRET_<NAME>).")
def import_cmd(words: tuple[str, ...], state_url: str | None, sandbox: bool, secrets_file: Path | None) -> int:
    """Record the existing remote object REMOTE_ID as resource ADDRESS (after a possible orphan)."""
    import uuid

    mission, (address, remote_id) = mission_and_names(words, ("address", "remote_id"))
    from ..api import Options, Session
    from ..providers.base import Record
    from ..spec.values import from_storable, sealed
    from ..state.base import Event, ResourceState

    with Session(mission, Options(state_url=state_url, sandbox=sandbox, secrets_file=secrets_file)) as session:
        assert session.store is not None and session.runtime is not None
        resource = session.mission.resources.get(address)
        if resource is None:
            raise UsageError(f"no resource {address!r} in the mission")
        _, kind = session.runtime.kind(resource.type)
        recorded = session.store.resources(session.mission.name)
        if address in recorded and recorded[address].remote_id:  # an intent without an object may be imported
            raise UsageError(
                f"{address} is already managed as {recorded[address].remote_id or '(no remote id yet)'}",
                hint=f"run `skyform state rm {address}` first if you mean to replace the record",
            )
        for other in recorded.values():
            if other.remote_id == remote_id and other.type == resource.type:
                raise UsageError(
                    f"{remote_id} is already recorded as {other.address}",
                    hint="one remote object can back one resource only",
                )
        key = str(uuid.uuid4())
        ctx = session.runtime.context(address, resource.type, idempotency_key=key, intent_at=time.time())
        desired = _desired_spec(session, resource)
        # the kind reads the object as it would after applying the spec: in the spec's own
        # shape (the label fields the spec gives, the images it names), so that every field
        # the spec sets is recorded completely and the next plan compares like with like
        probe = Record(address, resource.type, remote_id, "ready", from_storable(desired), {}, {}, {}, key, time.time())
        found = kind.read(probe, ctx)
        if found is None:
            raise SkyformError(f"{resource.type} {remote_id!r} does not exist in the service")
        now = time.time()
        # sealed as apply stores them: a value the service echoes back with a secret in it
        # (a name made of a secret) is kept as the secret's digest, never in clear
        observed = sealed(found.observed or {})
        rs = ResourceState(
            address=address,
            type=resource.type,
            status=found.status,
            idempotency_key=key,
            intent_at=now,
            remote_id=found.remote_id or remote_id,
            spec=_imported_spec(desired, observed),
            outputs=sealed(found.outputs),
            observed=observed,
            private=found.private,
            created_at=now,
            updated_at=now,
        )
        with session.store.locked(session.mission.name, "import", warn=lambda m: None):
            session.store.write(
                session.mission.name,
                [rs],
                [Event(EventKind.IMPORT, address, None, rs.status, {"remote_id": rs.remote_id}, now)],
            )
    click.echo(f"Imported {remote_id} as {address}; `skyform plan` shows any difference from the spec.")
    return ExitCode.OK


def _desired_spec(session: Any, resource: Any) -> dict[str, Any]:
    """The resource's spec resolved against what state knows, in the stored form; fields
    whose value is not known yet (an output of a resource not recorded) are left out."""
    from ..spec.values import is_known, to_storable
    from ..validate.scope import Scope

    records = session.store.resources(session.mission.name)
    scope = Scope(
        session.mission, session.secrets, {a: r.outputs for a, r in records.items()}, registry=session.registry
    )
    problems: list[Any] = []
    desired = scope.resolve_at(resource.spec, ("resources", resource.id, "spec"), problems, resource.type)
    if not isinstance(desired, dict):
        return {}
    return {key: to_storable(value) for key, value in desired.items() if is_known(value)}


def _imported_spec(desired: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    """The spec to record for an imported object: the desired spec, except where the
    service shows a different value (so the next plan shows exactly those differences;
    fields a service cannot report back, such as uploaded images, are taken as desired)."""
    spec = dict(desired)
    for key, value in observed.items():
        if key in spec:
            spec[key] = value
    return spec
