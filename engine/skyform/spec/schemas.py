"""The exported JSON Schemas: one composite mission schema and one schema per kind.

The composite schema (``mission.schema.json``) is what editors (yaml-language-server) and
check-jsonschema use: the envelope, each provider's settings, and each resource's ``spec``
chosen by its ``type``. Since any field may hold a ``${{ ... }}`` expression, the exported
kind schemas accept an expression string wherever a value is expected.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .envelope import MISSION_SCHEMA

EXPRESSION = {"type": "string", "pattern": r"^.*\$\{\{.*\}\}.*$", "description": "a ${{ ... }} expression"}
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains")


def allow_expressions(schema: Any, top: bool = True) -> Any:
    """A copy of ``schema`` in which every value position also accepts an expression string."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in _SUBSCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: allow_expressions(v, False) for k, v in out[key].items()}
    for key in _SUBSCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [allow_expressions(v, True) for v in out[key]]
    if isinstance(out.get("prefixItems"), list):
        out["prefixItems"] = [allow_expressions(v, False) for v in out["prefixItems"]]
    for key in _SUBSCHEMA_ONE:
        if isinstance(out.get(key), dict):
            out[key] = allow_expressions(out[key], key in ("not", "if"))
    if top or not any(k in out for k in ("type", "enum", "const", "format", "pattern")):
        return out
    return {"anyOf": [out, EXPRESSION]}


def kind_schema(type_name: str, kind: Any) -> dict[str, Any]:
    schema = allow_expressions(copy.deepcopy(dict(kind.spec_schema)))
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema["$id"] = f"https://skyform.dev/schemas/kinds/{type_name}.json"
    schema.setdefault("title", f"{type_name} spec")
    if kind.description:
        schema.setdefault("description", kind.description)
    return schema


def composite(registry: Any) -> dict[str, Any]:
    """The mission schema with every installed kind and provider settings schema inlined."""
    schema = copy.deepcopy(MISSION_SCHEMA)
    defs: dict[str, Any] = {}
    branches = []
    for type_name in registry.all_types():
        _, kind = registry.resolve_type(type_name)
        # embedded with its own $id, so its internal "#/$defs/..." references still resolve
        defs[type_name] = kind_schema(type_name, kind)
        branches.append(
            {
                "if": {"properties": {"type": {"const": type_name}}, "required": ["type"]},
                "then": {"properties": {"spec": {"$ref": f"#/$defs/{type_name}"}}},
            }
        )
    resource = schema["properties"]["resources"]["additionalProperties"]
    resource["properties"]["type"] = {"enum": registry.all_types(), "description": "<provider>.<Kind>"}
    resource["allOf"] = branches
    providers = schema["properties"]["providers"]
    providers["properties"] = {
        name: allow_expressions(copy.deepcopy(dict(p.settings_schema)))
        for name, p in sorted(registry.providers.items())
    }
    schema["$defs"] = defs
    return schema


def export(registry: Any, directory: Path) -> list[Path]:
    """Write ``mission.schema.json`` and ``kinds/<type>.json``; return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kinds").mkdir(exist_ok=True)
    written = []
    path = directory / "mission.schema.json"
    path.write_text(json.dumps(composite(registry), indent=2, sort_keys=False) + "\n")
    written.append(path)
    for type_name in registry.all_types():
        _, kind = registry.resolve_type(type_name)
        path = directory / "kinds" / f"{type_name}.json"
        path.write_text(json.dumps(kind_schema(type_name, kind), indent=2) + "\n")
        written.append(path)
    for stale in (directory / "kinds").glob("*.json"):
        if stale not in written:
            stale.unlink()
    return written
