"""The public plugin API is one module whose ``__all__`` is exactly what docs/plugins.md documents."""

from __future__ import annotations

import re
from pathlib import Path

import skyform.provider
import skyform.providers

PLUGINS_DOC = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text()


def documented_names() -> list[str]:
    """The names in the table under "## The plugin API" of docs/plugins.md."""
    match = re.search(r"^## The plugin API\n(.*?)^## ", PLUGINS_DOC, re.MULTILINE | re.DOTALL)
    assert match, "docs/plugins.md has no '## The plugin API' section"
    return re.findall(r"^\| `([A-Za-z_]+)` \|", match.group(1), re.MULTILINE)


def test_every_public_name_is_documented_and_nothing_else() -> None:
    """A name added to skyform.providers.__all__ without a row in the docs' table fails here (and back)."""
    documented = documented_names()
    assert len(documented) >= 10  # guards against a vacuous pass when the table's format changes
    assert sorted(skyform.providers.__all__) == sorted(documented)


def test_every_public_name_exists() -> None:
    """Each name of __all__ is importable from skyform.providers."""
    missing = [name for name in skyform.providers.__all__ if not hasattr(skyform.providers, name)]
    assert missing == []


def test_the_old_module_name_is_an_alias_of_the_same_objects() -> None:
    """`from skyform.provider import Provider` (plugins written before the move) gets the same classes."""
    assert skyform.provider.__all__ == skyform.providers.__all__
    for name in skyform.providers.__all__:
        assert getattr(skyform.provider, name) is getattr(skyform.providers, name)


def test_the_hook_marker_is_the_one_of_the_package_root() -> None:
    """`from skyform import hookimpl` and `skyform.providers.hookimpl` mark for the same project."""
    from skyform import hookimpl

    assert skyform.providers.hookimpl is hookimpl
