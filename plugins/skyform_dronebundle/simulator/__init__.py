"""A local simulator of the documented DroneBundle API (projects, jobs, keys, rate limit; see :mod:`.server`)."""

from __future__ import annotations

from .access import SANDBOX_KEY
from .server import DroneBundleSimulator

__all__ = ["SANDBOX_KEY", "DroneBundleSimulator"]
