"""Fixtures for the plugin-author kit tests: an example provider, its registry, a sandbox dir.

The example provider ``kitdemo`` is the package ``skyform plugin new kitdemo`` generates
(a Job kind and a simulator of a small job service), rendered once per test session and
imported from there, so the kit is tested against exactly what plugin authors start from.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from skyform.cli.plugin import render_plugin

# the kit's fixtures, as `-p skyform.testing` would provide them
from skyform.testing import mission_dir, run_skyform, sandbox, state_store, write_mission  # noqa: F401

_RENDERED = Path(tempfile.mkdtemp(prefix="skyform-kit-"))
atexit.register(shutil.rmtree, _RENDERED, True)
KITDEMO_DIR = render_plugin("kitdemo", _RENDERED)
sys.path.insert(0, str(KITDEMO_DIR))

from skyform_kitdemo import plugin as kitdemo_plugin
from skyform_kitdemo.provider import PROVIDER as KITDEMO


@pytest.fixture
def kitdemo():
    """The example provider object (not installed as a distribution)."""
    return KITDEMO


@pytest.fixture
def registry() -> Any:
    """A registry holding only the example provider (no entry points loaded)."""
    from skyform.providers.host import build_plugin_manager, load_registry

    return load_registry(build_plugin_manager([kitdemo_plugin], autoload=False))
