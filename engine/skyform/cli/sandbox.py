"""``skyform sandbox``: serve every simulator, count their objects, reset them, push faults.

``serve`` runs in the foreground until Ctrl-C or SIGTERM and then stops cleanly with its
state saved; ``objects``, ``reset`` and ``faults`` talk to a running serve through the
simulators' ``/__sandbox__/`` control endpoints, or work on the saved state files when no
serve is running (and say so). Errors are SkyformErrors; the main CLI prints them.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from ..sandbox.host import SandboxError
from .options import shared

DIR_HELP = "the sandbox state directory (default: the mission's .skyform/sandbox/)"


def _registry(ctx: click.Context) -> Any:
    """The plugin registry: one the caller put in ``ctx.obj`` (tests), else the installed plugins."""
    from ..providers.host import Registry, load_registry

    found = ctx.find_object(Registry)
    if found is not None:
        return found
    obj = ctx.find_object(dict)
    if obj is not None and isinstance(obj.get("registry"), Registry):
        return obj["registry"]
    return load_registry()


def _state_dir(directory: Path | None, mission: Path | None) -> Path:
    from ..sandbox.session import mission_sandbox_dir

    if directory is not None and mission is not None:
        raise UsageError("give either --dir or MISSION_DIR, not both")
    if directory is not None:
        return directory
    return mission_sandbox_dir(mission or Path("."))


def _control(base_url: str, what: str, payload: Any = None, *, method: str = "POST") -> Any:
    """One call to a running simulator's ``/__sandbox__/`` control endpoint."""
    import httpx

    url = f"{base_url}/__sandbox__/{what}"
    try:
        response = httpx.request(method, url, json=payload, timeout=10)
    except httpx.HTTPError as exc:
        raise SandboxError(
            f"sandbox: the simulator at {base_url} did not answer: {exc}",
            hint="is `skyform sandbox serve` still running?",
        ) from exc
    if response.status_code >= 400:
        detail = response.json().get("error", response.text) if response.content else response.reason_phrase
        raise SandboxError(f"sandbox: {url} refused: {detail}")
    return response.json()


def _load_faults(path: Path) -> Any:
    from ..sandbox.faults import Faults

    try:
        return Faults.load(path)
    except FileNotFoundError as exc:
        raise UsageError(f"fault rules file {path} does not exist") from exc
    except Exception as exc:  # YAML and rule errors alike: the file is wrong, say where
        raise UsageError(
            f"fault rules in {path} are invalid: {exc}", hint="see docs/sandbox.md for the rule format"
        ) from exc


@click.group("sandbox")
def command() -> None:
    """Local simulators of the services: serve them, inspect and reset their state."""


@command.command("serve")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    required=True,
    help="directory for the simulators' state, providers.json and the lock",
)
@click.option(
    "--port-base",
    type=click.IntRange(1, 65535),
    default=None,
    help="serve on consecutive ports from N, providers in name order (default: free ports)",
)
@click.option(
    "--clock",
    "clock_factor",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="simulated seconds per real second (default: SKYFORM_SANDBOX_CLOCK or 3600)",
)
@click.option(
    "--faults",
    "faults_file",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML/JSON fault rules to start with (see docs/sandbox.md)",
)
@click.pass_context
def serve(
    ctx: click.Context, directory: Path, port_base: int | None, clock_factor: float | None, faults_file: Path | None
) -> None:
    """Run every installed simulator in the foreground until Ctrl-C; state is kept in --dir."""
    from ..sandbox.session import ServeLock, port_plan, simulated, start_sandbox

    providers = simulated(_registry(ctx).providers.values())
    if not providers:
        raise SandboxError("sandbox: no installed provider ships a simulator")
    faults = _load_faults(faults_file) if faults_file is not None else None
    lock = ServeLock(directory)
    lock.acquire()
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():  # signals can only be handled there
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        host = start_sandbox(
            providers, directory, clock_factor=clock_factor, faults=faults, ports=port_plan(providers, port_base)
        )
        try:
            info = lock.publish(host)
            for name, url in info.servers.items():
                click.echo(f"{name:<14} {url}")
            click.echo(f"connection settings for a mission's providers: {directory / 'providers.json'}")
            click.echo("serving; press Ctrl-C to stop")
            while not stop.wait(0.5):
                pass
        finally:
            host.stop()
        click.echo(f"sandbox stopped; state saved in {directory}")
    finally:
        lock.release()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _objects_from_files(registry: Any, state_dir: Path) -> dict[str, dict[str, int]]:
    """Count objects by loading each saved simulator state without serving it."""
    from ..sandbox.session import state_files
    from ..sandbox.simulator import SimulatorOptions

    counts: dict[str, dict[str, int]] = {}
    for name in state_files(state_dir):
        provider = registry.providers.get(name)
        if provider is None or provider.simulator is None:
            continue  # a state file of a provider that is not installed (any more)
        try:
            counts[name] = dict(provider.simulator(SimulatorOptions(state_dir=state_dir)).objects())
        except (OSError, ValueError) as exc:
            raise SandboxError(
                f"sandbox: cannot read the {name} simulator's state in {state_dir}: {exc}",
                hint="run `skyform sandbox reset` to start from an empty sandbox",
            ) from exc
    return counts


@command.command("objects")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None, help=DIR_HELP)
@shared("json", json="print JSON: {source, dir, objects: {provider: {kind: n}}}")
@click.argument("mission", type=click.Path(path_type=Path), required=False)
@click.pass_context
def objects(ctx: click.Context, directory: Path | None, as_json: bool, mission: Path | None) -> None:
    """Count the objects each simulator holds, per provider and kind."""
    from ..sandbox.session import read_serve

    state_dir = _state_dir(directory, mission)
    info = read_serve(state_dir)
    if info is not None:
        counts = {name: _control(url, "objects", method="GET") for name, url in info.servers.items()}
        source, where = "running", f"from the running sandbox serve (pid {info.pid})"
    else:
        counts = _objects_from_files(_registry(ctx), state_dir)
        source, where = "state", f"from the saved state in {state_dir} (no sandbox serve is running)"
    if as_json:
        click.echo(json.dumps({"source": source, "dir": str(state_dir), "objects": counts}, sort_keys=True))
        return
    click.echo(f"objects {where}:")
    rows = [(p, k, n) for p, kinds in sorted(counts.items()) for k, n in sorted(kinds.items())]
    for provider, kind, count in rows:
        click.echo(f"  {provider:<14} {kind:<20} {count}")
    if not rows:
        click.echo("  (none)")


@command.command("reset")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None, help=DIR_HELP)
@click.argument("mission", type=click.Path(path_type=Path), required=False)
def reset(directory: Path | None, mission: Path | None) -> None:
    """Forget everything the simulators hold (a running serve is reset in place)."""
    from ..sandbox.session import read_serve, state_files

    state_dir = _state_dir(directory, mission)
    info = read_serve(state_dir)
    if info is not None:
        for url in info.servers.values():
            _control(url, "reset")
        click.echo(f"reset {len(info.servers)} running simulator(s) of the serve (pid {info.pid})")
        return
    files = state_files(state_dir)
    for path in files.values():
        try:
            path.unlink()
        except OSError as exc:
            raise SandboxError(f"sandbox: cannot remove {path}: {exc.strerror}") from exc
    if files:
        click.echo(f"cleared {', '.join(files)} in {state_dir}")
    else:
        click.echo(f"nothing to reset in {state_dir}")


@command.command("faults")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    required=True,
    help="the directory of the running sandbox serve",
)
@click.option("--clear", is_flag=True, help="remove every fault rule")
@click.argument("rules_file", type=click.Path(path_type=Path), required=False)
def faults(directory: Path, clear: bool, rules_file: Path | None) -> None:
    """Replace the fault rules of a running ``sandbox serve`` (see docs/sandbox.md)."""
    from ..sandbox.session import read_serve

    if clear == (rules_file is not None):
        raise UsageError("give a fault rules FILE or --clear")
    rules = [] if rules_file is None else [r.to_dict() for r in _load_faults(rules_file).rules]
    for rule in rules:
        rule.pop("fired", None)
    info = read_serve(directory)
    if info is None:
        raise SandboxError(
            f"sandbox: no `skyform sandbox serve` is running on {directory}",
            hint="faults can be pushed to a running serve only; use serve --faults FILE at start",
        )
    for url in info.servers.values():
        _control(url, "faults", rules)
    click.echo(f"{len(rules)} fault rule(s) active on {len(info.servers)} simulator(s)")
