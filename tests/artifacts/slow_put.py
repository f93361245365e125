"""A put that stalls halfway: the process the kill tests SIGKILL in the middle of a write.

Usage: slow_put.py URL ENDPOINT|- MIB. Streams MIB MiB of a seeded pattern into the store,
prints "halfway" once more than half is written (on S3: at least one part uploaded), then
sleeps until killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from skyform.artifacts import store_at


class Stalling:
    """A binary stream of ``total`` MiB that stops after ``stall_at`` MiB until the process dies."""

    def __init__(self, total: int, stall_at: int) -> None:
        self.total, self.stall_at, self.sent = total, stall_at, 0

    def read(self, size: int = -1) -> bytes:
        if self.sent == self.stall_at:
            print("halfway", flush=True)
            time.sleep(600)
        if self.sent >= self.total:
            return b""
        self.sent += 1
        return pattern(self.sent)


def pattern(i: int) -> bytes:
    return bytes([i % 251]) * (1 << 20)


def main() -> None:
    url, endpoint, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = store_at(url, Path.cwd(), endpoint=None if endpoint == "-" else endpoint)
    store.put(Stalling(mib, mib * 3 // 4))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
