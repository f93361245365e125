"""Webhook calls of the simulated node, as NodeODM makes them (``Task.callWebhooks``).

When a processing run ends (completed, failed, or canceled while running; not a failure
during initialisation) the node POSTs the TaskInfo plus ``images`` as JSON to the task's
webhook. Only HTTP 200 counts as delivered; otherwise it retries after attempt × 5 s, six
attempts in all, with no signature or auth header. The simulator notices a run's end on
the next request it serves and delivers from a daemon thread, on its accelerated clock,
and only to 127.0.0.1 (the sandbox never reaches anywhere else).
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from skyform.sandbox.clock import SimClock

ATTEMPTS = 6


def deliver(url: str, payload: dict[str, Any], clock: SimClock, log: list[dict[str, Any]]) -> None:
    """Start delivering ``payload`` to ``url`` in the background; attempts are appended to ``log``."""
    if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
        log.append({"url": url, "status": None, "error": "not delivered: the sandbox only calls 127.0.0.1"})
        return
    threading.Thread(target=_attempts, args=(url, payload, clock, log), daemon=True, name="nodeodm-webhook").start()


def _attempts(url: str, payload: dict[str, Any], clock: SimClock, log: list[dict[str, Any]]) -> None:
    for attempt in range(ATTEMPTS):
        time.sleep(clock.real(attempt * 5))
        try:
            status = httpx.post(url, json=payload, timeout=10).status_code
        except httpx.HTTPError as exc:
            log.append({"url": url, "attempt": attempt + 1, "status": None, "error": type(exc).__name__})
            continue
        log.append({"url": url, "attempt": attempt + 1, "status": status})
        if status == 200:
            return
