"""The same lineage as the STAC catalog, as W3C PROV for auditors: PROV-JSON or plain text.

Entities are the products (with skyform's digests), activities the operations that made
them (start and end from the event history), agents skyform itself, the provider that
spoke to the service, and the person who approved the plan when one did. ``derived_from``
in the catalog is ``wasDerivedFrom`` here, and each operation ``used`` its inputs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ..errors import UsageError
from ..suggest import did_you_mean
from .lineage import Lineage, Product

NS = "https://skyform.dev/ns/provenance#"


def upstream(lineage: Lineage, address: str) -> list[Product]:
    """``address``'s products and every product they derive from, inputs first."""
    start = lineage.product(address)
    if not start:
        known = sorted({p.address for p in lineage.products})
        raise UsageError(
            f"{address!r} produced no dataset recorded in state" + (did_you_mean(address, known) or ""),
            hint=f"resources with products: {', '.join(known) or 'none yet'}",
        )
    by_id = {p.id: p for p in lineage.products}
    wanted: dict[str, Product] = {}
    stack = list(start)
    while stack:
        product = stack.pop()
        if product.id not in wanted:
            wanted[product.id] = product
            stack += [by_id[i] for i in product.inputs if i in by_id]
    return [p for p in lineage.products if p.id in wanted]


def prov_json(lineage: Lineage, products: Iterable[Product]) -> dict[str, Any]:
    """A PROV-JSON document (W3C member submission layout) of ``products``."""
    doc: dict[str, Any] = {
        "prefix": {"skyform": NS, "prov": "http://www.w3.org/ns/prov#", "xsd": "http://www.w3.org/2001/XMLSchema#"},
        "entity": {},
        "activity": {},
        "agent": {},
        "wasGeneratedBy": {},
        "used": {},
        "wasDerivedFrom": {},
        "wasAssociatedWith": {},
        "actedOnBehalfOf": {},
    }
    products = list(products)
    counter = iter(range(1, 1_000_000))

    def relation(kind: str, body: dict[str, Any]) -> None:
        doc[kind][f"_:{kind}{next(counter)}"] = body

    agents_done: set[str] = set()
    for p in products:
        entity = f"skyform:{p.id}"
        doc["entity"][entity] = _entity(p)
        activity = f"skyform:operation/{p.address}"
        if activity not in doc["activity"]:
            doc["activity"][activity] = {
                "prov:type": "skyform:Operation",
                "prov:label": f"{p.type} {p.address}",
                "prov:startTime": _time(p.operation.started),
                "prov:endTime": _time(p.operation.ended),
                **(
                    {"skyform:plan_digest": p.operation.run.plan_digest}
                    if p.operation.run and p.operation.run.plan_digest
                    else {}
                ),
            }
            run = p.operation.run
            skyform_agent = f"skyform:skyform/{run.skyform_version if run and run.skyform_version else 'unknown'}"
            provider_agent = f"skyform:provider/{p.provider}/{p.provider_version or 'unknown'}"
            for agent, body in (
                (skyform_agent, {"prov:type": "prov:SoftwareAgent", "prov:label": "skyform"}),
                (provider_agent, {"prov:type": "prov:SoftwareAgent", "prov:label": f"skyform provider {p.provider}"}),
            ):
                if agent not in agents_done:
                    doc["agent"][agent] = body
                    agents_done.add(agent)
                relation("wasAssociatedWith", {"prov:activity": activity, "prov:agent": agent})
            if run and run.approved_by:
                person = f"skyform:person/{run.approved_by}"
                if person not in agents_done:
                    doc["agent"][person] = {"prov:type": "prov:Person", "prov:label": run.approved_by}
                    agents_done.add(person)
                relation(
                    "actedOnBehalfOf",
                    {"prov:delegate": skyform_agent, "prov:responsible": person, "prov:activity": activity},
                )
            for source in p.inputs:
                relation("used", {"prov:activity": activity, "prov:entity": f"skyform:{source}"})
        relation(
            "wasGeneratedBy", {"prov:entity": entity, "prov:activity": activity, "prov:time": _time(p.operation.ended)}
        )
        for source in p.inputs:
            relation(
                "wasDerivedFrom",
                {"prov:generatedEntity": entity, "prov:usedEntity": f"skyform:{source}", "prov:activity": activity},
            )
    return {k: v for k, v in doc.items() if v}


def prov_text(lineage: Lineage, products: Iterable[Product]) -> list[str]:
    """The same graph for a person: each product, what made it, and what it came from."""
    lines: list[str] = [f"Provenance in mission {lineage.mission.name} (state serial {lineage.mission.serial}):"]
    for p in products:
        run = p.operation.run
        lines.append("")
        lines.append(f"{p.id}  {p.dataset.title}")
        for asset in p.dataset.assets:
            where = asset.path or asset.href or ""
            digest = f"  sha256:{asset.sha256}" if asset.sha256 else ""
            lines.append(f"    asset {asset.key}: {where}{digest}")
        lines.append(
            f"  generated by  {p.type} {p.address}"
            + (f" ({p.remote_id})" if p.remote_id else "")
            + f", {_time(p.operation.started)} to {_time(p.operation.ended)}"
        )
        software = ", ".join(f"{k} {v}" for k, v in p.dataset.software.items())
        if software:
            lines.append(f"  software      {software}")
        who = [
            f"skyform {run.skyform_version}" if run and run.skyform_version else "skyform",
            f"provider {p.provider} {p.provider_version}".rstrip(),
        ]
        if run and run.approved_by:
            who.append(f"approved by {run.approved_by}")
        lines.append(f"  agents        {', '.join(who)}")
        if run and run.plan_digest:
            lines.append(f"  plan          {run.plan_digest}")
        if p.cost is not None:
            lines.append(f"  cost          {p.cost:g}")
        lines.append(f"  derived from  {', '.join(p.inputs) if p.inputs else '(an input of the mission)'}")
    return lines


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True)


def _entity(p: Product) -> dict[str, Any]:
    body: dict[str, Any] = {
        "prov:type": "skyform:Dataset",
        "prov:label": p.dataset.title,
        "skyform:resource": p.address,
        "skyform:type": p.type,
    }
    if p.remote_id:
        body["skyform:remote_id"] = p.remote_id
    digests = [f"{a.key}=sha256:{a.sha256}" for a in p.dataset.assets if a.sha256]
    if digests:
        body["skyform:digests"] = " ".join(digests)
    return body


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")
