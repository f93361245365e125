"""Meta-test: the six built-in providers and the `skyform plugin new` scaffold share one layout.

The layout (docs/plugins.md, "The package layout") in checks a failure message can name:

- ``plugin.py``: the ``skyform_providers`` hook, returning ``provider.PROVIDER``;
- ``provider.py``: ``PROVIDER``; its settings schema and secret settings come from ``schemas.py``;
- one module per kind, named after it (``task.py``), holding ``<Name>Kind`` (``TaskKind``);
- ``simulator/``: the only sub-package, its ``Simulator`` subclass in ``simulator/server.py``
  and exported by ``simulator/__init__.py``, composed of handler objects rather than mixins
  (its only base class is ``Simulator``).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from skyform.cli.plugin import render_plugin
from skyform.providers import Provider
from skyform.sandbox.simulator import Simulator, SimulatorOptions

ROOT = Path(__file__).resolve().parents[2]
BUILT_INS = sorted(p.name for p in (ROOT / "plugins").glob("skyform_*") if (p / "__init__.py").is_file())
SCAFFOLD = "skyform_layoutprobe"


@pytest.fixture(scope="module")
def scaffold_on_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package `skyform plugin new layoutprobe` writes, importable for the duration of the module."""
    target = render_plugin("layoutprobe", tmp_path_factory.mktemp("scaffold"))
    sys.path.insert(0, str(target))
    try:
        yield target / SCAFFOLD
    finally:
        sys.path.remove(str(target))
        for name in [n for n in sys.modules if n == SCAFFOLD or n.startswith(SCAFFOLD + ".")]:
            del sys.modules[name]


def _package(name: str, request: pytest.FixtureRequest) -> tuple[ModuleType, Path]:
    if name == SCAFFOLD:
        request.getfixturevalue("scaffold_on_path")
    package = importlib.import_module(name)
    assert package.__file__ is not None
    return package, Path(package.__file__).parent


def _module_name(kind_name: str) -> str:
    """``Task`` -> ``task``, ``GroundTruth`` -> ``ground_truth``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind_name).lower()


PACKAGES = [*BUILT_INS, SCAFFOLD]


def test_the_six_built_ins_are_all_checked() -> None:
    """The glob finds every built-in provider package, so none escapes the layout checks."""
    assert BUILT_INS == [
        "skyform_cvat",
        "skyform_dronebundle",
        "skyform_itwin",
        "skyform_local",
        "skyform_nodeodm",
        "skyform_satellogic",
    ]


@pytest.mark.parametrize("name", PACKAGES)
def test_plugin_module_registers_the_provider_object(name: str, request: pytest.FixtureRequest) -> None:
    """``plugin.skyform_providers()`` returns exactly ``provider.PROVIDER``."""
    _package(name, request)
    plugin = importlib.import_module(f"{name}.plugin")
    provider = importlib.import_module(f"{name}.provider")
    assert isinstance(provider.PROVIDER, Provider), f"{name}.provider.PROVIDER is not a Provider"
    assert plugin.skyform_providers() == [provider.PROVIDER], f"{name}.plugin must return [provider.PROVIDER]"


@pytest.mark.parametrize("name", PACKAGES)
def test_settings_schema_and_secrets_live_in_schemas(name: str, request: pytest.FixtureRequest) -> None:
    """``schemas.SETTINGS_SCHEMA`` and ``schemas.SECRET_SETTINGS`` are what the Provider declares."""
    _package(name, request)
    provider = importlib.import_module(f"{name}.provider").PROVIDER
    schemas = importlib.import_module(f"{name}.schemas")
    assert provider.settings_schema is schemas.SETTINGS_SCHEMA, f"{name}: settings schema not from schemas.py"
    assert provider.secret_settings == schemas.SECRET_SETTINGS, f"{name}: secret settings not from schemas.py"


@pytest.mark.parametrize("name", PACKAGES)
def test_each_kind_is_NameKind_in_a_module_named_after_it(name: str, request: pytest.FixtureRequest) -> None:
    """Kind ``Task`` is the class ``TaskKind`` defined in ``<package>/task.py``."""
    _package(name, request)
    provider = importlib.import_module(f"{name}.provider").PROVIDER
    for kind in provider.kinds:
        cls = type(kind)
        where = f"{cls.__module__}.{cls.__qualname__}"
        assert cls.__name__ == f"{kind.name}Kind", f"{name}: kind {kind.name} is the class {where}"
        assert cls.__module__ == f"{name}.{_module_name(kind.name)}", (
            f"{name}: kind {kind.name} belongs in {_module_name(kind.name)}.py, not {cls.__module__}"
        )


@pytest.mark.parametrize("name", PACKAGES)
def test_simulator_is_the_only_sub_package_with_its_server_module(name: str, request: pytest.FixtureRequest) -> None:
    """``simulator/`` is the only sub-package; the Simulator class is in ``simulator/server.py``."""
    _, directory = _package(name, request)
    sub_packages = sorted(p.name for p in directory.iterdir() if (p / "__init__.py").is_file())
    provider = importlib.import_module(f"{name}.provider").PROVIDER
    if provider.simulator is None:
        assert sub_packages == [], f"{name} has no simulator, so no sub-packages: {sub_packages}"
        return
    assert sub_packages == ["simulator"], f"{name}: sub-packages {sub_packages}, expected only simulator/"
    cls = type(provider.simulator(SimulatorOptions()))
    assert cls.__module__ == f"{name}.simulator.server", f"{name}: {cls.__name__} is defined in {cls.__module__}"
    exported = importlib.import_module(f"{name}.simulator")
    assert getattr(exported, cls.__name__, None) is cls, f"{name}.simulator does not export {cls.__name__}"
    assert cls.__name__ in getattr(exported, "__all__", ()), f"{name}.simulator.__all__ lacks {cls.__name__}"


@pytest.mark.parametrize("name", PACKAGES)
def test_simulator_is_composed_not_mixed(name: str, request: pytest.FixtureRequest) -> None:
    """The Simulator subclass has no mixins: its parts are handler objects it holds."""
    _package(name, request)
    provider = importlib.import_module(f"{name}.provider").PROVIDER
    if provider.simulator is None:
        pytest.skip(f"{name} has no simulator")
    cls = type(provider.simulator(SimulatorOptions()))
    bases = [base.__qualname__ for base in cls.__bases__]
    assert cls.__bases__ == (Simulator,), f"{name}: {cls.__name__} mixes in {bases}; compose handler objects"
