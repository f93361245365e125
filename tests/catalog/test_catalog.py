"""The STAC catalog and PROV export of the demo mission, written from a real sandbox apply.

One sandbox apply of ``specs/bridge-a12`` (copied, so the repository stays clean) serves the
module; each test writes its own catalog. Validation uses stac-validator with every schema
mapped to a local file and the network shut, so a schema fetched from the internet would fail.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skyform.testing.runner import run_cli

pystac = pytest.importorskip("pystac")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo mission, applied once in the sandbox (its services' hours at 36,000x, not the
    default 3,600x: ~2 s, not ~7 s; no document the tests check depends on that pace)."""
    mission = tmp_path_factory.mktemp("demo") / "bridge-a12"
    shutil.copytree(REPO / "specs" / "bridge-a12", mission, ignore=shutil.ignore_patterns(".skyform"))
    done = run_cli("apply", "--sandbox", "--auto-approve", mission, env={"SKYFORM_SANDBOX_CLOCK": "36000"})
    assert done.exit_code == 0, done.output
    return mission


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: schemas must come from local files."""

    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a validator tried to reach {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def write(mission: Path, out: Path, *extra: str) -> Any:
    done = run_cli("catalog", mission, "--out", out, *extra)
    assert done.exit_code == 0, done.output
    return pystac.Catalog.from_file(str(out / "catalog.json"))


def items(catalog: Any) -> dict[str, Any]:
    return {item.id: item for item in catalog.get_items(recursive=True)}


def test_every_document_of_the_catalog_validates_offline_with_its_extensions(
    applied: Path, tmp_path: Path, offline: None
) -> None:
    """stac-validator accepts the catalog, the collection and every item, extensions included."""
    from stac_validator.validate import StacValidate

    from skyform.catalog.schemas import EXTENSIONS, schema_map

    write(applied, tmp_path / "cat")
    documents = sorted((tmp_path / "cat").rglob("*.json"))
    assert len(documents) >= 10
    declared: set[str] = set()
    for document in documents:
        validator = StacValidate(str(document), extensions=True, schema_map=schema_map())
        assert validator.run(), (document, validator.message)
        declared |= set(json.loads(document.read_text()).get("stac_extensions", []))
    assert declared == set(EXTENSIONS.values())


def test_a_broken_item_is_refused_by_the_same_validation(applied: Path, tmp_path: Path, offline: None) -> None:
    """The check can fail: a checksum that is not a multihash breaks the File extension's schema."""
    from stac_validator.validate import StacValidate

    from skyform.catalog.schemas import schema_map

    write(applied, tmp_path / "cat")
    path = tmp_path / "cat" / "bridge-a12" / "reconstruct.orthophoto" / "reconstruct.orthophoto.json"
    item = json.loads(path.read_text())
    item["assets"]["orthophoto"]["file:checksum"] = "not hex"
    item["properties"]["processing:software"] = ["NodeODM"]
    path.write_text(json.dumps(item))
    validator = StacValidate(str(path), extensions=True, schema_map=schema_map())
    assert not validator.run()


def test_one_item_per_dataset_with_roles_media_types_and_provenance(applied: Path, tmp_path: Path) -> None:
    found = items(write(applied, tmp_path / "cat"))
    assert {
        "photos.files",
        "reconstruct.orthophoto",
        "reconstruct.dsm",
        "reconstruct.point_cloud",
        "reconstruct.textured_model",
        "dataset.export",
        "mesh.obj",
        "mesh.cesium_3d_tiles",
    } <= set(found)
    assert any(i.startswith("baseline.capture-") for i in found)
    ortho = found["reconstruct.orthophoto"]
    assert ortho.assets["orthophoto"].media_type == "image/tiff; application=geotiff"
    assert "visual" in ortho.assets["orthophoto"].roles
    assert found["reconstruct.point_cloud"].assets["point_cloud"].media_type == "application/vnd.laszip"
    assert found["dataset.export"].assets["archive"].media_type == "application/zip"
    props = ortho.properties
    assert props["proj:code"] == "EPSG:32632" and len(props["proj:bbox"]) == 4
    assert props["processing:software"] == {"NodeODM": "2.2.4", "ODM": "3.5.5"}
    assert "feature-quality=high" in props["processing:lineage"]
    assert props["skyform:mission"] == "bridge-a12" and props["skyform:resource"] == "reconstruct"
    assert props["skyform:plan_digest"].startswith("sha256:") and len(props["skyform:plan_digest"]) == 71
    assert props["skyform:spec_digest"] and props["skyform:provider_version"]
    assert isinstance(props["skyform:state_serial"], int)
    assert props["start_datetime"] <= props["end_datetime"]
    assert found["mesh.obj"].properties["skyform:cost"] == 2.5
    capture = next(v for k, v in found.items() if k.startswith("baseline.capture-"))
    assert capture.geometry == {"type": "Point", "coordinates": [12.5683, 55.6761]}
    assert capture.datetime is not None and capture.bbox == [12.5683, 55.6761, 12.5683, 55.6761]
    assert found["photos.files"].properties["skyform:role"] == "input"


def test_every_checksum_matches_the_bytes_beside_the_item(applied: Path, tmp_path: Path) -> None:
    """file:checksum is the sha2-256 multihash of the copied bytes, and equals skyform's record."""
    found = items(write(applied, tmp_path / "cat"))
    checked = 0
    for item in found.values():
        for asset in item.assets.values():
            if "file:checksum" not in asset.extra_fields:
                continue
            data = Path(asset.get_absolute_href()).read_bytes()
            assert asset.extra_fields["file:checksum"] == "1220" + hashlib.sha256(data).hexdigest()
            assert asset.extra_fields["file:size"] == len(data)
            checked += 1
    assert checked >= 8 + 4 + 1  # eight photos, four NodeODM products, one export


def test_derived_from_links_lead_from_the_mesh_back_to_the_photos(applied: Path, tmp_path: Path) -> None:
    catalog = write(applied, tmp_path / "cat")
    mesh = items(catalog)["mesh.obj"]

    def ancestors(item: Any) -> Iterator[str]:
        for link in item.get_links("derived_from"):
            source = link.resolve_stac_object().target
            yield source.id
            yield from ancestors(source)

    chain = set(ancestors(mesh))
    assert "reconstruct.orthophoto" in chain and "photos.files" in chain
    annotated = items(catalog)["dataset.export"]
    assert "photos.files" in set(ancestors(annotated))
    raw = json.loads((tmp_path / "cat" / "bridge-a12" / "dataset.export" / "dataset.export.json").read_text())
    links = [link["href"] for link in raw["links"]]
    assert links and all(href.startswith(("./", "../")) for href in links)  # relative: the folder can move


def test_the_catalog_is_self_contained_and_can_be_moved(applied: Path, tmp_path: Path) -> None:
    write(applied, tmp_path / "cat")
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(tmp_path / "cat", moved)
    shutil.rmtree(tmp_path / "cat")
    catalog = pystac.Catalog.from_file(str(moved / "catalog.json"))
    ortho = items(catalog)["reconstruct.orthophoto"]
    assert Path(ortho.assets["orthophoto"].get_absolute_href()).is_file()


def test_a_changed_artifact_is_an_error_naming_it_and_the_old_catalog_stays(applied: Path, tmp_path: Path) -> None:
    out = tmp_path / "cat"
    write(applied, out)
    before = (out / "catalog.json").read_bytes()
    dsm = applied / ".skyform" / "artifacts" / "reconstruct" / "assets" / "odm_dem" / "dsm.tif"
    original = dsm.read_bytes()
    try:
        dsm.write_bytes(original + b"tampered")
        done = run_cli("catalog", applied, "--out", out)
    finally:
        dsm.write_bytes(original)
    assert done.exit_code == 5, done.output
    assert "reconstruct: artifact 'dsm'" in done.output and "skyform recorded" in done.output
    assert "Traceback" not in done.output
    assert (out / "catalog.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("skyform-catalog-")]


def test_a_missing_artifact_is_an_error_naming_it(applied: Path, tmp_path: Path) -> None:
    export = json.loads(run_cli("output", applied, "dataset", "--json").stdout)
    archive = Path(export if isinstance(export, str) else export["value"])
    moved = archive.with_suffix(".away")
    archive.rename(moved)
    try:
        done = run_cli("catalog", applied, "--out", tmp_path / "cat")
    finally:
        moved.rename(archive)
    assert done.exit_code == 5, done.output
    assert "dataset: artifact 'archive'" in done.output and "is missing" in done.output


def test_assets_can_be_referenced_in_place(applied: Path, tmp_path: Path) -> None:
    found = items(write(applied, tmp_path / "cat", "--assets", "reference"))
    href = found["reconstruct.orthophoto"].assets["orthophoto"].href
    assert href.startswith("file:///") and href.endswith("odm_orthophoto.tif")
    assert not list((tmp_path / "cat").rglob("*.tif"))


def test_a_directory_that_is_not_a_catalog_is_never_replaced(applied: Path, tmp_path: Path) -> None:
    precious = tmp_path / "photos"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    done = run_cli("catalog", applied, "--out", precious)
    assert done.exit_code != 0 and "is not a catalog skyform wrote" in done.output
    assert (precious / "keep.txt").read_text() == "mine"


def test_the_catalog_can_be_published_to_an_fsspec_url(applied: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    done = run_cli("catalog", applied, "--out", "memory://catalogs/a12")
    assert done.exit_code == 0, done.output
    fs = fsspec.filesystem("memory")
    assert fs.exists("memory://catalogs/a12/catalog.json")
    assert fs.exists("memory://catalogs/a12/bridge-a12/reconstruct.orthophoto/orthophoto.tif")


def test_provenance_as_prov_json_is_a_valid_prov_document(applied: Path) -> None:
    prov_model = pytest.importorskip("prov.model")
    done = run_cli("provenance", applied, "mesh", "--format", "prov-json")
    assert done.exit_code == 0, done.output
    document = prov_model.ProvDocument.deserialize(content=done.stdout, format="json")
    records = {str(r.identifier) for r in document.get_records() if r.identifier is not None}
    assert {"skyform:mesh.obj", "skyform:reconstruct.orthophoto", "skyform:photos.files"} <= records
    data = json.loads(done.stdout)
    assert any(
        a["prov:type"] == "prov:SoftwareAgent" and a["prov:label"] == "skyform provider itwin"
        for a in data["agent"].values()
    )
    derived = {(d["prov:generatedEntity"], d["prov:usedEntity"]) for d in data["wasDerivedFrom"].values()}
    assert ("skyform:reconstruct.orthophoto", "skyform:photos.files") in derived
    assert "skyform:baseline" not in json.dumps(data)  # upstream only: unrelated products stay out


def test_provenance_as_text_reads_like_a_chain(applied: Path) -> None:
    done = run_cli("provenance", applied, "reconstruct")
    assert done.exit_code == 0, done.output
    text = done.stdout
    assert "reconstruct.orthophoto  Orthophoto" in text
    assert "software      NodeODM 2.2.4, ODM 3.5.5" in text
    assert "derived from  photos.files" in text and "(an input of the mission)" in text


def test_provenance_of_an_unknown_resource_is_a_usage_error_with_a_hint(applied: Path) -> None:
    done = run_cli("provenance", applied, "reconstrct")
    assert done.exit_code == 64, done.output
    assert "did you mean 'reconstruct'?" in done.output and "Traceback" not in done.output


def test_a_mission_with_settings_catalog_writes_it_after_every_apply(tmp_path: Path) -> None:
    mission = tmp_path / "m"
    (mission / "data").mkdir(parents=True)
    (mission / "data" / "a.jpg").write_bytes(b"\xff\xd8\xff photo")
    (mission / "mission.yaml").write_text(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: cat}\nsettings: {catalog: published}\n"
        "resources:\n  photos: {type: local.Files, spec: {glob: 'data/*.jpg'}}\n"
    )
    done = run_cli("apply", "--auto-approve", mission)
    assert done.exit_code == 0, done.output
    item = json.loads((mission / "published" / "cat" / "photos.files" / "photos.files.json").read_text())
    assert item["assets"]["0000-a.jpg"]["type"] == "image/jpeg"
    (mission / "data" / "b.jpg").write_bytes(b"\xff\xd8\xff another")
    assert run_cli("apply", "--auto-approve", mission).exit_code == 0
    item = json.loads((mission / "published" / "cat" / "photos.files" / "photos.files.json").read_text())
    assert len(item["assets"]) == 2


def test_no_state_yet_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "mission.yaml").write_text(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: fresh}\n"
        "resources:\n  photos: {type: local.Files, spec: {paths: [x.jpg], min_count: 0}}\n"
    )
    done = run_cli("catalog", tmp_path, "--out", tmp_path / "cat")
    assert done.exit_code == 5 and "no state recorded for mission 'fresh'" in done.output
