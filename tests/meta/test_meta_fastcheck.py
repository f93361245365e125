"""The jsonschema-rs fast path never accepts what jsonschema (the reference) rejects.

For every installed kind, the specs of the example missions are mutated systematically
(each field removed, retyped, pushed out of range, extra keys added, one level deep) and
both validators judge every case. SchemaCheck trusts jsonschema-rs only when it accepts,
so the property that matters is: rs-valid implies reference-valid.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skyform.providers.host import load_registry
from skyform.spec.envelope import MISSION_SCHEMA
from skyform.spec.mission import load
from skyform.validate.checks import SchemaCheck

ROOT = Path(__file__).resolve().parents[2]
ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    10**12,
    -(10**12),
    1.5,
    "",
    "x" * 3000,
    "2026-13-45",
    "not a date",
    True,
    [],
    [1, "a"],
    {},
    {"zzz": 1},
]


def mutations(instance: Any, depth: int = 0) -> Iterator[Any]:
    if not isinstance(instance, dict):
        return
    yield {**instance, "zzz_unknown": 1}
    for key, value in instance.items():
        rest = {k: v for k, v in instance.items() if k != key}
        yield rest
        for odd in ODD_VALUES:
            yield {**rest, key: odd}
        if depth < 1 and isinstance(value, dict):
            for inner in mutations(value, depth + 1):
                yield {**rest, key: inner}
        if depth < 1 and isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in mutations(value[0], depth + 1):
                yield {**rest, key: [inner] + value[1:]}


def example_specs() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for mission_dir in sorted((ROOT / "specs").iterdir()):
        if not mission_dir.is_dir() or not any(mission_dir.glob("*.yaml")):
            continue
        mission = load(mission_dir)
        for resource in mission.resources.values():
            plain = json.loads(json.dumps(resource.spec))
            if "${{" not in json.dumps(plain):
                out.setdefault(resource.type, []).append(plain)
    return out


REGISTRY = load_registry()
EXAMPLES = example_specs()


def _judge(check: SchemaCheck, instance: Any) -> tuple[bool, bool]:
    reference_valid = not list(check.reference.iter_errors(instance))
    return bool(check.fast.is_valid(instance)), reference_valid


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_fast_path_never_accepts_what_the_reference_rejects(type_name: str) -> None:
    """Every mutated spec of the kind: jsonschema-rs valid ⇒ jsonschema valid."""
    _, kind = REGISTRY.resolve_type(type_name)
    check = SchemaCheck(kind.spec_schema)
    assert check.fast is not None, "jsonschema-rs did not compile the schema"
    cases = 0
    for base in EXAMPLES[type_name]:
        for case in [base, *mutations(copy.deepcopy(base))]:
            fast, reference = _judge(check, case)
            cases += 1
            assert not (fast and not reference), f"jsonschema-rs accepted what jsonschema rejects: {case!r}"
    assert cases > 1


def test_fast_path_on_the_mission_envelope() -> None:
    """The envelope schema: same property on mutated example missions."""
    check = SchemaCheck(MISSION_SCHEMA)
    for mission_dir in sorted((ROOT / "specs").iterdir()):
        if mission_dir.is_dir() and any(mission_dir.glob("*.yaml")):
            document = json.loads(json.dumps(load(mission_dir).document))
            for case in [document, *mutations(document)]:
                fast, reference = _judge(check, case)
                assert not (fast and not reference), f"{mission_dir.name}: {case!r}"
