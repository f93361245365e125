"""Records made in another checkout, or by an older version, in the form recorded today.

A value a kind records in a checkout-dependent form (``local.Files`` recorded absolute
paths until it recorded them relative to the mission directory) is copied by expressions
into its dependants' specs: a ``nodeodm.Task``'s immutable ``images``. Compared as they
stand, the old record and today's desired spec differ, and the paid task is replaced.

Each kind says which of its recorded values it now writes differently and what they became
(:meth:`~skyform.providers.base.ResourceKind.relocate`); :func:`relocated` rewrites every
equal string in every record of the mission, the dependants included, as one step. The
planner plans from the relocated records (an unchanged mission plans "No changes"), and
``apply`` writes them in its first transaction, so the state is upgraded all at once: a
mapping is only ever proved by the record that made the value, which must not be written
in the new form while its dependants keep the old one.

:func:`mission_form` is the other half: an absolute path inside the mission directory
and its relative form name the same file, whichever of the two a spec or record holds.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import SkyformError
from ..providers.base import Record, ResourceKind
from ..runtime import Runtime
from ..state.base import ResourceState

log = logging.getLogger("skyform.plan")


#: the records in today's form, and those of them that changed
Relocation = tuple[dict[str, ResourceState], list[ResourceState]]


def relocated(records: Mapping[str, ResourceState], runtime: Runtime) -> Relocation:
    """``records`` with every value a kind relocates rewritten, and the ones that changed
    (copies: the caller's records are left as they were)."""
    directory = runtime.mission.directory.resolve()
    mapping: dict[str, str] = {}
    kinds: dict[str, ResourceKind | None] = {}
    for rs in records.values():
        if rs.type not in kinds:
            try:
                kind = runtime.kind(rs.type)[1]
            except SkyformError:
                kind = None  # provider not installed: nothing it could prove
            # most kinds relocate nothing: their records are not even decoded to find out
            kinds[rs.type] = kind if kind is not None and type(kind).relocate is not ResourceKind.relocate else None
        kind = kinds[rs.type]
        if kind is None:
            continue
        try:
            found = kind.relocate(_record(rs), directory)
        except Exception:  # a provider bug must not stop planning: the record stays as it is
            log.debug("relocating %s failed", rs.address, exc_info=True)
            continue
        mapping.update(found)
    if not mapping:
        return dict(records), []
    out: dict[str, ResourceState] = {}
    changed: list[ResourceState] = []
    for address, rs in records.items():
        fields = {name: _rewrite(getattr(rs, name), mapping) for name in ("spec", "outputs", "observed")}
        if all(fields[name] is getattr(rs, name) for name in fields):
            out[address] = rs
            continue
        out[address] = dataclasses.replace(rs, **fields)
        changed.append(out[address])
    return out, changed


def _record(rs: ResourceState) -> Record:
    """The record as ``relocate`` reads it: its values as stored (an unknown stays its stored
    marker, which no kind relocates), without ``to_record``'s copy of every spec: this runs
    over every record of a mission at every plan (~2% of a 10,000-resource re-plan)."""
    return Record(
        address=rs.address,
        type=rs.type,
        remote_id=rs.remote_id,
        status=rs.status,
        spec=rs.spec,
        outputs=rs.outputs,
        observed=rs.observed,
        private=rs.private,
        idempotency_key=rs.idempotency_key,
        intent_at=rs.intent_at,
    )


def _rewrite(value: Any, mapping: Mapping[str, str]) -> Any:
    """``value`` with mapped strings replaced; the very same object when none was."""
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, dict):
        items = {k: _rewrite(v, mapping) for k, v in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    if isinstance(value, list):
        listed = [_rewrite(v, mapping) for v in value]
        return value if all(a is b for a, b in zip(listed, value, strict=True)) else listed
    return value


def mission_form(value: Any, directory: Path) -> Any:
    """``value`` with each absolute path inside ``directory`` written relative to it (POSIX),
    the form ``local.Files`` records: two spellings of one file compare equal."""
    if isinstance(value, str):
        return relative_path(value, directory)
    if isinstance(value, dict):
        return {k: mission_form(v, directory) for k, v in value.items()}
    if isinstance(value, list):
        return [mission_form(v, directory) for v in value]
    return value


def relative_path(path: str, directory: Path) -> str:
    """``path`` relative to ``directory`` (POSIX) when it is an absolute path inside it, else as it is."""
    if not Path(path).is_absolute():
        return path
    try:
        return PurePosixPath(path).relative_to(directory.as_posix()).as_posix()
    except ValueError:
        return path
