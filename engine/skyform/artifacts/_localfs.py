"""The few filesystem calls the store makes, on the local disk, without importing fsspec.

Most runs use the mission's own store on disk; importing fsspec costs them ~0.1-0.4 s of
start-up for nothing. This class answers the same calls with fsspec's meaning (``find``
returns every file below a path, ``detail=True`` a dict of ``{name: {size, mtime}}``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import IO, Any


class LocalFS:
    """fsspec's LocalFileSystem calls the store uses, on absolute paths."""

    protocol = ("file", "local")

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        return open(path, mode)  # the caller closes it

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        os.makedirs(path, exist_ok=exist_ok)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def rm(self, path: str) -> None:
        os.unlink(path)

    def copy(self, source: str, destination: str) -> None:
        shutil.copyfile(source, destination)

    def find(self, path: str, detail: bool = False) -> Any:
        found: dict[str, dict[str, Any]] = {}
        root = Path(path)
        if root.is_dir():
            for dirpath, _dirs, files in os.walk(root):
                for name in files:
                    full = os.path.join(dirpath, name)
                    try:
                        st = os.stat(full)
                    except FileNotFoundError:
                        continue  # removed while listing (a put publishing, a gc)
                    found[full] = {"size": st.st_size, "mtime": st.st_mtime}
        return found if detail else sorted(found)
