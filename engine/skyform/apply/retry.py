"""How long to wait before retrying a transient failure.

The service's Retry-After wins (capped at five minutes); otherwise exponential backoff
from ``SKYFORM_RETRY_BASE`` seconds (default 1), capped at a minute, with full jitter
between half and one and a half times the delay, so that many resources failing together
do not retry together.
"""

from __future__ import annotations

import os
import random

RETRY_BASE = float(os.environ.get("SKYFORM_RETRY_BASE", "1.0"))
MAX_RETRY_AFTER = 300.0
MAX_BACKOFF = 60.0


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based)."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
    return min(RETRY_BASE * 2 ** (attempt - 1), MAX_BACKOFF) * (0.5 + random.random())
