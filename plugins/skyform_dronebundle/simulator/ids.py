"""Identifiers in the form DroneBundle uses: UUIDv7 (time-ordered, 48-bit millisecond prefix)."""

from __future__ import annotations

import os
import time
import uuid


def uuid7(now: float | None = None) -> str:
    """A version-7 UUID string: ``unix_ts_ms`` (48 bits), version, 74 random bits, variant."""
    millis = int((time.time() if now is None else now) * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))
