""" "Did you mean" for names the server does not know: usernames and format names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping


def unknown_user_message(username: str, users: Mapping[str, int]) -> str:
    """ "no CVAT user 'x'", with the closest usernames as suggestions."""
    close = closest(username, users, cutoff=0.6)
    message = f"no CVAT user {username!r}"
    if close:
        message += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return message


def closest(name: str, known: Iterable[str], cutoff: float = 0.75) -> list[str]:
    """Up to three known names close to ``name``."""
    return difflib.get_close_matches(name, list(known), n=3, cutoff=cutoff)
