"""Plan-time checks against the simulated account: products, priority ranges, geofences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from satellogic_support import Sandbox, aoi_spec, poi_spec

from skyform.spec.values import Unknown
from skyform_satellogic.provider import PROVIDER
from skyform_satellogic.simulator.server import CLIENT

TASK = PROVIDER.kind("Task")

FENCE = {"type": "Polygon", "coordinates": [[[1.0, 47.0], [3.0, 47.0], [3.0, 49.0], [1.0, 49.0], [1.0, 47.0]]]}
CLIENTS = [
    {**CLIENT, "name": "Amusement Corp"},
    {
        **CLIENT,
        "name": "Theme parks client",
        "min_priority": 30,
        "max_priority": 20,
        "default_priority": 25,
        "geofence": FENCE,
    },
]


def issues(sb: Sandbox, spec: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    return [(i.path, i.message, i.severity) for i in TASK.plan_check(spec, sb.ctx())]


def errors(sb: Sandbox, spec: dict[str, Any]) -> list[str]:
    return [m for _, m, sev in issues(sb, spec) if sev == "error"]


def test_known_product_id_and_name_pass(sandbox: Sandbox) -> None:
    """A product id from /products/ and a product name (any case) both resolve."""
    assert errors(sandbox, poi_spec(priority=14)) == []
    assert errors(sandbox, poi_spec(priority=14, product="poi tasking 70CM multispectral")) == []


@pytest.mark.parametrize("product", [999, "Hyperspectral"])
def test_unknown_product_is_an_error_listing_the_available_ones(sandbox: Sandbox, product: Any) -> None:
    """The message names the product and what the account can task instead."""
    (message,) = errors(sandbox, poi_spec(product=product))
    assert f"product {product!r} is not available to this account" in message
    assert "169 (POI Tasking 70cm Multispectral)" in message and "178 (AOI Area Coverage)" in message


def test_omitted_priority_shows_the_client_default_as_a_warning(sandbox: Sandbox) -> None:
    """Without priority the plan says which default applies, and on which inverted range."""
    ((_path, message, severity),) = issues(sandbox, poi_spec())
    assert severity == "warning"
    assert "default priority 14" in message and "13 (highest) to 15 (lowest)" in message


@pytest.mark.parametrize("priority, ok", [(12, False), (13, True), (14, True), (15, True), (16, False)])
def test_priority_must_lie_in_the_inverted_range(sandbox: Sandbox, priority: int, ok: bool) -> None:
    """max_priority (13) is the smallest allowed number, min_priority (15) the largest."""
    found = errors(sandbox, poi_spec(priority=priority))
    if ok:
        assert found == []
    else:
        assert found == [
            f"priority {priority} is outside the range of client 'Amusement Corp': 13 (highest) to "
            "15 (lowest); smaller numbers are higher priority"
        ]


def test_several_clients_need_a_client_field(start_sandbox: Callable[..., Sandbox]) -> None:
    """An account managing several clients must say which one; unknown names are refused."""
    sb = start_sandbox(clients=CLIENTS)
    assert errors(sb, poi_spec(priority=14)) == [
        "this account manages several clients (Amusement Corp, Theme parks client): set `client` to one of them"
    ]
    assert errors(sb, poi_spec(priority=14, client="Nobody")) == [
        "client 'Nobody' is not one of this account's clients: Amusement Corp, Theme parks client"
    ]


def test_named_client_uses_its_own_range(start_sandbox: Callable[..., Sandbox]) -> None:
    """Priority is judged against the chosen client's range, not the first one's."""
    sb = start_sandbox(clients=CLIENTS)
    inside = {"type": "Point", "coordinates": [2.0, 48.0]}
    assert errors(sb, poi_spec(client="Theme parks client", priority=25, target=inside)) == []
    (message,) = errors(sb, poi_spec(client="Theme parks client", priority=14, target=inside))
    assert "client 'Theme parks client': 20 (highest) to 30 (lowest)" in message


def test_target_outside_the_geofence_is_an_error(start_sandbox: Callable[..., Sandbox]) -> None:
    """A client geofence must contain the whole target (a point, or every polygon vertex)."""
    sb = start_sandbox(clients=[CLIENTS[1]])
    assert errors(sb, aoi_spec(priority=25)) == []  # the AOI square lies inside FENCE
    assert errors(sb, poi_spec(priority=25)) == [
        "the target lies outside the geofence of client 'Theme parks client': the service only tasks inside it"
    ]
    straddling = {"type": "Polygon", "coordinates": [[[2.5, 48.0], [3.5, 48.0], [3.5, 48.5], [2.5, 48.0]]]}
    assert len(errors(sb, aoi_spec(priority=25, target=straddling))) == 1


def test_geofence_violation_is_also_refused_by_the_service(start_sandbox: Callable[..., Sandbox]) -> None:
    """The simulator rejects what plan_check warns about, in DRF's field-error shape."""
    from skyform.errors import PermanentError

    sb = start_sandbox(clients=[CLIENTS[1]])
    with pytest.raises(PermanentError) as err:
        TASK.create(poi_spec(), sb.ctx())
    assert "target: Target is outside the client's geofence." in err.value.message
    assert err.value.field == "target" and err.value.status == 400


def test_unknown_values_are_not_checked(sandbox: Sandbox) -> None:
    """Values known only after apply are skipped at plan time (checked again at apply)."""
    spec = poi_spec(product=Unknown("resources.p.outputs.ids"), priority=Unknown("var.p"), target=Unknown("var.site"))
    assert errors(sandbox, spec) == []


def test_products_data_source_lists_the_products(sandbox: Sandbox) -> None:
    """satellogic.Products reads /products/ into outputs usable by references."""
    kind = PROVIDER.kind("Products")
    assert kind.data_source
    result = kind.create({}, sandbox.ctx())
    assert result.status == "ready"
    assert result.outputs["ids"] == [90, 169, 178] and result.outputs["count"] == 3
    assert result.outputs["by_name"]["AOI Area Coverage"] == 178
    assert kind.create({"name_contains": "aoi"}, sandbox.ctx()).outputs["ids"] == [178]
