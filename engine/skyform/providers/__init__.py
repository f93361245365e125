"""The public plugin API: everything a provider plugin imports from skyform, and nothing else.

``__all__`` below is exactly the table in ``docs/plugins.md`` ("The plugin API"); a meta-test
fails when a name is added here without its documentation. The rest of this package is
the engine's side: :mod:`.base` defines the provider model, :mod:`.hookspecs` the hooks,
:mod:`.hooks` calls them with types, :mod:`.host` builds the plugin manager and the
registry of what plugins offer, and :mod:`.entrypoints` finds the plugins' entry points.
``from skyform import hookimpl`` keeps working too.
"""

from __future__ import annotations

from .. import hookimpl
from ..artifacts.digest import Digest
from .base import (
    ALL_FIELDS,
    Change,
    ChangePlan,
    CheckContext,
    OperationContext,
    Provider,
    Record,
    Reporter,
    ResourceKind,
    Result,
    Status,
)
from .cost import Confidence, Cost
from .irreversibility import Irreversibility, Reversibility

__all__ = [
    "ALL_FIELDS",
    "Change",
    "ChangePlan",
    "CheckContext",
    "Confidence",
    "Cost",
    "Digest",
    "Irreversibility",
    "OperationContext",
    "Provider",
    "Record",
    "Reporter",
    "ResourceKind",
    "Result",
    "Reversibility",
    "Status",
    "hookimpl",
]
