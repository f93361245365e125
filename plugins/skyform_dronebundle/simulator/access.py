"""Who may call the simulated API: Bearer keys with scopes, workspaces, a sliding-window limit.

Every refusal is the documented shape, HTTP 403 ``{"message", "code_name"}``. The sandbox
hands out :data:`SANDBOX_KEY` (full_access, Enterprise workspace); the other keys exist so
tests can meet each documented refusal.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from typing import Any

SANDBOX_KEY = "v1_sandbox_full_access_7c1e4b0d9a2f4f6b8e3d5a1c"
READ_ONLY_KEY = "v1_sandbox_read_only_2b8f0e6c4d1a9e7f3c5b"
INACTIVE_KEY = "v1_sandbox_inactive_9d3a7f1e5c2b8d4a6e0f"
STARTER_KEY = "v1_sandbox_starter_plan_5e1c9a3f7b2d6e8a0c4f"
PATH_RESTRICTED_KEY = "v1_sandbox_projects_list_only_8a2d4f6e0c1b3e5a7d9f"
OTHER_WORKSPACE_KEY = "v1_sandbox_other_workspace_4c6e8a0b2d4f6a8c0e2b"

REFUSALS = {
    "invalid_api_key": "Invalid API key",
    "api_key_inactive": "API key is inactive",
    "enterprise_required": "API access requires the Enterprise plan",
    "api_key_path_not_allowed": "API key is not allowed to access this path",
    "read_only_access": "This API key has read-only access",
}


def initial_keys() -> dict[str, dict[str, Any]]:
    """The keys a fresh simulator knows, with their scope, state, workspace and paths."""

    def key(
        scope: str, *, active: bool = True, workspace: str = "sandbox", paths: list[str] | None = None
    ) -> dict[str, Any]:
        return {"scope": scope, "active": active, "workspace": workspace, "allowed_paths": paths}

    return {
        SANDBOX_KEY: key("full_access"),
        READ_ONLY_KEY: key("read_only"),
        INACTIVE_KEY: key("full_access", active=False),
        STARTER_KEY: key("full_access", workspace="starter"),
        PATH_RESTRICTED_KEY: key("full_access", paths=[r"^/v1/projects/?$"]),
        OTHER_WORKSPACE_KEY: key("full_access", workspace="other"),
    }


def refusal(
    keys: dict[str, Any], workspaces: dict[str, Any], method: str, path: str, authorization: str | None
) -> tuple[str, str] | None:
    """(code_name, message) when the request must be refused, None when it may proceed."""
    token = ""
    if authorization and authorization.startswith("Bearer "):
        token = authorization[len("Bearer ") :].strip()
    record = keys.get(token) if token.startswith("v1_") else None
    if record is None:
        return "invalid_api_key", REFUSALS["invalid_api_key"]
    if not record["active"]:
        return "api_key_inactive", REFUSALS["api_key_inactive"]
    if workspaces.get(record["workspace"], {}).get("plan") != "enterprise":
        return "enterprise_required", REFUSALS["enterprise_required"]
    paths = record.get("allowed_paths")
    if paths and not any(re.search(p, path) for p in paths):
        return "api_key_path_not_allowed", REFUSALS["api_key_path_not_allowed"]
    if method not in ("GET", "HEAD") and record["scope"] != "full_access":
        return "read_only_access", REFUSALS["read_only_access"]
    return None


class SlidingWindow:
    """At most ``limit`` requests per key in any ``window`` seconds (a real sliding log)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.calls: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def admit(self, key: str) -> float | None:
        """None when the request is admitted; else seconds until a slot frees."""
        now = time.monotonic()
        with self.lock:
            calls = self.calls.setdefault(key, deque())
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                return max(0.0, calls[0] + self.window - now)
            calls.append(now)
            return None


def retry_after_header(wait: float) -> str:
    """Whole seconds, at least 1 (Retry-After's delta-seconds form)."""
    return str(max(1, math.ceil(wait)))
