"""A plugin whose registration hook fails (for the plugin-error tests)."""

from skyform import hookimpl


@hookimpl
def skyform_providers():  # type: ignore[no-untyped-def]
    raise RuntimeError("the vendor SDK is not configured")
