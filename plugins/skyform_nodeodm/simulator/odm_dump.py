"""Regenerate ``odm_options.json``: ODM's own argparse definitions, dumped as NodeODM dumps them.

NodeODM learns its options by running ``helpers/odmOptionsToJson.py`` against ODM's
``opendm/config.py``: an ``ArgumentParser`` subclass records every ``add_argument`` call as
``{flag: {kwarg: str(value)}}``. This module does the same against an ODM source checkout, so
the simulator's data file is ODM's definitions, not a hand-written copy::

    git -C ODM checkout v3.5.5   # 75e1be5b662d87d0c50726c0adae704e16ee4b70
    python -m skyform_nodeodm.simulator.odm_dump ODM > odm_options.json

ODM's modules that need its native stack (``opendm.log``, ``appsettings``) are replaced by
empty stand-ins: ``config()`` only uses them after parsing. ``--max-concurrency`` defaults to
the host's core count; the dump pins it to :data:`DUMP_CORES` so the file does not depend on
the machine that made it.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import multiprocessing
import re
import sys
import types
from pathlib import Path
from typing import Any

DUMP_CORES = 4


def _stable(text: str) -> str:
    """``str()`` of a function carries its address; drop it so two dumps compare equal."""
    return re.sub(r" at 0x[0-9a-f]+>", ">", text)


def _stand_in(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def _load(name: str, filename: Path) -> types.ModuleType:
    loader = importlib.machinery.SourceFileLoader(name, str(filename))
    module = types.ModuleType(loader.name)
    module.__file__ = str(filename)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def dump(odm_root: Path) -> dict[str, dict[str, str]]:
    """``{flag: {kwarg: str(value)}}`` for every argument ODM's ``config()`` declares."""
    names = ("opendm", "opendm.context", "opendm.io", "opendm.log", "appsettings", "config")
    saved_modules = {n: sys.modules[n] for n in names if n in sys.modules}
    saved_argv, saved_cpu_count = sys.argv, multiprocessing.cpu_count
    multiprocessing.cpu_count = lambda: DUMP_CORES
    sys.argv = ["run.py", "--project-path", str(odm_root), "bogusname"]
    try:
        return _record(odm_root)
    finally:
        sys.argv, multiprocessing.cpu_count = saved_argv, saved_cpu_count
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(saved_modules)


def _record(odm_root: Path) -> dict[str, dict[str, str]]:
    package = _stand_in("opendm", __path__=[str(odm_root / "opendm")])
    # the submodules as attributes of the stand-in package, as an import would set them
    vars(package)["context"] = _load("opendm.context", odm_root / "opendm" / "context.py")
    vars(package)["io"] = _load("opendm.io", odm_root / "opendm" / "io.py")
    vars(package)["log"] = _stand_in("opendm.log")
    _stand_in("appsettings", SettingsParser=argparse.ArgumentParser)
    config = _load("config", odm_root / "opendm" / "config.py")

    options: dict[str, dict[str, str]] = {}

    class ArgumentParserStub(argparse.ArgumentParser):
        # the recorder of NodeODM 2.2.4's helpers/odmOptionsToJson.py, line for line
        def add_argument(self, *args: Any, **kwargs: Any) -> Any:
            argparse.ArgumentParser.add_argument(self, *args, **kwargs)
            options[args[0]] = {str(k): _stable(str(v)) for k, v in kwargs.items()}

        def add_mutually_exclusive_group(self, **_: Any) -> Any:
            return ArgumentParserStub()

    config.config(parser=ArgumentParserStub())
    return options


if __name__ == "__main__":
    print(json.dumps(dump(Path(sys.argv[1])), indent=1))
