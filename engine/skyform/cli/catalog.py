"""``skyform catalog`` and ``skyform provenance``: where every product came from, from state alone."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import state_option

if TYPE_CHECKING:
    from ..catalog.stac import AssetMode


@click.command("catalog")
@click.argument("mission", type=click.Path(path_type=Path), default=".", required=False)
@click.option(
    "--out",
    "out",
    required=True,
    metavar="DIR|URL",
    help="Where to write the catalog: a directory (replaced whole) or an fsspec URL such as s3://bucket/key.",
)
@click.option(
    "--assets",
    type=click.Choice(["copy", "reference"]),
    default="copy",
    show_default=True,
    help="copy: stored files go beside their Item (hard links where possible), so the folder is "
    "self-contained; reference: Items point at the files where skyform keeps them.",
)
@state_option
def catalog(mission: Path, out: str, assets: AssetMode, state_url: str | None) -> int:
    """Write MISSION's products as a STAC catalog (one Collection, one Item per dataset)."""
    from ..catalog import collect, publish
    from .common import open_mission_state

    loaded, name, store, registry = open_mission_state(mission, state_url)
    with closing(store):
        lineage = collect(store, name, registry.resolve_type)
    where = publish(lineage, out, loaded.directory, assets=assets)
    click.echo(f"Wrote a STAC catalog of {len(lineage.products)} item(s) for {name}: {where}")
    return 0


@click.command("provenance")
@click.argument("words", nargs=-1, required=True, metavar="[MISSION] RESOURCE")
@click.option("--format", "fmt", type=click.Choice(["text", "prov-json"]), default="text", show_default=True)
@state_option
def provenance(words: tuple[str, ...], fmt: str, state_url: str | None) -> int:
    """Show where RESOURCE's products came from: the operations, inputs and agents (W3C PROV)."""
    from ..catalog import collect
    from ..catalog.prov import dumps, prov_json, prov_text, upstream
    from .common import mission_and_names, open_mission_state

    mission, (address,) = mission_and_names(words, ("resource",))
    _, name, store, registry = open_mission_state(mission, state_url)
    with closing(store):
        lineage = collect(store, name, registry.resolve_type)
    products = upstream(lineage, address)
    if fmt == "prov-json":
        click.echo(dumps(prov_json(lineage, products)))
    else:
        for line in prov_text(lineage, products):
            click.echo(line)
    return 0
