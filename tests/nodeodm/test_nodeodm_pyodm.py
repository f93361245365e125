"""Pins the two pyodm 1.5.13 defects that made the provider use httpx (see client.py).

If pyodm fixes them these tests fail, and the choice in client.py can be revisited.
"""

from __future__ import annotations

import uuid as uuidlib
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from nodeodm_support import images
from pyodm import Node


def test_pyodm_version_is_the_one_documented():
    """The docs and REFERENCE.md describe pyodm 1.5.13."""
    assert version("pyodm") == "1.5.13"


def test_pyodm_token_leaks_across_node_objects():
    """Node.url() writes the token into a shared mutable default: a token-less Node then sends it."""
    try:
        Node("127.0.0.1", 3000, "secret-of-node-a").url("/info")
        assert "token=secret-of-node-a" in Node("127.0.0.2", 3001).url("/info")
    finally:
        Node.url.__defaults__[0].clear()  # undo the leak for the rest of this process


def test_pyodm_taskinfo_keyerror_on_a_task_without_name(node, mission):
    """A task created without a name has no name key: pyodm's TaskInfo raises KeyError."""
    _sim, running = node
    port = int(running.base_url.rsplit(":", 1)[1])
    n = Node("127.0.0.1", port, running.settings()["token"])
    files = [("images", (p.rsplit("/", 1)[-1], Path(p).read_bytes())) for p in images(mission)]
    uuid = httpx.post(
        f"{running.base_url}/task/new", params={"token": running.settings()["token"]}, files=files
    ).json()["uuid"]
    with pytest.raises(KeyError, match="name"):
        n.get_task(uuid).info()
    assert str(uuidlib.UUID(uuid)) == uuid
