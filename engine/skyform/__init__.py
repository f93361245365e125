"""skyform: declarative mission specs validated, planned and applied through provider plugins.

Plugin authors import one thing: ``from skyform import hookimpl``. The provider API lives
in :mod:`skyform.provider`, errors in :mod:`skyform.errors`.
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("skyform")

__all__ = ["hookimpl", "__version__"]
