"""Bytes the simulator holds outside its JSON state: frames of tasks and export archives.

With a state directory they are files (one per key) so that a restarted sandbox still serves
its media and finished exports; upload sessions and staged files stay in memory, as a
half-finished upload does not survive a real server restart either.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

PERSISTENT = ("frame:", "export:")


class BlobStore(MutableMapping[str, Any]):
    """A dict whose ``frame:*`` and ``export:*`` byte values live in ``directory`` when given."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.memory: dict[str, Any] = {}
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def _file(self, key: str) -> Path | None:
        if self.directory is None or not key.startswith(PERSISTENT):
            return None
        return self.directory / quote(key, safe="")

    def __getitem__(self, key: str) -> Any:
        if key in self.memory:
            return self.memory[key]
        path = self._file(key)
        if path is not None and path.is_file():
            return path.read_bytes()
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if key in self.memory:
            return True
        path = self._file(key) if isinstance(key, str) else None
        return path is not None and path.is_file()

    def __setitem__(self, key: str, value: Any) -> None:
        path = self._file(key)
        if path is None or not isinstance(value, (bytes, bytearray)):
            self.memory[key] = value
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(value)
        os.replace(tmp, path)

    def __delitem__(self, key: str) -> None:
        if key in self.memory:
            del self.memory[key]
            return
        path = self._file(key)
        if path is None or not path.is_file():
            raise KeyError(key)
        path.unlink()

    def __iter__(self) -> Iterator[str]:
        yield from list(self.memory)
        if self.directory is not None:
            yield from [unquote(p.name) for p in self.directory.iterdir() if not p.name.startswith(".tmp-")]

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def clear(self) -> None:
        """Forget every blob (files included)."""
        for key in list(self):
            del self[key]
