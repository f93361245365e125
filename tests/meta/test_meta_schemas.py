"""Meta-tests: the committed schemas are fresh, and every example mission validates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skyform.api import load
from skyform.providers.host import load_registry
from skyform.spec.schemas import composite, kind_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
REGENERATE = "skyform schema export schemas"


def test_committed_mission_schema_is_fresh() -> None:
    """schemas/mission.schema.json equals a fresh export; the failure names the command."""
    registry = load_registry()
    fresh = composite(registry)
    committed = json.loads((SCHEMAS / "mission.schema.json").read_text())
    assert committed == json.loads(json.dumps(fresh)), f"schemas/ is stale: run `{REGENERATE}`"


def test_committed_kind_schemas_are_fresh() -> None:
    """One schemas/kinds/<type>.json per installed kind, each equal to a fresh export."""
    registry = load_registry()
    expected = set(registry.all_types())
    present = {p.stem for p in (SCHEMAS / "kinds").glob("*.json")}
    assert present == expected, f"schemas/kinds is stale: run `{REGENERATE}`"
    for type_name in expected:
        _provider, kind = registry.resolve_type(type_name)
        committed = json.loads((SCHEMAS / "kinds" / f"{type_name}.json").read_text())
        assert committed == json.loads(json.dumps(kind_schema(type_name, kind))), (
            f"schemas/kinds/{type_name}.json is stale: run `{REGENERATE}`"
        )


MISSIONS = sorted(p for p in (ROOT / "specs").iterdir() if p.is_dir() and any(p.glob("*.yaml")))


@pytest.mark.parametrize("mission", MISSIONS, ids=[p.name for p in MISSIONS])
def test_example_mission_validates(mission: Path) -> None:
    """Every example mission in specs/ passes `skyform validate`."""
    loaded, _ = load(mission)
    assert loaded.resources


def test_composite_schema_accepts_examples() -> None:
    """The exported composite schema (what editors use) accepts every example mission."""
    from jsonschema import Draft202012Validator

    from skyform.spec.mission import load as load_mission

    validator = Draft202012Validator(json.loads((SCHEMAS / "mission.schema.json").read_text()))
    for mission in MISSIONS:
        document = load_mission(mission).document
        errors = [e.message for e in validator.iter_errors(json.loads(json.dumps(document)))]
        assert not errors, f"{mission.name}: {errors[:3]}"
