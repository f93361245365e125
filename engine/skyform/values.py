"""Deprecated alias of :mod:`skyform.spec.values`, for plugins written before the move.

docs/plugins.md used to point plugin authors here for ``Secret``, ``Unknown`` and
``is_known``; those three keep working from this name. New code imports them from
:mod:`skyform.spec.values`.
"""

from __future__ import annotations

from .spec.values import Secret, Unknown, is_known

__all__ = ["Secret", "Unknown", "is_known"]
