"""``skyform validate``, ``graph``, ``providers`` and ``schema export``: read-only commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .common import MISSION
from .options import shared


@click.command()
@MISSION
@shared("json", json="Print the result as JSON.")
@shared("secrets_file", secrets_file="Secrets for provider settings.")
def validate(mission: Path, as_json: bool, secrets_file: Path | None) -> int:
    """Check MISSION without contacting any service: YAML, schemas, rules, expressions, graph."""
    from ..api import load
    from ..errors import SpecError
    from ..spec.secrets import Secrets
    from .output import Printer, diagnostics_text

    try:
        loaded, warnings = load(mission, secrets=Secrets.from_file(secrets_file))
    except SpecError as exc:
        if as_json:
            click.echo(json.dumps({"valid": False, "errors": [d.to_json() for d in exc.diagnostics]}))
            from ..errors import ExitCode

            return ExitCode.INVALID_SPEC
        raise
    if as_json:
        click.echo(
            json.dumps(
                {
                    "valid": True,
                    "mission": loaded.name,
                    "resources": len(loaded.resources),
                    "warnings": [d.to_json() for d in warnings],
                }
            )
        )
        return 0
    printer = Printer()
    for line in diagnostics_text(warnings, printer):
        printer.line(line)
    printer.line(
        printer.style("Valid.", "green", True) + f" Mission {loaded.name!r}: {len(loaded.resources)} resource(s)"
        f" in {len(loaded.files)} file(s)."
    )
    return 0


@click.command("graph")
@MISSION
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid", "json"]), default="dot", show_default=True)
def graph_cmd(mission: Path, fmt: str) -> int:
    """Print MISSION's dependency graph."""
    from .. import graph
    from ..api import load

    loaded, _ = load(mission)
    click.echo(graph.export(loaded, fmt))
    return 0


@click.command()
@shared("json", json="Print as JSON.")
def providers(as_json: bool) -> int:
    """List installed providers: name, version, distribution, kinds."""
    from ..providers.host import load_registry

    registry = load_registry()
    rows: list[dict[str, Any]] = []
    for name, provider in sorted(registry.providers.items()):
        origin = registry.provider_origin[name]
        rows.append(
            {
                "name": name,
                "version": provider.version,
                "distribution": origin.distribution,
                "distribution_version": origin.version,
                "plugin": origin.module,
                "kinds": [k.name for k in provider.kinds],
                "simulator": provider.simulator is not None,
                "description": provider.description,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    if not rows:
        click.echo("No providers installed.")
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        sim = "  [sandbox]" if r["simulator"] else ""
        click.echo(
            f"{r['name']:<{width}}  {r['version']:<8} {r['distribution']:<12} "
            f"{', '.join(r['name'] + '.' + k for k in r['kinds'])}{sim}"
        )
    return 0


@click.group()
def schema() -> None:
    """JSON Schemas for editors and check-jsonschema."""


@schema.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default="schemas", required=False)
def schema_export(directory: Path) -> int:
    """Write mission.schema.json, kinds/<type>.json and plan.schema.json into DIRECTORY (default: schemas)."""
    from ..plan import schema as plan_schema
    from ..providers.host import load_registry
    from ..spec.schemas import export

    written = [*export(load_registry(), directory), plan_schema.export(directory)]
    click.echo(f"Wrote {len(written)} schema file(s) to {directory}/")
    return 0
