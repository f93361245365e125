"""The option list the simulated node serves at ``GET /options``.

``odm_options.json`` is ODM 3.5.5's own option definitions (``opendm/config.py`` at tag
v3.5.5, commit 75e1be5b662d87d0c50726c0adae704e16ee4b70) as NodeODM's
``helpers/odmOptionsToJson.py`` dumps them (regenerate with :mod:`.odm_dump`);
:func:`.odm_info.published_options` turns them into what NodeODM 2.2.4 publishes.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from .odm_info import published_options


@lru_cache(maxsize=1)
def odm_dump() -> dict[str, dict[str, str]]:
    """ODM 3.5.5's argparse definitions, ``{flag: {kwarg: str(value)}}``."""
    text = resources.files(__package__).joinpath("odm_options.json").read_text(encoding="utf-8")
    dump: dict[str, dict[str, str]] = json.loads(text)
    return dump


@lru_cache(maxsize=1)
def _published() -> list[dict[str, Any]]:
    return published_options(odm_dump())


def options() -> list[dict[str, Any]]:
    """The ``GET /options`` answer: ``[{name, type, value, domain, help}]`` (a fresh copy)."""
    return copy.deepcopy(_published())
