"""Provenance of a mission's products, published as a STAC catalog and as W3C PROV.

The flow is one way: :mod:`.lineage` reads state (records, events, each run's provenance
block) into products that know their inputs; :mod:`.stac` writes them as a STAC Catalog →
Collection (the mission) → Items (one per dataset); :mod:`.prov` renders the same graph as
PROV-JSON or text. Providers describe their products with ``ResourceKind.datasets`` and the
types of :mod:`.model`; the engine never knows what an orthophoto is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .model import Asset, Dataset

if TYPE_CHECKING:
    from .lineage import Lineage, collect
    from .stac import ArtifactMismatch, AssetMode, write_catalog

__all__ = ["ArtifactMismatch", "Asset", "Dataset", "Lineage", "collect", "publish", "write_catalog"]

_LAZY = {"Lineage": "lineage", "collect": "lineage", "ArtifactMismatch": "stac", "write_catalog": "stac"}


def __getattr__(name: str) -> Any:
    # every provider imports .model when it is loaded (skyform validate too): the state
    # reader and the STAC writer, which pull in the planner, load on first use instead
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def publish(lineage: Lineage, destination: str, base: Path, *, assets: AssetMode = "copy") -> str:
    """Write the catalog to a directory (relative to ``base``) or to any fsspec URL.

    A URL (``s3://bucket/catalogs/a12``) gets a catalog built in a local temporary directory,
    verified there, then uploaded whole; returns where ``catalog.json`` now is.
    """
    from urllib.parse import urlsplit

    from .stac import write_catalog

    parts = urlsplit(destination)
    if parts.scheme in ("", "file") or len(parts.scheme) == 1:  # a path (C:\\ on Windows has a one-letter scheme)
        folder = Path(parts.path if parts.scheme == "file" else destination)
        folder = folder if folder.is_absolute() else base / folder
        return str(write_catalog(lineage, folder, assets=assets, base=base))
    if assets == "reference":
        raise UsageError(
            "--assets reference points at local files, which a remote catalog cannot reach",
            hint="publish remote catalogs with --assets copy",
        )
    fs = _filesystem(parts.scheme)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="skyform-catalog-") as tmp:
        local = write_catalog(lineage, Path(tmp) / "catalog", assets=assets, base=base).parent
        target = destination.rstrip("/")
        if fs.exists(target):
            fs.rm(target, recursive=True)
        fs.put(str(local) + "/", target, recursive=True)
    return f"{target}/catalog.json"


def _filesystem(protocol: str) -> Any:
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError as exc:
        raise UsageError(
            f"a {protocol}:// catalog needs fsspec (pip install fsspec, plus e.g. s3fs for s3://)"
        ) from exc
    try:
        return fsspec.filesystem(protocol)
    except (ImportError, ValueError) as exc:
        raise UsageError(f"no filesystem for {protocol}:// is installed: {exc}") from exc
