"""Label sets of projects and tasks: their schema, their rules and how they are compared.

CVAT labels have a name, a colour, a type and attributes (name, input_type, mutable, values,
default_value). The spec uses CVAT's names; ``mutable`` and ``values`` get CVAT's defaults
(false, []) so a short spec works. ``observed_labels`` reports the remote labels in the shape
of the applied spec (only the keys the spec gave), so an unchanged set shows no drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from skyform.errors import Issue
from skyform.spec.values import is_known

INPUT_TYPES = ["checkbox", "radio", "number", "text", "select"]
LABEL_TYPES = ["any", "rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton", "tag"]

ATTRIBUTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "input_type"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 64, "description": "Attribute name."},
        "input_type": {"enum": INPUT_TYPES, "description": "How annotators enter the value."},
        "mutable": {"type": "boolean", "description": "Whether the value may change between frames (default false)."},
        "values": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Choices (select/radio), [min, max, step] (number), ['true'|'false'] (checkbox).",
        },
        "default_value": {"type": "string", "description": "The value a new annotation starts with."},
    },
}

LABEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 64, "description": "Label name, unique in its set."},
        "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$", "description": "Display colour, #rrggbb."},
        "type": {"enum": LABEL_TYPES, "description": "Shape type the label is meant for (default any)."},
        "attributes": {"type": "array", "items": ATTRIBUTE_SCHEMA, "description": "Attributes of the label."},
    },
}

LABELS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": LABEL_SCHEMA,
    "description": "The label set: [{name, color?, type?, attributes?}].",
}


def check_labels(labels: Any, path: tuple[str | int, ...] = ("labels",)) -> Iterable[Issue]:
    """Rules the schema cannot state: unique names, attribute values fitting the input type."""
    if not isinstance(labels, list) or not is_known(labels):
        return
    seen: set[str] = set()
    for i, label in enumerate(labels):
        if not isinstance(label, dict):
            continue
        name = str(label.get("name"))
        if name in seen:
            yield Issue(path + (i, "name"), f"label {name!r} appears twice; label names must be unique")
        seen.add(name)
        for j, attr in enumerate(label.get("attributes") or []):
            if not isinstance(attr, dict):
                continue
            where = path + (i, "attributes", j)
            values = attr.get("values") or []
            kind = attr.get("input_type")
            if kind in ("select", "radio") and not values:
                yield Issue(where + ("values",), f"a {kind} attribute needs at least one value")
            if kind == "number":
                if len(values) != 3 or not all(_is_number(v) for v in values):
                    yield Issue(where + ("values",), "a number attribute needs values [min, max, step]")
                elif float(values[0]) > float(values[1]):
                    yield Issue(where + ("values",), f"min {values[0]} is greater than max {values[1]}")
            if kind == "checkbox" and values and values[0] not in ("true", "false"):
                yield Issue(where + ("values",), "a checkbox attribute's value is 'true' or 'false'")
            default = attr.get("default_value")
            if default is not None and kind in ("select", "radio") and default not in values:
                yield Issue(where + ("default_value",), f"default_value {default!r} is not one of {values}")


def _is_number(value: str) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def label_requests(labels: list[Mapping[str, Any]]) -> list[Any]:
    """The SDK request models (PatchedLabelRequest) for a spec's label list."""
    from cvat_sdk.api_client import models

    out = []
    for label in labels:
        fields: dict[str, Any] = {"name": label["name"]}
        if label.get("color"):
            fields["color"] = label["color"]
        if label.get("type"):
            fields["type"] = label["type"]
        attributes = []
        for attr in label.get("attributes") or []:
            values = list(attr.get("values") or ([] if attr["input_type"] != "checkbox" else ["false"]))
            item: dict[str, Any] = {
                "name": attr["name"],
                "input_type": attr["input_type"],
                "mutable": bool(attr.get("mutable", False)),
                "values": values,
            }
            if attr.get("default_value") is not None:
                item["default_value"] = attr["default_value"]
            attributes.append(models.AttributeRequest(**item))
        if attributes:
            fields["attributes"] = attributes
        out.append(models.PatchedLabelRequest(**fields))
    return out


def observed_labels(remote: list[Any], applied: Any) -> list[dict[str, Any]]:
    """Remote labels as the applied spec wrote them (keys the spec did not give are left out)."""
    spec_by_name = {lb.get("name"): lb for lb in applied or [] if isinstance(lb, dict)}
    out = []
    for label in sorted(remote, key=lambda lb: lb.id):
        given = spec_by_name.get(label.name, {})
        item: dict[str, Any] = {"name": label.name}
        if "color" in given:
            item["color"] = label.color
        if "type" in given:
            item["type"] = str(getattr(label, "type", "any"))
        if "attributes" in given:
            spec_attrs = {a.get("name"): a for a in given.get("attributes") or []}
            attrs = []
            for attr in label.attributes:
                want = spec_attrs.get(attr.name, {})
                row: dict[str, Any] = {"name": attr.name, "input_type": str(attr.input_type)}
                for key in ("mutable", "values", "default_value"):
                    if key in want:
                        row[key] = getattr(attr, key)
                        if key == "values":
                            row[key] = list(row[key])
                attrs.append(row)
            item["attributes"] = attrs
        out.append(item)
    return out


def label_names(labels: Any) -> dict[str, Mapping[str, Any]]:
    """Label name → label spec, for comparing label sets."""
    return {lb["name"]: lb for lb in labels or [] if isinstance(lb, dict) and "name" in lb}


#: label fields CVAT changes in place, keeping the label's annotations
IN_PLACE_LABEL_FIELDS = frozenset({"color"})


def replace_reason(before: Any, after: Any) -> str | None:
    """Why changing a label set from ``before`` to ``after`` needs a new project or task, or
    None when CVAT can do it in place (labels added, colours changed)."""
    old, new = label_names(before), label_names(after)
    removed = [n for n in old if n not in new]
    if removed:
        return f"CVAT cannot remove label(s) {', '.join(removed)} without deleting their annotations"
    for name, label in old.items():
        fields = sorted(
            k
            for k in set(label) | set(new[name])
            if k not in IN_PLACE_LABEL_FIELDS and label.get(k) != new[name].get(k)
        )
        if fields:
            return (
                f"label {name}: {' and '.join(fields)} cannot change in place; CVAT would delete "
                "the label's annotations"
            )
    return None


def recolour(sdk: Any, remote: Iterable[Any], wanted: list[Mapping[str, Any]]) -> None:
    """PATCH /api/labels/{id} for each remote label whose colour the spec changed (its
    annotations stay); called inside the caller's ``sdk_errors``."""
    from cvat_sdk.api_client import models

    colours = {lb["name"]: lb["color"] for lb in wanted if lb.get("color")}
    for label in remote:
        colour = colours.get(label.name)
        if colour and colour.lower() != str(label.color).lower():
            request = models.PatchedLabelRequest(color=colour)
            sdk.api_client.labels_api.partial_update(label.id, patched_label_request=request)
