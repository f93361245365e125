"""What a provider says a finished resource produced: datasets and their files.

A provider's kind describes its products through :meth:`ResourceKind.datasets` (the engine
never knows that an orthophoto is a NodeODM product): each :class:`Dataset` becomes one
STAC Item and one PROV entity. Checksums are never taken from a service: an
:class:`Asset` that skyform stored names the file and the sha256 skyform computed when it
wrote it, and the catalog hashes the bytes again before it publishes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Asset:
    """One file of a dataset: stored by skyform (``path``) or kept by the service (``href``)."""

    key: str
    media_type: str
    roles: tuple[str, ...] = ("data",)
    title: str = ""
    path: str | None = None  # a file skyform stored; its bytes are hashed and copied as-is
    sha256: str | None = None  # the digest skyform recorded when it stored ``path``
    size: int | None = None
    href: str | None = None  # a remote object (no bytes here): a URL or a service URN


@dataclass(frozen=True)
class Dataset:
    """One product of a resource: a STAC Item (``key`` is unique within the resource)."""

    key: str
    title: str
    assets: tuple[Asset, ...] = ()
    geometry: dict[str, Any] | None = None  # GeoJSON in WGS84, when the service or the spec gives it
    datetime: str | None = None  # RFC 3339; else the operation's start and end are used
    proj_code: str | None = None  # e.g. "EPSG:32632", from the product itself
    proj_bbox: tuple[float, ...] | None = None  # in ``proj_code``'s coordinates
    software: dict[str, str] = field(default_factory=dict)  # name -> version, as the service reported
    options: dict[str, Any] = field(default_factory=dict)  # the processing options used
    lineage: str = ""  # one sentence: how the product was made
    role: str = "product"  # "input" for data that enters a mission (photos), else "product"
    properties: dict[str, Any] = field(default_factory=dict)  # further item properties, namespaced
