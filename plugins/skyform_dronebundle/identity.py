"""The external_id skyform gives a job whose spec names none.

DroneBundle has no idempotency header, and ``external_id`` is the only client-chosen value
a job carries, so skyform writes ``skyform:<mission>:<resource address>:<first 8 characters
of the idempotency key>`` there: a human looking at the dashboard after a crash can tell
which mission and which attempt made the job.
"""

from __future__ import annotations

MAX_LENGTH = 255


def derived_external_id(mission: str, address: str, idempotency_key: str) -> str:
    """``skyform:<mission>:<address>:<key8>``, shortened to the documented 255 characters."""
    key8 = idempotency_key.replace("-", "")[:8]
    head = f"skyform:{mission}:{address}"
    room = MAX_LENGTH - len(key8) - 1
    if len(head) > room:
        head = head[: room - 1] + "~"
    return f"{head}:{key8}"
