"""Recorded state: missions, resources, an append-only event history and a lock."""

from .base import Event, LockInfo, MissionState, ResourceState, StateBackend, StateStore

__all__ = ["Event", "LockInfo", "MissionState", "ResourceState", "StateBackend", "StateStore"]
