"""The ``satellogic.Products`` data source: the products the account can task, for references."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skyform.providers import Change, OperationContext, Record, ResourceKind, Result

from .schemas import PRODUCTS_OUTPUTS, PRODUCTS_SPEC


class ProductsKind(ResourceKind):
    """Read-only: "create" reads GET /products/; nothing is ever made or deleted remotely."""

    name = "Products"
    description = "The products available for tasking (GET /products/), read-only."
    spec_schema = PRODUCTS_SPEC
    outputs_schema = PRODUCTS_OUTPUTS
    stable_outputs = frozenset()  # an update is a new filter: every output may change
    data_source = True
    delete_mode = "forget"
    delete_note = "a data source: nothing to delete remotely"

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        """Read the product list (a data source creates nothing)."""
        return self._read(spec, ctx)

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        """Read the product list again."""
        return self._read(record.spec, ctx)

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext) -> Result:
        """A changed filter: read again."""
        return self._read(spec, ctx)

    def delete(self, record: Record, ctx: OperationContext) -> None:
        """Nothing to delete remotely: the engine only forgets it."""
        return None

    def _read(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        wanted = str(spec.get("name_contains") or "").casefold()
        products = [
            {"pk": p.get("pk"), "name": p.get("name")}
            for p in ctx.client.products()
            if wanted in str(p.get("name", "")).casefold()
        ]
        return Result(
            remote_id="products",
            status="ready",
            observed=dict(spec),
            outputs={
                "products": products,
                "ids": [p["pk"] for p in products],
                "by_name": {str(p["name"]): p["pk"] for p in products},
                "count": len(products),
            },
        )
