"""``skyform plugin new NAME``: scaffold a third-party provider package that works at once.

The package is rendered from ``skyform/templates/plugin/``: file and directory names and
contents have ``@@name@@``-style placeholders, ``.tmpl`` suffixes are dropped (so the
templates are never imported or collected as what they will become).
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import click

from .. import __version__
from ..errors import UsageError

NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")


def placeholders(name: str) -> dict[str, str]:
    """The values substituted into the templates for provider ``name``."""
    return {
        "@@name@@": name,
        "@@NAME@@": name.upper(),
        "@@title@@": name.capitalize(),
        "@@package@@": f"skyform_{name}",
        "@@dist@@": f"skyform-{name}",
        "@@skyform_version@@": __version__,
    }


def claimed_names() -> dict[str, str]:
    """Provider names already registered in the ``skyform`` entry-point group (the built-ins
    and every installed plugin) and who claims each, read from metadata without importing."""
    from importlib.metadata import entry_points

    out: dict[str, str] = {}
    for ep in entry_points(group="skyform"):
        dist = ep.dist.name if ep.dist is not None else "unknown distribution"
        out.setdefault(ep.name, "built into skyform" if dist == "skyform" else f"installed from {dist}")
    return out


def _substitute(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _walk(node: Traversable, relative: Path) -> list[tuple[Path, Traversable]]:
    files: list[tuple[Path, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            files.extend(_walk(child, relative / child.name))
        else:
            files.append((relative / child.name, child))
    return files


def render_plugin(name: str, directory: Path) -> Path:
    """Write the package for provider ``name`` into ``directory/skyform-<name>``; return that path."""
    if not NAME.match(name):
        raise UsageError(
            f"invalid provider name {name!r}: use 2-31 lowercase letters and digits, "
            "starting with a letter (it becomes the prefix of resource types, e.g. acme.Job)"
        )
    taken = claimed_names().get(name)
    if taken is not None:
        raise UsageError(
            f"{name!r} is taken: a plugin of that name is {taken}, and a new one would be "
            "shadowed by it (two plugins cannot claim one name)",
            hint=f"choose another name, e.g. {name}x or my{name}",
        )
    values = placeholders(name)
    target = directory / values["@@dist@@"]
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} already exists and is not empty", hint="choose another --dir or NAME")
    template = resources.files("skyform") / "templates" / "plugin"
    try:
        for relative, source in _walk(template, Path()):
            out = target / _substitute(str(relative), values).removesuffix(".tmpl")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(_substitute(source.read_text(), values))
    except OSError as exc:
        raise UsageError(f"cannot write the package into {target}: {exc.strerror}") from exc
    return target


@click.group("plugin")
def command() -> None:
    """Tools for writing provider plugins."""


@command.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="where to create the skyform-NAME directory",
)
def new(name: str, directory: Path) -> None:
    """Scaffold a provider package: entry point, a Job kind, a simulator, contract tests, README."""
    target = render_plugin(name, directory)
    click.echo(f"created {target}")
    click.echo(f"next: cd {target} && pip install -e . && python -m pytest")
