"""The secrets suites' scanner: every byte a campaign produced, by place, searched for every
secret value it used (old and new ones, after rotations)."""

from __future__ import annotations

from pathlib import Path


def secret_settings() -> dict[str, set[str]]:
    """provider -> names of its settings that are secrets (plus OAuth client ids)."""
    from skyform.providers.host import load_registry

    registry = load_registry()
    out: dict[str, set[str]] = {}
    for name, provider in registry.providers.items():
        out[name] = set(provider.secret_settings) | {"client_id"}
    return out


class Scan:
    """Everything one campaign produced, by place, and the secrets to look for."""

    def __init__(self) -> None:
        self.places: dict[str, bytes] = {}
        self.secrets: dict[str, str] = {}

    def add(self, place: str, data: bytes | str) -> None:
        self.places[place] = data.encode() if isinstance(data, str) else data

    def add_tree(self, prefix: str, root: Path) -> None:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.add(f"{prefix}/{path.relative_to(root)}", path.read_bytes())

    def leaks(
        self, places: dict[str, bytes] | None = None, secrets: dict[str, str] | None = None
    ) -> list[tuple[str, str]]:
        found = []
        for place, data in (places or self.places).items():
            for name, value in (secrets or self.secrets).items():
                if value.encode() in data:
                    found.append((place, name))
        return found
