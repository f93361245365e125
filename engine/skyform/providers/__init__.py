"""The provider host: what a provider is, the hook specifications, and the plugin registry.

Plugin authors import the provider API from here (``from skyform.providers import Provider,
ResourceKind, ...``) and the hook marker from the package root (``from skyform import
hookimpl``). :mod:`.base` defines the provider model, :mod:`.hookspecs` the hooks and
:mod:`.host` builds the plugin manager and the registry of what plugins offer.
"""

from __future__ import annotations

from .base import (
    ALL_FIELDS,
    Change,
    ChangePlan,
    CheckContext,
    Cost,
    OperationContext,
    Provider,
    Record,
    Reporter,
    ResourceKind,
    Result,
    Status,
)

__all__ = [
    "ALL_FIELDS",
    "Change",
    "ChangePlan",
    "CheckContext",
    "Cost",
    "OperationContext",
    "Provider",
    "Record",
    "Reporter",
    "ResourceKind",
    "Result",
    "Status",
]
