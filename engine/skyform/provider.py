"""Deprecated alias of :mod:`skyform.providers`, the plugin API's home since 0.2.

Third-party plugins written against ``from skyform.provider import Provider`` keep working;
new code imports from :mod:`skyform.providers` (docs/plugins.md, "The plugin API").
"""

from __future__ import annotations

from .providers import *  # noqa: F403 - the alias re-exports the public API as it is
from .providers import __all__  # noqa: F401
