"""Registers the fake provider like any plugin."""

from skyform import hookimpl


@hookimpl
def skyform_providers():  # type: ignore[no-untyped-def]
    from .provider import PROVIDER

    return [PROVIDER]
