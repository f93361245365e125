"""skyform: declarative mission specs validated, planned and applied through provider plugins.

Plugin authors import one thing: ``from skyform import hookimpl``. The provider API lives
in :mod:`skyform.providers`, errors in :mod:`skyform.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # bound lazily by __getattr__ below
    import pluggy

    hookimpl: pluggy.HookimplMarker

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    # pluggy is imported on first use, not by `skyform --help` (start-up time matters)
    if name == "hookimpl":
        import pluggy

        global hookimpl
        hookimpl = pluggy.HookimplMarker("skyform")
        return hookimpl
    raise AttributeError(f"module 'skyform' has no attribute {name!r}")
