"""Validation: every problem of a mission at once, each pointing at ``file:line:col``.

Start at :func:`.checks.validate_mission`.
"""
