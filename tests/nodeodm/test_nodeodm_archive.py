"""Safe extraction of all.zip, without a node: what is refused and what lands where."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from skyform.errors import TransientError
from skyform_nodeodm import artifacts
from skyform_nodeodm.artifacts import UnsafeArchive


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def test_products_are_found_at_odm_paths(tmp_path):
    """Extraction keeps ODM's layout; products() maps output names to the files present."""
    archive = write_zip(
        tmp_path / "all.zip",
        {
            "odm_orthophoto/odm_orthophoto.tif": b"II*\x00",
            "odm_georeferencing/odm_georeferenced_model.las": b"LASF",
            "odm_texturing/odm_textured_model.obj": b"v 0 0 0",
        },
    )
    assets = artifacts.extract(archive, tmp_path / "assets", "u", max_bytes=10**6)
    found = artifacts.products(assets)
    assert found["orthophoto"] == str(assets / "odm_orthophoto/odm_orthophoto.tif")
    assert found["point_cloud"].endswith("odm_georeferenced_model.las")  # older ODM: LAS, not LAZ
    assert found["textured_model"].endswith("odm_textured_model.obj")
    assert found["dsm"] is None and found["dtm"] is None and found["report"] is None


def test_reextraction_replaces_the_previous_products(tmp_path):
    """A restarted task's new all.zip replaces the old products entirely."""
    old = write_zip(tmp_path / "old.zip", {"odm_dem/dsm.tif": b"II*\x00"})
    new = write_zip(tmp_path / "new.zip", {"odm_dem/dtm.tif": b"II*\x00"})
    artifacts.extract(old, tmp_path / "assets", "u", max_bytes=10**6)
    artifacts.extract(new, tmp_path / "assets", "u", max_bytes=10**6)
    assert sorted(p.name for p in (tmp_path / "assets/odm_dem").iterdir()) == ["dtm.tif"]


def test_archive_over_the_size_limit_is_refused(tmp_path):
    """max_extract_bytes caps the total uncompressed size."""
    archive = write_zip(tmp_path / "all.zip", {"a.bin": bytes(5000)})
    with pytest.raises(UnsafeArchive, match=r"would expand to 5000 bytes, above max_extract_bytes \(1000\)"):
        artifacts.extract(archive, tmp_path / "assets", "u", max_bytes=1000)


def test_windows_style_traversal_is_refused(tmp_path):
    """Backslash paths are read as separators: ..\\..\\x is still a traversal."""
    archive = write_zip(tmp_path / "all.zip", {"..\\..\\evil.txt": b"x"})
    with pytest.raises(UnsafeArchive, match="escapes the extraction directory"):
        artifacts.extract(archive, tmp_path / "assets", "u", max_bytes=10**6)


def test_entry_lying_about_its_size_is_refused(tmp_path):
    """An entry that inflates beyond its declared size stops extraction and leaves nothing."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("odm_report/report.pdf", b"%PDF" + bytes(100))
    data = bytearray(buffer.getvalue())
    # shrink the declared size in the central directory so the real data is larger than claimed
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    (tmp_path / "all.zip").write_bytes(bytes(data))
    with pytest.raises((UnsafeArchive, TransientError)):
        artifacts.extract(tmp_path / "all.zip", tmp_path / "assets", "u", max_bytes=10**6)
    assert not (tmp_path / "assets").exists() and not (tmp_path / "assets.partial").exists()


def test_truncated_download_is_transient(tmp_path):
    """Something that is not a zip (a cut-off download) is retried, and the file is dropped."""
    part = tmp_path / "all.zip.part"
    part.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(TransientError, match="is not a zip archive"):
        artifacts.verify(part, "u")
    assert not part.exists()
