"""Runs ``skyform reconcile`` in its own process for the signal tests: ``reconcile_runner.py ARGS...``.

The registry holds only the built-in state backends and the local provider (and the test
notes provider when ``SKYFORM_TEST_NOTES_DIR`` is set).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

import skyform.state.plugin as state_plugin
import skyform_local.plugin as local_plugin
from skyform.cli.reconcile import command
from skyform.providers.host import build_plugin_manager, load_registry

plugins: list[object] = [state_plugin, local_plugin]
if os.environ.get("SKYFORM_TEST_NOTES_DIR"):
    sys.path.insert(0, str(Path(__file__).parent))
    import notes_provider

    plugins.append(notes_provider)
registry = load_registry(build_plugin_manager(plugins, autoload=False))
code = command.main(sys.argv[1:], obj={"registry": registry}, standalone_mode=False)
sys.exit(int(code or 0))
