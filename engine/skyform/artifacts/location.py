"""Where a mission's artifact store is, and the fsspec filesystem that reaches it.

The store is, first found: the mission's ``settings.artifacts`` (a URL, or
``{url, endpoint}``), the ``SKYFORM_ARTIFACTS`` environment variable, else the mission's own
``.skyform/store/`` (not shared: nothing outside this mission directory refers to it, so
``gc`` over the mission's state is complete). A relative path is relative to the mission.
An ``s3://`` store's endpoint is the setting's ``endpoint`` or ``SKYFORM_ARTIFACTS_ENDPOINT``
(else AWS's own); credentials come from botocore's usual chain (``AWS_ACCESS_KEY_ID``...,
``~/.aws``), never from the mission, and a URL that carries any is shown redacted.
s3fs and botocore are imported only when an ``s3://`` URL is used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .. import redact
from ..errors import UsageError
from ._localfs import LocalFS
from .store import ArtifactStore

ENV_URL = "SKYFORM_ARTIFACTS"
ENV_ENDPOINT = "SKYFORM_ARTIFACTS_ENDPOINT"
DEFAULT_DIR = "store"  # under the mission's .skyform/
PART_SIZE = 16 * 1024 * 1024


def configured(setting: Any, env: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The (url, endpoint) a mission's ``settings.artifacts`` or the environment names, if any."""
    env = os.environ if env is None else env
    url: str | None = None
    endpoint: str | None = None
    if isinstance(setting, str):
        url = setting
    elif isinstance(setting, Mapping):
        url = setting.get("url")
        endpoint = setting.get("endpoint")
    url = url or env.get(ENV_URL) or None
    return url, endpoint or env.get(ENV_ENDPOINT) or None


def open_store(
    setting: Any, mission_state_dir: Path, *, mission_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> ArtifactStore:
    """The store a mission uses: configured (shared) or its own under ``.skyform/store``."""
    url, endpoint = configured(setting, env)
    base = mission_dir or mission_state_dir.parent
    if url is None:
        return local_store(mission_state_dir / DEFAULT_DIR, shared=False)
    return store_at(url, base, endpoint=endpoint)


def store_at(url: str, base: Path, *, endpoint: str | None = None) -> ArtifactStore:
    """The store at ``url`` (a path relative to ``base``, ``file://``, ``s3://`` or any fsspec URL)."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file") or len(parts.scheme) == 1:  # a path (C:\\ has a one-letter scheme)
        folder = Path(parts.path if parts.scheme == "file" else url)
        return local_store(folder if folder.is_absolute() else base / folder, shared=True)
    shown = display(url)
    if parts.username or parts.password:
        raise UsageError(
            f"artifact store {shown}: credentials do not belong in the URL",
            hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or ~/.aws) for s3:// stores",
        )
    fs = _filesystem(parts.scheme, endpoint, shown)
    root = f"{parts.netloc}{parts.path}".rstrip("/")
    if not parts.netloc:
        raise UsageError(f"artifact store {shown}: the URL names no bucket or host", hint="e.g. s3://bucket/skyform")
    return ArtifactStore(fs, root, shown, shared=True)


def local_store(folder: Path, *, shared: bool) -> ArtifactStore:
    """A store on the local disk (no fsspec import: most runs use one)."""
    folder = folder.resolve()
    return ArtifactStore(LocalFS(), str(folder), folder.as_uri(), shared=shared)


def display(url: str) -> str:
    """``url`` as people may see it: user and password replaced, registered secrets masked."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{redact.MASK}@{host}" + (f":{parts.port}" if parts.port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return redact.redact(url)


def s3_options(endpoint: str | None) -> dict[str, Any]:
    """s3fs's options for AWS and for S3-compatible servers alike.

    Recent botocore adds CRC checksums to every request and checks them on responses; some
    S3-compatible servers reject or omit them, so both happen only where an operation
    requires them. Listings are not cached: other machines write the same store.
    """
    options: dict[str, Any] = {
        "use_listings_cache": False,
        # parts of a multipart upload: 16 MiB x S3's 10,000 parts is 160 GB per object, and a
        # writer holds at most one part in memory
        "default_block_size": PART_SIZE,
        "config_kwargs": {
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        },
    }
    if endpoint:
        options["endpoint_url"] = endpoint
    return options


def _filesystem(protocol: str, endpoint: str | None, shown: str) -> Any:
    import fsspec  # type: ignore[import-untyped]

    options = s3_options(endpoint) if protocol in ("s3", "s3a") else {}
    try:
        return fsspec.filesystem(protocol, skip_instance_cache=True, **options)
    except ImportError as exc:
        extra = " (pip install 'skyform[s3]')" if protocol in ("s3", "s3a") else ""
        raise UsageError(f"artifact store {shown}: no filesystem for {protocol}:// is installed{extra}") from exc
    except ValueError as exc:
        raise UsageError(f"artifact store {shown}: {exc}") from exc
