"""skyform.testing: the plugin-author kit, a pytest plugin shipped in the core.

Enable it with ``-p skyform.testing``; it provides the fixtures ``mission_dir``,
``write_mission``, ``run_skyform``, ``sandbox`` and ``state_store``. The provider contract
suite is :class:`skyform.testing.contract.ProviderContract`; :class:`Operations` calls a
kind's operations as the engine does.
"""

from __future__ import annotations

import pytest

# the contract's assertions should explain themselves like a test module's do
pytest.register_assert_rewrite("skyform.testing.contract", "skyform.testing.operations")

from .operations import Operations, find_provider, spec_problems
from .plugin import mission_dir, run_skyform, sandbox, state_store, write_mission, write_mission_files
from .runner import CliRun, run_cli

__all__ = [
    "CliRun",
    "Operations",
    "find_provider",
    "mission_dir",
    "run_cli",
    "run_skyform",
    "sandbox",
    "spec_problems",
    "state_store",
    "write_mission",
    "write_mission_files",
]
