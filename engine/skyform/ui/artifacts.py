"""A node's artifacts: the datasets its provider describes, their files with the checksums
skyform recorded, and the STAC Item ``skyform catalog`` would write for each."""

from __future__ import annotations

from typing import Any

from ..catalog.lineage import collect
from ..catalog.stac import item_json
from ..errors import StateError
from ..providers.host import Registry
from ..state.base import StateStore
from .views import safe


def artifacts_of(store: StateStore, mission: str, address: str, registry: Registry) -> list[dict[str, Any]]:
    """Each dataset of ``address`` as the node page shows it (none before the first apply)."""
    try:
        lineage = collect(store, mission, registry.resolve_type)
    except StateError:
        return []
    out = []
    for product in lineage.product(address):
        ds = product.dataset
        out.append(
            {
                "id": product.id,
                "title": ds.title,
                "assets": [
                    {"key": a.key, "path": a.path, "href": a.href, "sha256": a.sha256, "size": a.size}
                    for a in ds.assets
                ],
                "stac": safe(item_json(product, lineage)),
            }
        )
    return out
