"""Plan-time checks against the account: products, the client's priority range, its geofence.

The Tasking API ranks priorities on an inverted scale: ``max_priority`` is the highest
priority (the smallest number), ``min_priority`` the lowest (the largest number), and
``default_priority`` applies when a task sends none. A client may carry a ``geofence``
(a GeoJSON geometry) that tasks must fall inside.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from skyform.errors import Issue, PermanentError
from skyform.spec.values import is_known

from .client import PROVIDER, SatellogicClient
from .geometry import contains


class ProductUnknown(PermanentError):
    """The spec names a product the account cannot task."""


def resolve_product(client: SatellogicClient, value: int | str) -> dict[str, Any]:
    """The ``{pk, name}`` product for an id or a (case-insensitive) name."""
    products = client.products()
    if isinstance(value, int) and not isinstance(value, bool):
        found = [p for p in products if p.get("pk") == value]
    else:
        found = [p for p in products if str(p.get("name", "")).casefold() == str(value).casefold()]
    if len(found) == 1:
        return found[0]
    listing = ", ".join(f"{p.get('pk')} ({p.get('name')})" for p in products) or "none"
    if not found:
        raise ProductUnknown(
            f"{PROVIDER}: product {value!r} is not available to this account; available: {listing}",
            provider=PROVIDER,
            field="product",
        )
    raise ProductUnknown(
        f"{PROVIDER}: product name {value!r} matches several products "
        f"({', '.join(str(p.get('pk')) for p in found)}): use the id",
        provider=PROVIDER,
        field="product",
    )


def choose_client(client: SatellogicClient, name: str | None) -> dict[str, Any] | None:
    """The account client a task is for (by name, or the only one); None when ambiguous."""
    clients = client.clients()
    if name is not None:
        return next((c for c in clients if c.get("name") == name), None)
    return clients[0] if len(clients) == 1 else None


def account_issues(spec: Mapping[str, Any], client: SatellogicClient) -> Iterator[Issue]:
    """Every plan-time problem of a Task spec against the account's configuration."""
    product = spec.get("product")
    if product is not None and is_known(product):
        try:
            resolve_product(client, product)
        except ProductUnknown as exc:
            yield Issue(
                ("product",),
                exc.message.removeprefix(f"{PROVIDER}: "),
                hint="list them with a satellogic.Products resource",
            )
    name = spec.get("client")
    if name is not None and not is_known(name):
        return
    chosen = choose_client(client, name)
    if chosen is None:
        names = ", ".join(str(c.get("name")) for c in client.clients())
        if name is not None:
            yield Issue(("client",), f"client {name!r} is not one of this account's clients: {names}")
        else:
            yield Issue(("client",), f"this account manages several clients ({names}): set `client` to one of them")
        return
    yield from _priority(spec, chosen)
    yield from _geofence(spec, chosen)


def _priority(spec: Mapping[str, Any], chosen: Mapping[str, Any]) -> Iterator[Issue]:
    highest, lowest, default = chosen.get("max_priority"), chosen.get("min_priority"), chosen.get("default_priority")
    if not isinstance(highest, int) or not isinstance(lowest, int):
        return
    span = f"{highest} (highest) to {lowest} (lowest)"
    priority = spec.get("priority")
    if priority is None:
        yield Issue(
            (),
            f"priority not set: client {chosen.get('name')!r} applies its default "
            f"priority {default} (range {span}; smaller is higher)",
            severity="warning",
        )
    elif is_known(priority) and isinstance(priority, int) and not highest <= priority <= lowest:
        yield Issue(
            ("priority",),
            f"priority {priority} is outside the range of client {chosen.get('name')!r}: "
            f"{span}; smaller numbers are higher priority",
            hint=f"use a number from {highest} to {lowest}, or omit it for the default {default}",
        )


def _geofence(spec: Mapping[str, Any], chosen: Mapping[str, Any]) -> Iterator[Issue]:
    fence, target = chosen.get("geofence"), spec.get("target")
    if not isinstance(fence, Mapping) or not isinstance(target, Mapping) or not is_known(target):
        return
    try:
        inside = contains(fence, target)
    except (TypeError, ValueError, IndexError, KeyError):
        return  # malformed target: the schema reports it
    if not inside:
        yield Issue(
            ("target",),
            f"the target lies outside the geofence of client {chosen.get('name')!r}: the service only tasks inside it",
            hint="move the target inside the geofence or use another client",
        )
