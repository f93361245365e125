"""What a file handed to ``skyform apply`` is: a saved plan, a mission, or neither.

The plan's header decides, never the file name or its first character: a file is a plan
exactly when it opens with ``{"format": "skyform-plan"`` (how :meth:`Plan.save` writes it),
so a damaged or truncated plan is still recognised as a plan (and refused as damaged, never
read as a mission), and a mission written as JSON (valid YAML) is still a mission. A file
that is neither is refused with what each would need.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from ..errors import UsageError

#: The saved plan's header (:meth:`Plan.save` writes it): defined here, where a file is told
#: apart, so that reading a mission's files never imports the plan model (start-up time).
PLAN_FORMAT = "skyform-plan"
PLAN_FORMAT_VERSION = 2

#: the header: the first key of the top-level object, ``format``, naming this format (or
#: a plan of format 1, from before the header had a name, so it is refused as a plan)
_HEADER = re.compile(rb'\A\s*\{\s*"format"\s*:\s*(?:"' + re.escape(PLAN_FORMAT.encode()) + rb'"|1\s*[,}])')
_HEAD_BYTES = 256
MISSION_SUFFIXES = (".yaml", ".yml")

FileKind = Literal["plan", "mission"]


def has_plan_header(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) opens with a skyform plan's header."""
    return _HEADER.match(head) is not None


def is_plan_file(path: Path) -> bool:
    """True when ``path`` is a file that opens with a skyform plan's header."""
    try:
        with path.open("rb") as fh:
            return has_plan_header(fh.read(_HEAD_BYTES))
    except OSError:
        return False


def kind_of(path: Path) -> FileKind:
    """``plan`` or ``mission`` for what ``apply`` was given; UsageError (exit 64) for neither.

    A directory is a mission. A file is a plan by its header; otherwise a mission when it is
    a YAML mapping that says it is one (``apiVersion`` or ``kind``) or is named ``*.yaml``
    / ``*.yml`` (the mission loader then reports its problems with lines).
    """
    if not path.is_file():
        return "mission"  # a directory, or a missing path the mission loader names
    if is_plan_file(path):
        return "plan"
    if path.suffix in MISSION_SUFFIXES or _says_it_is_a_mission(path):
        return "mission"
    raise UsageError(
        f"{path} is neither a saved plan nor a mission",
        hint=(
            f'a saved plan (written by `skyform plan -o FILE`) opens with {{"format": "{PLAN_FORMAT}", '
            f'"format_version": {PLAN_FORMAT_VERSION}, ...}}; a mission is a YAML (or JSON) mapping with '
            "apiVersion: skyform/v1 and kind: Mission, in a *.yaml file or a directory of them"
        ),
    )


def _says_it_is_a_mission(path: Path) -> bool:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="safe").load(path.read_bytes())
    except (OSError, YAMLError, ValueError, UnicodeError):
        return False
    return isinstance(document, dict) and ("apiVersion" in document or "kind" in document)
