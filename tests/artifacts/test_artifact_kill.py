"""SIGKILL in the middle of a put leaves no visible object, file:// and s3:// alike; a re-run
stores it whole, and gc clears what the killed writer left once it is stale."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skyform.artifacts import Digest, store_at

from .conftest import new_bucket, raw_keys
from .slow_put import Stalling, pattern

SCRIPT = Path(__file__).with_name("slow_put.py")
MIB = 40  # above two S3 parts (16 MiB), so the killed writer had parts uploaded


def expected_digest() -> Digest:
    h = hashlib.sha256()
    for i in range(1, MIB + 1):
        h.update(pattern(i))
    return Digest(h.hexdigest())


@pytest.mark.parametrize("backend", ["file", "s3"])
def test_a_writer_killed_mid_put_leaves_no_partial_object(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    endpoint = request.getfixturevalue("s3_env") if backend == "s3" else None
    url = f"s3://{new_bucket(endpoint)}/skyform" if endpoint else f"file://{tmp_path / 'store'}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SCRIPT.parent), os.environ.get("PYTHONPATH", "")])}
    writer = subprocess.Popen(
        [sys.executable, str(SCRIPT), url, endpoint or "-", str(MIB)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "halfway"
        store = store_at(url, tmp_path, endpoint=endpoint)
        if backend == "file":  # the bytes written so far are on disk, under a temporary key only
            partial = [k for k in raw_keys(store) if k.startswith(f"{store.root}/tmp/")]
            assert len(partial) == 1 and os.path.getsize(partial[0]) >= (MIB // 2) << 20
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    digest = expected_digest()
    assert store.ls() == [] and not store.exists(digest)
    # the re-run completes the object, verified
    assert store.put(Stalling(MIB, -1)) == digest  # type: ignore[arg-type]
    store.verify(digest)
    assert [o.digest for o in store.ls()] == [digest]
    # what the killed writer left is spared while young, collected once stale
    assert store.gc([digest], grace=3600).stale_temporaries == []
    later = store.gc([digest], grace=3600, now=time.time() + 7200)
    if backend == "file":
        assert len(later.stale_temporaries) == 1 and later.stale_uploads == []
    else:  # S3: no key at all, but an unfinished multipart upload holding the parts sent
        assert later.stale_temporaries == [] and len(later.stale_uploads) == 1
        assert store.collect([digest], grace=3600, now=time.time() + 7200).stale_uploads == []  # aborted
    assert [k for k in raw_keys(store) if "/tmp/" in k.removeprefix(store.root)] == []
    assert store.exists(digest)
