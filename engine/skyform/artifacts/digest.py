"""A digest names an artifact: ``sha256:<64 hex>`` of its bytes, computed by skyform itself.

Never a server's ETag: a multipart upload's ETag is not a hash of the content, and a
digest is what a record keeps, so any machine can fetch and check the same bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError

ALGORITHM = "sha256"
_TEXT = re.compile(r"^sha256:([0-9a-f]{64})$")
CHUNK = 1 << 20


@dataclass(frozen=True, order=True)
class Digest:
    """The sha256 of an artifact's bytes; ``str()`` is the form records keep (``sha256:...``)."""

    hex: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{64}", self.hex):
            raise ValueError(f"not a sha256 hex digest: {self.hex!r}")

    def __str__(self) -> str:
        return f"{ALGORITHM}:{self.hex}"

    @property
    def short(self) -> str:
        """The first 12 hex digits, for people (like git's short ids)."""
        return self.hex[:12]

    @classmethod
    def parse(cls, text: str) -> Digest:
        """``sha256:<hex>`` or a bare 64-digit hex string; anything else is a usage error."""
        value = text.strip().lower()
        match = _TEXT.match(value)
        if match:
            return cls(match.group(1))
        if re.fullmatch(r"[0-9a-f]{64}", value):
            return cls(value)
        raise UsageError(
            f"{text!r} is not an artifact digest", hint="a digest reads sha256:<64 hex digits> (skyform artifacts ls)"
        )

    @classmethod
    def of_file(cls, path: Path) -> Digest:
        """The digest of a file's bytes, read in 1 MiB chunks."""
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                h.update(chunk)
        return cls(h.hexdigest())

    @classmethod
    def of_bytes(cls, data: bytes) -> Digest:
        return cls(hashlib.sha256(data).hexdigest())


def referenced(value: Any) -> Iterator[Digest]:
    """Every ``sha256:<hex>`` string anywhere in a record's JSON (outputs, private): what a
    resource refers to in the store, whichever kind wrote it and however it nests them."""
    if isinstance(value, str):
        match = _TEXT.match(value)
        if match:
            yield Digest(match.group(1))
    elif isinstance(value, dict):
        for item in value.values():
            yield from referenced(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from referenced(item)
