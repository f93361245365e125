"""'Did you mean' hints for misspelt names."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    """A hint naming the closest option, or None when nothing is close."""
    import difflib  # only when there is something to suggest: not on every start-up

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
