"""``skyform artifacts ls|get|gc``: the content-addressed store, seen from recorded state.

The store is the mission's (``settings.artifacts``, ``SKYFORM_ARTIFACTS``, else its own
``.skyform/store``) or ``--store URL``. What refers to an object is read from state: every
mission each named mission's state store records (all of them in a shared PostgreSQL
state), so ``gc`` on a store shared by missions kept elsewhere must name them all.
"""

from __future__ import annotations

import json
import sys
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import shared

if TYPE_CHECKING:
    from ..artifacts import ArtifactStore, Digest

MISSIONS = click.argument("missions", nargs=-1, type=click.Path(path_type=Path), metavar="[MISSION]...")
STORE = click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="The artifact store (default: the mission's settings.artifacts, else SKYFORM_ARTIFACTS, "
    "else its .skyform/store).",
)


@click.group()
def artifacts() -> None:
    """The content-addressed artifact store: list, fetch and collect objects by digest."""


@artifacts.command("ls")
@MISSIONS
@STORE
@shared("state")
@shared("json", json="Machine-readable JSON on stdout.")
def ls(missions: tuple[Path, ...], store_url: str | None, state_url: str | None, as_json: bool) -> int:
    """List the store's objects: digest, size and the recorded resources that refer to them."""
    store, referrers, _ = _open(missions, store_url, state_url)
    objects = store.ls()
    if as_json:
        rows = [
            {
                "digest": str(o.digest),
                "bytes": o.size,
                "stored_at": o.modified,
                "referenced_by": referrers.get(o.digest, []),
            }
            for o in objects
        ]
        click.echo(json.dumps({"store": store.url, "objects": rows}, indent=2))
        return 0
    click.echo(f"{len(objects)} object(s), {_size(sum(o.size for o in objects))} in {store.url}")
    for o in objects:
        refs = ", ".join(referrers.get(o.digest, [])) or "(unreferenced)"
        click.echo(f"{o.digest}  {_size(o.size):>10}  {refs}")
    return 0


@artifacts.command("get")
@click.argument("digest")
@click.argument("mission", type=click.Path(path_type=Path), default=".", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here; the file appears only once every byte is verified (default: stdout, where "
    "a corrupt object is reported at the end, exit 1).",
)
@STORE
def get(digest: str, mission: Path, output: Path | None, store_url: str | None) -> int:
    """Write the object DIGEST (sha256:...) out, checking its bytes against the digest."""
    from ..artifacts import Digest

    wanted = Digest.parse(digest)
    store = _store_for((mission,), store_url)
    if output is not None:
        store.fetch(wanted, output)
        click.echo(f"Wrote {wanted} to {output} (verified)", err=True)
        return 0
    out = sys.stdout.buffer
    with store.open(wanted) as reader:
        for chunk in reader:
            out.write(chunk)
    out.flush()
    return 0


@artifacts.command("gc")
@MISSIONS
@STORE
@shared("state")
@click.option(
    "--grace",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="Spare unreferenced objects and interrupted writes younger than this (a run may still be recording them).",
)
@click.option("--yes", is_flag=True, help="Delete (without it, only show what would be deleted).")
@shared("json", json="Machine-readable JSON on stdout.")
def gc(
    missions: tuple[Path, ...], store_url: str | None, state_url: str | None, grace: str, yes: bool, as_json: bool
) -> int:
    """Delete objects no recorded state refers to (a dry run unless --yes)."""
    from ..errors import UsageError
    from ..spec.envelope import parse_duration

    seconds = parse_duration(grace)
    if seconds <= 0 and grace.strip() not in ("0", "0s"):
        raise UsageError(f"--grace {grace!r} is not a duration", hint="e.g. --grace 30m, 2h, 1d or 0s")
    store, referrers, recorded = _open(missions, store_url, state_url)
    keep = set(referrers)
    result = store.gc(keep, grace=seconds) if yes else store.collect(keep, grace=seconds)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "store": store.url,
                    "deleted": yes,
                    "unreferenced": [{"digest": str(o.digest), "bytes": o.size} for o in result.unreferenced],
                    "temporaries": result.stale_temporaries + [key for key, _ in result.stale_uploads],
                    "young": [str(o.digest) for o in result.young],
                    "referenced": len(result.referenced),
                    "missions": recorded,
                },
                indent=2,
            )
        )
        return 0
    verb = "Deleted" if yes else "Would delete"
    click.echo(
        f"{verb} {len(result.unreferenced)} object(s), {_size(result.freed)}, that no recorded state "
        f"refers to, from {store.url}"
    )
    for o in result.unreferenced:
        click.echo(f"  {o.digest}  {_size(o.size):>10}")
    interrupted = len(result.stale_temporaries) + len(result.stale_uploads)
    if interrupted:
        click.echo(f"{verb} {interrupted} interrupted write(s) older than {grace}")
    click.echo(
        f"Kept {len(result.referenced)} referenced object(s) and {len(result.young)} unreferenced "
        f"younger than {grace}; references read from the state of {len(recorded)} mission(s): "
        + (", ".join(recorded) or "none")
    )
    if not yes and (result.unreferenced or interrupted):
        click.echo("Run again with --yes to delete them.")
    return 0


def _open(
    missions: tuple[Path, ...], store_url: str | None, state_url: str | None
) -> tuple[ArtifactStore, dict[Digest, list[str]], list[str]]:
    """The store, digest -> referring resources across every state the missions use, and the
    missions those states record."""
    from ..artifacts.references import merge, referrers
    from ..providers.host import load_registry
    from ..spec.mission import load
    from ..state import open_store

    paths = missions or (Path("."),)
    store = _store_for(paths, store_url)
    backends = load_registry().state_backends.values()
    found = []
    names: list[str] = []
    opened: set[str] = set()
    for path in paths:
        loaded = load(path)
        where = state_url or str(loaded.state_dir / "state.db")
        if where in opened:
            continue  # one shared state database: read once
        opened.add(where)
        with closing(open_store(state_url, loaded.directory, backends)) as state:
            recorded = [m.name for m in state.missions()]
            found.append(referrers(state, recorded))
            names += [name for name in recorded if name not in names]
    return store, merge(*found), names


def _store_for(paths: tuple[Path, ...], store_url: str | None) -> ArtifactStore:
    """``--store``, else the one store every named mission uses (two different ones: an error)."""
    from ..artifacts.location import open_store, store_at
    from ..errors import UsageError
    from ..spec.mission import load

    if store_url:
        return store_at(store_url, Path.cwd())
    stores: dict[str, ArtifactStore] = {}
    for path in paths:
        loaded = load(path)
        store = open_store(loaded.settings.get("artifacts"), loaded.state_dir, mission_dir=loaded.directory)
        stores.setdefault(store.url, store)
    if len(stores) > 1:
        raise UsageError(
            "these missions use different artifact stores: " + ", ".join(sorted(stores)),
            hint="name one with --store URL",
        )
    return next(iter(stores.values()))


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover
