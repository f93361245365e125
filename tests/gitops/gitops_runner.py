"""Runs ``skyform gitops ARGS...`` in its own process, with only the state backends and the local provider."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

import skyform.state.plugin as state_plugin
import skyform_local.plugin as local_plugin
from skyform.cli.gitops import command
from skyform.providers.host import build_plugin_manager, load_registry

registry = load_registry(build_plugin_manager([state_plugin, local_plugin], autoload=False))
code = command.main(sys.argv[1:], obj={"registry": registry}, standalone_mode=False)
sys.exit(int(code or 0))
