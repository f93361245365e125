"""The entry-point reader scans ``sys.path`` once per state of its folders, not once per command.

In-process CLI runs (a reconciler, this suite) build a plugin manager per command; the scan
of every distribution's ``entry_points.txt`` is kept while the ``sys.path`` folders are
unchanged, and a distribution installed since is seen by the next scan.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skyform.providers import entrypoints


def _install(site: Path, dist: str, entry: str) -> None:
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text(f"[skyform]\n{entry} = {dist}_module\n")


def _settle(folder: Path, seconds: int = 1) -> None:
    """Date the folder back, as if it was last changed long ago (at ``seconds`` after the epoch)."""
    os.utime(folder, ns=(seconds * 1_000_000_000, seconds * 1_000_000_000))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


def test_a_second_scan_of_unchanged_folders_reads_no_file(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install(site, "acme_one", "acme")
    _settle(site)
    first = entrypoints.entry_points("skyform")
    scans: list[str] = []
    monkeypatch.setattr(entrypoints, "_scan", lambda group: scans.append(group) or [])
    again = entrypoints.entry_points("skyform")
    assert scans == []
    assert [(e.name, e.value) for e in again] == [(e.name, e.value) for e in first]
    assert ("acme", "acme_one_module") in [(e.name, e.value) for e in again]


def test_a_distribution_installed_since_the_last_scan_is_found(site: Path) -> None:
    _install(site, "acme_one", "acme")
    _settle(site)
    assert "acme" in {e.name for e in entrypoints.entry_points("skyform")}
    _install(site, "acme_two", "acme2")  # the folder's time is now: not settled yet
    assert {"acme", "acme2"} <= {e.name for e in entrypoints.entry_points("skyform")}
    _settle(site, seconds=2)  # settled, at a later time than the kept scan's
    assert {"acme", "acme2"} <= {e.name for e in entrypoints.entry_points("skyform")}


def test_a_folder_changed_just_now_is_scanned_every_time(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within a file time's tick a second change would not move the time: no answer is kept."""
    _install(site, "acme_one", "acme")
    entrypoints.entry_points("skyform")
    real_scan = entrypoints._scan
    scans: list[str] = []

    def counting(group: str) -> list[entrypoints.EntryPoint]:
        scans.append(group)
        return real_scan(group)

    monkeypatch.setattr(entrypoints, "_scan", counting)
    entrypoints.entry_points("skyform")
    assert scans == ["skyform"]


def test_a_removed_distribution_is_gone_from_the_next_scan(site: Path) -> None:
    _install(site, "acme_one", "acme")
    _settle(site)
    assert "acme" in {e.name for e in entrypoints.entry_points("skyform")}
    for child in (site / "acme_one-1.0.dist-info").iterdir():
        child.unlink()
    (site / "acme_one-1.0.dist-info").rmdir()
    _settle(site, seconds=3)
    assert "acme" not in {e.name for e in entrypoints.entry_points("skyform")}
