"""Finding what a crashed create made: CVAT has no client-chosen ids or idempotency keys.

An object counts as ours when it carries the spec's name (and parent) and was created at or
after the intent the engine recorded before calling create. One match is adopted; several
are ambiguous and raise AdoptError, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from skyform.errors import AdoptError


def created_after(objects: Iterable[Any], intent_at: float, what: str) -> Any | None:
    """The single object created since ``intent_at`` (None when there is none)."""
    found = [o for o in objects if o.created_date.timestamp() >= intent_at]
    if len(found) > 1:
        ids = sorted(str(o.id) for o in found)
        raise AdoptError(
            f"CVAT: {len(found)} {what}s match since the interrupted create ({', '.join(ids)}); "
            "cannot tell which one skyform made",
            provider="cvat",
            candidates=ids,
            hint="delete the extra ones in CVAT (or import the right id into state), then apply again",
        )
    return found[0] if found else None
