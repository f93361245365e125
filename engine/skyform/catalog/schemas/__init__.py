"""Local copies of the JSON Schemas a skyform catalog declares, so it validates offline.

``schema_map()`` maps each schema URL a STAC validator would fetch to a file on disk: the
three extension schemas kept here (see README.md for where each comes from), the STAC core
and GeoJSON schemas that pystac ships, and JSON Schema's draft-07 meta-schema. It is the
``schema_map`` argument of ``stac_validator.validate.StacValidate``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXTENSIONS = {
    "file": "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    "projection": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
}
_FILES = {"file": "file-v2.1.0.json", "projection": "projection-v2.0.0.json", "processing": "processing-v1.2.0.json"}


def schema_map() -> dict[str, str]:
    """Schema URL → local file path, for every schema a skyform catalog needs."""
    here = Path(__file__).parent
    mapping = {url: str(here / _FILES[name]) for name, url in EXTENSIONS.items()}
    core = resources.files("pystac.validation.jsonschemas")
    from pystac.version import STACVersion

    version = STACVersion.DEFAULT_STAC_VERSION
    for kind in ("item", "catalog", "collection"):
        mapping[f"https://schemas.stacspec.org/v{version}/{kind}-spec/json-schema/{kind}.json"] = str(
            core / f"stac-spec/v{version}/{kind}.json"
        )
    for name in ("bands", "basics", "common", "data-values", "datetime", "instrument", "licensing", "provider"):
        mapping[f"https://schemas.stacspec.org/v{version}/item-spec/json-schema/{name}.json"] = str(
            core / f"stac-spec/v{version}/{name}.json"
        )
    for name in ("Feature", "Geometry"):
        mapping[f"https://geojson.org/schema/{name}.json"] = str(core / f"geojson/{name}.json")
    meta = resources.files("jsonschema_specifications") / "schemas/draft7/metaschema.json"
    mapping["http://json-schema.org/draft-07/schema"] = str(meta)
    mapping["http://json-schema.org/draft-07/schema#"] = str(meta)
    return mapping
