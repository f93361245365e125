"""The documented JSON Schema of a plan: ``skyform plan --json`` and a plan saved with ``-o``.

CI systems read the plan to comment on pull requests, so its figures have a contract:
``cost`` (the total by currency, the resources of unknown cost, the dearest items, the
mission's budget and what is already spent), ``budget`` (every estimate above a ceiling)
and each action's ``cost``. Those parts are strict (``additionalProperties: false``): a
figure added without its schema fails ``tests/engine/test_plan_schema.py``, which checks
real plans against this schema. ``irreversible`` (the actions that cannot be undone), ``approval`` (what
apply needs approved) and ``policy`` are strict too. The rest of the plan
(header, actions) is described and open, since it is the saved plan's contract
(:mod:`.model`), not a report. ``skyform schema export`` writes it as
``schemas/plan.schema.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..providers.cost import Confidence
from ..providers.irreversibility import Reversibility

_MONEY_BY_CURRENCY = {
    "type": "object",
    "description": "currency (as the provider names it: EUR, USD, units) -> amount",
    "additionalProperties": {"type": "number"},
}

COST: dict[str, Any] = {
    "type": "object",
    "description": "What one action's work costs, from its kind's estimate_cost.",
    "additionalProperties": False,
    "required": ["amount", "currency", "basis", "confidence", "firm"],
    "properties": {
        "amount": {"type": "number", "minimum": 0, "description": "the whole work (every occurrence)"},
        "currency": {"type": "string"},
        "basis": {"type": "string", "description": 'what it is computed from: "2 captures x 150.00 EUR"'},
        "confidence": {
            "enum": [str(c) for c in Confidence],
            "description": "quote (the service's figure), operator-price (declared prices), "
            "pre-estimate (checked against the service's figure before submission), rough (a model)",
        },
        "firm": {"type": "boolean", "description": "a firm estimate above lifecycle.max_cost blocks the action"},
        "occurrences": {"type": "integer", "minimum": 2, "description": "recurring work: how many times"},
        "per_occurrence": {"type": "number", "minimum": 0, "description": "recurring work: one occurrence"},
    },
}

BREACH: dict[str, Any] = {
    "type": "object",
    "description": "An estimate above a ceiling: a resource's lifecycle.max_cost or the mission's budget.max.",
    "additionalProperties": False,
    "required": ["address", "estimate", "limit", "currency", "ceiling", "firm", "confidence"],
    "properties": {
        "address": {"type": ["string", "null"], "description": "null: the mission's budget"},
        "estimate": {"type": "number", "description": "the resource's estimate, or the mission's total"},
        "limit": {"type": "number"},
        "currency": {"type": "string"},
        "ceiling": {"enum": ["lifecycle.max_cost", "budget.max"]},
        "firm": {"type": "boolean"},
        "confidence": {"enum": [str(c) for c in Confidence]},
        "items": {
            "type": "array",
            "items": {"type": "string"},
            "description": "a mission breach: the resources its total is made of, dearest first",
        },
        "spent": {"type": "number", "description": "a mission breach: the part of estimate already spent"},
    },
}

PLAN_COST: dict[str, Any] = {
    "type": "object",
    "description": "The plan's cost: only create, replace and update spend.",
    "additionalProperties": False,
    "required": ["total", "unknown", "largest", "budget", "spent"],
    "properties": {
        "total": {**_MONEY_BY_CURRENCY, "description": "currency -> the sum of the plan's estimates in it"},
        "unknown": {
            "type": "array",
            "items": {"type": "string"},
            "description": "spending actions with no estimate (never counted as zero), in plan order",
        },
        "largest": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["address", "amount", "currency"],
                "properties": {
                    "address": {"type": "string"},
                    "amount": {"type": "number"},
                    "currency": {"type": "string"},
                },
            },
        },
        "spent": {
            "type": "object",
            "description": "what the state records as spent already (the services' figures, else the estimates "
            "applied); budget.max caps it together with this plan's total",
            "additionalProperties": False,
            "required": ["total", "estimated"],
            "properties": {
                "total": _MONEY_BY_CURRENCY,
                "estimated": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "resources whose spend is (partly) skyform's estimate, not the service's figure",
                },
            },
        },
        "budget": {
            "description": "the mission's budget as planned against, or null",
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["max", "currency"],
                    "properties": {"max": {"type": "number", "minimum": 0}, "currency": {"type": "string"}},
                },
            ],
        },
    },
}

IRREVERSIBILITY: dict[str, Any] = {
    "type": "object",
    "description": "What an action cannot undo, as its kind declares it (only actions not reversible carry one).",
    "additionalProperties": False,
    "required": ["class", "reason"],
    "properties": {
        "class": {"enum": [str(r) for r in Reversibility if r != Reversibility.REVERSIBLE]},
        "reason": {"type": "string"},
        "until": {
            "type": "string",
            "description": "cancellable-until: the moment, an ISO 8601 instant or an event the service reports",
        },
    },
}

MARKING: dict[str, Any] = {
    "type": "object",
    "description": "One action the plan marks: its address and action, and its irreversibility.",
    "additionalProperties": False,
    "required": ["address", "action", "class", "reason"],
    "properties": {
        "address": {"type": "string"},
        "action": {"enum": ["create", "update", "replace", "delete"]},
        **IRREVERSIBILITY["properties"],
    },
}

APPROVAL: dict[str, Any] = {
    "type": "object",
    "description": "What apply needs approved: skyform approve PLANFILE, or approvals/<mission>.json in gitops.",
    "additionalProperties": False,
    "required": ["needed", "why", "approvers", "ack", "digest"],
    "properties": {
        "needed": {"type": "boolean"},
        "why": {
            "type": "array",
            "items": {"type": "string"},
            "description": "each reason: an irreversible action, or a policy limit the plan goes past",
        },
        "approvers": {"type": "integer", "minimum": 0, "description": "distinct approvers needed"},
        "ack": {"type": "boolean", "description": "--ack-irreversible may stand in (no policy asks for approvals)"},
        "digest": {
            "type": "string",
            "pattern": "^sha256:[0-9a-f]{64}$",
            "description": "the digest of the plan's changes, which a gitops approval names",
        },
    },
}

POLICY: dict[str, Any] = {
    "description": "the mission's policy: as planned against, or null",
    "oneOf": [
        {"type": "null"},
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "max_total": {"type": "number", "minimum": 0},
                "max_per_action": {"type": "number", "minimum": 0},
                "currency": {"type": "string"},
                "irreversible_approvals": {"type": "integer", "minimum": 1},
            },
        },
    ],
}

ACTION: dict[str, Any] = {
    "type": "object",
    "required": ["address", "type", "action", "reason"],
    "properties": {
        "address": {"type": "string"},
        "type": {"type": "string", "description": "<provider>.<Kind>"},
        "action": {"enum": ["create", "update", "replace", "delete", "forget", "resume", "noop", "read"]},
        "reason": {"type": "string"},
        "cost": {"$ref": "#/$defs/cost"},
        "blocked": {"type": "string", "description": "apply fails this action with the message"},
        "irreversibility": {"$ref": "#/$defs/irreversibility"},
    },
}

PLAN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://skyform.dev/schemas/plan.schema.json",
    "title": "skyform plan",
    "description": 'skyform plan --json (one line, with "event": "plan") and a plan saved with -o FILE.',
    "type": "object",
    "required": [
        "format",
        "format_version",
        "mission",
        "serial",
        "has_changes",
        "counts",
        "cost",
        "budget",
        "irreversible",
        "approval",
        "actions",
    ],
    "properties": {
        "event": {"const": "plan", "description": "on the --json line only"},
        "format": {"const": "skyform-plan"},
        "format_version": {"type": "integer"},
        "mission": {"type": "string"},
        "serial": {"type": "integer", "description": "the state serial the plan was made against"},
        "mode": {"enum": ["apply", "destroy", "refresh-only"]},
        "has_changes": {"type": "boolean"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "cost": {"$ref": "#/$defs/plan_cost"},
        "budget": {"type": "array", "items": {"$ref": "#/$defs/breach"}, "description": "empty: within every ceiling"},
        "irreversible": {
            "type": "array",
            "items": {"$ref": "#/$defs/marking"},
            "description": "every action that is not reversible, in plan order",
        },
        "approval": {"$ref": "#/$defs/approval"},
        "policy": {"$ref": "#/$defs/policy"},
        "actions": {"type": "array", "items": {"$ref": "#/$defs/action"}},
    },
    "$defs": {
        "cost": COST,
        "breach": BREACH,
        "plan_cost": PLAN_COST,
        "action": ACTION,
        "irreversibility": IRREVERSIBILITY,
        "marking": MARKING,
        "approval": APPROVAL,
        "policy": POLICY,
    },
}


def export(directory: Path) -> Path:
    """Write ``plan.schema.json`` into ``directory``; return its path."""
    path = directory / "plan.schema.json"
    path.write_text(json.dumps(PLAN_SCHEMA, indent=2) + "\n")
    return path
