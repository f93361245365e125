"""A second plugin claiming the provider name ``fake`` (for the name-clash tests)."""

from skyform import hookimpl


@hookimpl
def skyform_providers():  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from .provider import PROVIDER

    return [replace(PROVIDER, version="9.9.9")]
