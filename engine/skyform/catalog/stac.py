"""Write a mission's products as a STAC catalog: one Collection per mission, one Item per dataset.

The catalog is built with pystac and saved self-contained (every link relative), so the
directory can be copied or served as it is. Assets skyform stored are placed beside their
Item (a hard link where the filesystem allows, a copy otherwise) and hashed *after* they are
placed: ``file:checksum`` is the sha2-256 multihash of those bytes, and a catalog is refused
when a stored file is missing or its bytes no longer match the digest recorded when skyform
wrote it. The new catalog is written next to the target and moved into place only when
complete, so a failed run leaves the previous catalog untouched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..errors import SkyformError, StateError
from .lineage import Lineage, Product
from .schemas import EXTENSIONS

AssetMode = Literal["copy", "reference"]
STAC_MEDIA = "application/json"


class ArtifactMismatch(StateError):
    """A stored artifact is missing or its bytes differ from the digest skyform recorded."""


def sha256_file(path: Path) -> tuple[str, int]:
    """The sha256 hex digest and size of a file, streamed (orthophotos are gigabytes)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def multihash(hex_digest: str) -> str:
    """A sha2-256 digest as the multihash the File extension wants (0x12, 32 bytes, digest)."""
    return "1220" + hex_digest


def write_catalog(lineage: Lineage, out: Path, *, assets: AssetMode = "copy", base: Path | None = None) -> Path:
    """Write the catalog of ``lineage`` into ``out`` (replaced whole); returns its catalog.json.

    ``base``: the mission directory, which a stored file's relative path (a ``local.Files``
    photo) is relative to."""
    import pystac

    mission = lineage.mission
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    # no dot in the staging name: pystac takes a last path component with a suffix for a file
    staging = Path(tempfile.mkdtemp(prefix="skyform-catalog-", dir=out.parent))
    try:
        catalog = pystac.Catalog(
            id=f"skyform-{mission.name}",
            title=f"skyform: {mission.name}",
            description=f"Products of the skyform mission {mission.name}, with their provenance.",
        )
        items = {p.id: _item(p, lineage) for p in lineage.products}
        collection = pystac.Collection(
            id=mission.name,
            title=mission.name,
            license="other",
            description=f"Datasets produced by the mission {mission.name} (state serial {mission.serial}).",
            extent=_extent(list(items.values())),
            extra_fields={
                "skyform:state_serial": mission.serial,
                "skyform:spec_digest": mission.spec_digest,
                **({"skyform:spec_commit": mission.attributes["commit"]} if mission.attributes.get("commit") else {}),
            },
        )
        catalog.add_child(collection)
        for product in lineage.products:
            collection.add_item(items[product.id])
        for product in lineage.products:
            for source in product.inputs:
                if source in items:
                    items[product.id].add_link(
                        pystac.Link("derived_from", items[source], media_type=STAC_MEDIA, title=source)
                    )
        catalog.normalize_hrefs(str(staging))
        for product in lineage.products:
            _place_assets(items[product.id], product, assets, base)
        catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
        _swap(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise SkyformError(f"cannot write the catalog into {out}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out / "catalog.json"


def item_json(product: Product, lineage: Lineage) -> dict[str, Any]:
    """The STAC Item of one product as JSON, without its assets' files (``skyform ui``)."""
    result: dict[str, Any] = _item(product, lineage).to_dict(include_self_link=False)
    return result


def _item(product: Product, lineage: Lineage) -> Any:
    import pystac
    from pystac.utils import datetime_to_str

    ds = product.dataset
    start, end = _iso(product.operation.started), _iso(product.operation.ended)
    when = datetime.fromisoformat(ds.datetime.replace("Z", "+00:00")) if ds.datetime else None
    geometry = ds.geometry
    props: dict[str, Any] = {"title": ds.title}
    if when is None:
        props.update({"start_datetime": datetime_to_str(start), "end_datetime": datetime_to_str(end)})
    extensions = [EXTENSIONS["file"]] if any(a.path for a in ds.assets) else []
    if ds.proj_code or ds.proj_bbox:
        extensions.append(EXTENSIONS["projection"])
        if ds.proj_code:
            props["proj:code"] = ds.proj_code
        if ds.proj_bbox:
            props["proj:bbox"] = list(ds.proj_bbox)
    if ds.software or ds.lineage:
        extensions.append(EXTENSIONS["processing"])
        if ds.software:
            props["processing:software"] = dict(ds.software)
        if ds.lineage:
            props["processing:lineage"] = ds.lineage
    props.update(_skyform_properties(product, lineage))
    props.update(ds.properties)
    item = pystac.Item(
        id=product.id,
        geometry=geometry,
        bbox=_bbox(geometry) if geometry else None,
        datetime=when,
        properties=props,
        stac_extensions=extensions,
    )
    return item


def _skyform_properties(product: Product, lineage: Lineage) -> dict[str, Any]:
    """Where the product came from, in skyform's own namespace."""
    run = product.operation.run
    props: dict[str, Any] = {
        "skyform:mission": lineage.mission.name,
        "skyform:resource": product.address,
        "skyform:type": product.type,
        "skyform:role": product.dataset.role,
        "skyform:state_serial": lineage.mission.serial,
        "skyform:provider_version": product.provider_version,
    }
    if product.remote_id:
        props["skyform:remote_id"] = product.remote_id
    if product.dataset.options:
        props["skyform:options"] = dict(product.dataset.options)
    if product.cost is not None:
        props["skyform:cost"] = product.cost
    if run is not None:
        for key, value in (
            ("plan_digest", run.plan_digest),
            ("spec_digest", run.spec_digest),
            ("spec_commit", run.spec_commit),
            ("version", run.skyform_version),
            ("approved_by", run.approved_by),
        ):
            if value:
                props[f"skyform:{key}"] = value
    commit = lineage.mission.attributes.get("commit")
    if commit and "skyform:spec_commit" not in props:
        props["skyform:spec_commit"] = commit
    return props


def _place_assets(item: Any, product: Product, mode: AssetMode, base: Path | None = None) -> None:
    """Put each stored file beside its Item, verify its bytes, and describe it."""
    import pystac

    folder = Path(item.get_self_href()).parent
    for asset in product.dataset.assets:
        extra: dict[str, Any] = {}
        if asset.path is not None:
            source = Path(asset.path) if base is None else base / asset.path  # an absolute path stays
            what = f"{product.address}: artifact {asset.key!r} ({source})"
            if not source.is_file():
                raise ArtifactMismatch(
                    f"{what} is missing",
                    hint="`skyform apply` downloads it again after "
                    "`skyform state rm` of the resource, or restore the artifacts directory",
                )
            if not asset.sha256:
                raise ArtifactMismatch(
                    f"{what} has no digest recorded, so its bytes cannot be vouched for",
                    hint="apply the resource again with this skyform to record one",
                )
            if mode == "copy":
                folder.mkdir(parents=True, exist_ok=True)
                suffix = source.suffix if not asset.key.endswith(source.suffix) else ""
                target = folder / f"{asset.key}{suffix}"
                _link_or_copy(source, target)
                href = f"./{target.name}"
            else:
                target = source
                href = source.as_uri()
            digest, size = sha256_file(target)
            if digest != asset.sha256:
                raise ArtifactMismatch(
                    f"{what}: its bytes have sha256 {digest}, but skyform recorded {asset.sha256} when it stored them",
                    hint="the file was changed or damaged after the apply; restore it, or apply the resource again",
                )
            extra = {"file:checksum": multihash(digest), "file:size": size}
        else:
            href = asset.href or ""
        item.add_asset(
            asset.key,
            pystac.Asset(
                href=href,
                title=asset.title or None,
                media_type=asset.media_type,
                roles=list(asset.roles),
                extra_fields=extra,
            ),
        )


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links not allowed
        shutil.copyfile(source, target)


def _swap(staging: Path, out: Path) -> None:
    """Move the finished catalog into place; the previous one goes only after."""
    if out.exists():
        if not (out / "catalog.json").is_file():
            raise StateError(
                f"{out} exists and is not a catalog skyform wrote; refusing to replace it",
                hint="choose another --out directory, or remove it yourself",
            )
        old = out.with_name(f"{out.name}-previous-skyform-catalog")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)


def _extent(items: list[Any]) -> Any:
    import pystac

    boxes = [i.bbox for i in items if i.bbox]
    if boxes:
        bbox = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
    else:
        bbox = [-180.0, -90.0, 180.0, 90.0]
    times = [
        t
        for i in items
        for t in (i.datetime, i.common_metadata.start_datetime, i.common_metadata.end_datetime)
        if t is not None
    ]
    interval = [min(times), max(times)] if times else [None, None]
    return pystac.Extent(pystac.SpatialExtent([bbox]), pystac.TemporalExtent([interval]))


def _bbox(geometry: dict[str, Any]) -> list[float]:
    points = list(_coordinates(geometry.get("coordinates")))
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs), min(ys), max(xs), max(ys)]


def _coordinates(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (int, float)):
        yield value
    elif isinstance(value, (list, tuple)):
        for part in value:
            yield from _coordinates(part)


def _iso(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)
