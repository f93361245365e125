"""Artifacts in a content-addressed store: inputs and outputs kept once by sha256, any fsspec URL.

``store.py`` is the store (``put``, ``open``, ``fetch``, ``exists``, ``ls``, ``gc``) and why a
killed writer leaves nothing half-visible; ``digest.py`` the ``Digest`` records keep;
``location.py`` where a mission's store is (``settings.artifacts``, ``SKYFORM_ARTIFACTS``,
else ``.skyform/store``) and the S3 client options; ``references.py`` which recorded
resources refer to which objects. Providers reach the store as ``ctx.artifacts``
(docs/plugins.md); people as ``skyform artifacts ls|get|gc`` (docs/artifacts.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .digest import Digest
    from .location import open_store, store_at
    from .store import ArtifactStore, StoredObject, VerifiedReader

__all__ = ["ArtifactStore", "Digest", "StoredObject", "VerifiedReader", "open_store", "store_at"]

_LAZY = {
    "Digest": "digest",
    "open_store": "location",
    "store_at": "location",
    "ArtifactStore": "store",
    "StoredObject": "store",
    "VerifiedReader": "store",
}


def __getattr__(name: str) -> Any:
    # the plugin API re-exports Digest, so every provider (and `skyform validate`) imports
    # .digest; the store and its file system (shutil, secrets) load on first use (issue 16)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
