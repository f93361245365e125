"""Fixtures of the artifact store tests: one ``store`` per backend, file:// and s3://.

The s3:// store runs against moto's standalone server (``moto[server]``, a test
dependency), started on a free 127.0.0.1 port for the module and killed after: a MinIO
binary cannot be installed on these machines. Each test gets its own bucket, and fake
credentials in the environment (the real chain botocore reads), never in a URL.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from skyform.artifacts import ArtifactStore, store_at

FAKE_KEY = "AKIASKYFORMTESTKEY00"
FAKE_SECRET = "skyform-test-secret-access-key-not-real"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 for this module; its process is killed afterwards."""
    pytest.importorskip("moto.server", reason="moto[server] is a test dependency (pip install -e '.[test]')")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, s3_endpoint: str) -> str:
    """Fake credentials where botocore looks for them; returns the endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    return s3_endpoint


def new_bucket(endpoint: str) -> str:
    """A fresh bucket on the moto server (through boto3, not through the code under test)."""
    import boto3

    name = f"skyform-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """An empty store: a directory, or a prefix in a fresh bucket of the moto server."""
    if request.param == "file":
        return store_at(f"file://{tmp_path / 'store'}", tmp_path)
    endpoint = request.getfixturevalue("s3_env")
    return store_at(f"s3://{new_bucket(endpoint)}/skyform", tmp_path, endpoint=endpoint)


def raw_keys(store: ArtifactStore) -> list[str]:
    """Every key under the store's root, as the filesystem lists it (objects and temporaries)."""
    return sorted(str(k) for k in store.fs.find(store.root))
