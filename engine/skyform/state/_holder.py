"""Who holds a lock, and whether that holder is still alive: shared by the lock tables.

A lock row names a user, a pid and a host. Only a holder on THIS host can be proven dead
(its pid is gone, is a zombie, or now belongs to a process started after the lock was
taken); a holder on another host is always presumed alive.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from pathlib import Path

from ..errors import LockHeld
from .base import LockInfo


def this_holder(operation: str) -> LockInfo:
    """The LockInfo this process writes when it takes a lock."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in containers without a passwd entry
        user = f"uid {os.getuid()}"
    return LockInfo(holder=user, pid=os.getpid(), host=socket.gethostname(), since=time.time(), operation=operation)


def is_mine(info: LockInfo) -> bool:
    """Whether the lock row was written by this very process."""
    return info.pid == os.getpid() and info.host == socket.gethostname()


def holder_is_dead(info: LockInfo) -> bool:
    """True only when the holder provably no longer runs (same host, pid gone or reused)."""
    if info.host != socket.gethostname():
        return False
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, owned by someone else
    stat = Path(f"/proc/{info.pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    if fields[0] in ("Z", "X"):
        return True  # exited, waiting to be reaped
    started = _process_start(int(fields[19]))
    # A process younger than the lock reuses a dead holder's pid (one second of slack for clocks).
    return started is not None and started > info.since + 1.0


def _process_start(ticks_since_boot: int) -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return int(line.split()[1]) + ticks_since_boot / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
    return None


def describe(info: LockInfo) -> str:
    """``alice (pid 4242 on runner-3) since 2026-11-23 04:12:09 UTC for apply``."""
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(info.since))
    what = f" for {info.operation}" if info.operation else ""
    return f"{info.holder} (pid {info.pid} on {info.host}) since {since}{what}"


def lock_held(mission: str, info: LockInfo | None) -> LockHeld:
    """The error a second run gets: who holds the lock, where, since when."""
    if info is None:
        return LockHeld(f"mission {mission!r} is locked by another run (holder unknown)")
    return LockHeld(
        f"mission {mission!r} is locked by {describe(info)}",
        holder={
            "holder": info.holder,
            "pid": info.pid,
            "host": info.host,
            "since": info.since,
            "operation": info.operation,
        },
    )
