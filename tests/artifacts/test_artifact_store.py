"""The artifact store's promises, on a directory and on S3 (moto) alike: keyed by skyform's own
sha256, stored once, visible only when complete, never overwritten, verified on every read."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import pytest

from skyform.artifacts import ArtifactStore, Digest
from skyform.errors import ArtifactCorrupt, ArtifactError, ArtifactMissing

from .conftest import raw_keys


def test_put_keys_an_object_by_the_sha256_of_its_bytes(store: ArtifactStore, tmp_path: Path) -> None:
    """The digest is hashlib's sha256 of the content, and the object is found under it."""
    data = b"orthophoto" * 10_000
    photo = tmp_path / "DJI_0001.JPG"
    photo.write_bytes(data)
    digest = store.put(photo)
    assert digest == Digest(hashlib.sha256(data).hexdigest())
    assert str(digest) == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert store.exists(digest)
    assert [(o.digest, o.size) for o in store.ls()] == [(digest, len(data))]
    with store.open(digest) as reader:
        assert reader.read() == data


def test_the_same_bytes_are_stored_once(store: ArtifactStore, tmp_path: Path) -> None:
    """Two files with one content (two missions' copies of a photo) and a stream: one object."""
    (tmp_path / "a.jpg").write_bytes(b"same photo")
    (tmp_path / "b.jpg").write_bytes(b"same photo")
    first = store.put(tmp_path / "a.jpg")
    assert store.put(tmp_path / "b.jpg") == first
    assert store.put(io.BytesIO(b"same photo")) == first
    assert len(store.ls()) == 1
    assert [k for k in raw_keys(store) if k.startswith(f"{store.root}/tmp/")] == []  # nothing left behind


def test_an_existing_object_is_never_overwritten(store: ArtifactStore, tmp_path: Path) -> None:
    """A second put of the same bytes leaves the stored object as it was (same stored time)."""
    (tmp_path / "a").write_bytes(b"product")
    digest = store.put(tmp_path / "a")
    before = store.ls()[0].modified
    time.sleep(1.1)  # S3's LastModified has a resolution of one second
    store.put(io.BytesIO(b"product"))
    store.put(tmp_path / "a")
    assert store.ls()[0].modified == before and store.exists(digest)


def test_a_corrupt_object_is_an_error_naming_its_digest(store: ArtifactStore, tmp_path: Path) -> None:
    """Bytes that no longer hash to their key are refused on every read, never used."""
    digest = store.put(io.BytesIO(b"all.zip bytes"))
    with store.fs.open(store.key(digest), "wb") as fh:  # bit rot, or someone's hand
        fh.write(b"all.zip bytez")
    with pytest.raises(ArtifactCorrupt) as caught:
        store.verify(digest)
    assert str(digest) in str(caught.value) and caught.value.digest == str(digest)
    target = tmp_path / "out" / "all.zip"
    with pytest.raises(ArtifactCorrupt):
        store.fetch(digest, target)
    assert not target.exists() and list(target.parent.iterdir()) == []  # no partial file either
    with pytest.raises(ArtifactCorrupt), store.open(digest) as reader:
        for _chunk in reader:
            pass


def test_fetch_writes_a_verified_copy(store: ArtifactStore, tmp_path: Path) -> None:
    data = bytes(range(256)) * 8192  # 2 MiB: more than one read chunk
    digest = store.put(io.BytesIO(data))
    target = store.fetch(digest, tmp_path / "copy" / "all.zip")
    assert target.read_bytes() == data


def test_a_missing_object_says_which_digest_and_where(store: ArtifactStore) -> None:
    digest = Digest.of_bytes(b"never stored")
    assert not store.exists(digest)
    with pytest.raises(ArtifactMissing, match=f"artifact {digest} is not in the store {store.url}"):
        store.open(digest)


def test_a_file_that_changes_while_it_is_stored_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    """The digest the caller knew and the bytes sent differ: no object under either digest."""
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"version 2")
    stale = Digest.of_bytes(b"version 1")
    with pytest.raises(ArtifactError, match="changed while it was being stored"):
        store.put(photo, expected=stale)
    assert not store.exists(stale)


def test_gc_keeps_what_is_referenced_and_what_is_young(store: ArtifactStore) -> None:
    """Unreferenced objects older than the grace period go; referenced and recent ones stay."""
    kept = store.put(io.BytesIO(b"referenced"))
    old = store.put(io.BytesIO(b"unreferenced"))
    now = time.time() + 7200  # two hours from now, both objects are old
    dry = store.collect([kept], grace=3600, now=now)
    assert [o.digest for o in dry.unreferenced] == [old] and store.exists(old)  # a dry run deletes nothing
    assert store.collect([kept], grace=3600).unreferenced == []  # just written: spared
    done = store.gc([kept], grace=3600, now=now)
    assert [o.digest for o in done.unreferenced] == [old]
    assert not store.exists(old) and store.exists(kept)


def test_gc_removes_interrupted_writes_only_after_the_grace_period(store: ArtifactStore) -> None:
    """A temporary key may be a put in progress: spared while young, removed when stale."""
    temporary = f"{store.root}/tmp/{int(time.time() * 1000)}-deadbeefdeadbeef"
    if store.local:
        store.fs.makedirs(temporary.rsplit("/", 1)[0], exist_ok=True)
    with store.fs.open(temporary, "wb") as fh:
        fh.write(b"half an upload")
    assert store.gc([], grace=3600).stale_temporaries == []
    assert temporary in [str(k) for k in raw_keys(store)]
    assert store.gc([], grace=3600, now=time.time() + 7200).stale_temporaries == [temporary]
    assert raw_keys(store) == []
