"""Every provider's estimate in a real sandbox plan, and the demo mission's money (issue 18).

Under ``--sandbox`` the simulators supply URLs and credentials while the mission's
``prices`` stay, so a sandbox plan shows the totals a real one would. Each provider's kind
is planned over real HTTP against its simulator (plan-time checks included); the demo
mission plans a total in EUR against its budget, and over that budget ``plan
--detailed-exitcode`` exits 8 while ``apply`` exits 7 with nothing on any simulator.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from skyform.testing.runner import run_cli

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "specs" / "bridge-a12"
EUR = "EUR"
PRICED = {
    "satellogic": {"client_id": "x", "client_secret": "y", "prices": {"per_km2": 12, "currency": EUR}},
    "dronebundle": {"api_key": "v1_x", "prices": {"per_flight": 600, "currency": EUR}},
    "nodeodm": {"url": "http://127.0.0.1:9", "prices": {"per_compute_hour": 40, "currency": EUR}},
    "cvat": {"url": "https://cvat.invalid", "access_token": "t", "prices": {"per_compute_hour": 6, "currency": EUR}},
}
PHOTOS = [f"data/DJI_000{i}.JPG" for i in range(1, 9)]
SQUARE = [[[12.50, 55.60], [12.52, 55.60], [12.52, 55.62], [12.50, 55.62], [12.50, 55.60]]]


def copy_demo(dst: Path, edit: Any = None) -> Path:
    shutil.copytree(DEMO, dst, ignore=shutil.ignore_patterns(".skyform"))
    if edit is not None:
        path = dst / "mission.yaml"
        path.write_text(edit(path.read_text()))
    return dst


def plan_json(mission: Path) -> dict[str, Any]:
    run = run_cli("plan", "--sandbox", "--json", mission)
    assert run.exit_code == 0, run.output
    return next(e for e in run.events if e.get("event") == "plan")


def test_each_provider_estimates_in_a_sandbox_plan(tmp_path: Path) -> None:
    mission = tmp_path / "priced"
    (mission / "data").mkdir(parents=True)
    for photo in PHOTOS:
        shutil.copy(DEMO / photo, mission / photo)
    resources = {
        "area": {
            "type": "satellogic.Task",
            "spec": {
                "task_name": "area",
                "project_name": "p",
                "product": 178,
                "target": {"type": "Polygon", "coordinates": SQUARE},
                "start": "2027-02-01T00:00:00+00:00",
                "end": "2027-03-01T00:00:00+00:00",
            },
        },
        "site": {"type": "dronebundle.Project", "spec": {"name": "site"}},
        "weekly": {
            "type": "dronebundle.Job",
            "spec": {
                "project_id": "${{ resources.site.outputs.id }}",
                "name": "weekly",
                "type": "drone_inspection",
                "job_pattern": "recurring",
                "start_date": "2027-03-01",
                "end_date": "2027-03-28",
                "recurring_frequency": "weekly",
                "selected_days_of_week": [1],
            },
        },
        "odm": {"type": "nodeodm.Task", "spec": {"images": PHOTOS, "options": {"pc-quality": "high"}}},
        "labels": {"type": "cvat.Project", "spec": {"name": "labels", "labels": [{"name": "crack"}]}},
        "frames": {"type": "cvat.Task", "spec": {"name": "frames", "images": PHOTOS, "labels": [{"name": "crack"}]}},
    }
    doc = {"apiVersion": "skyform/v1", "kind": "Mission", "metadata": {"name": "priced"}}
    (mission / "mission.yaml").write_text(json.dumps({**doc, "providers": PRICED, "resources": resources}))
    plan = plan_json(mission)
    costs = {a["address"]: a.get("cost") for a in plan["actions"]}
    assert costs["area"]["basis"].endswith("km2 (the polygon, one coverage) x 12.00 EUR")
    assert 2.7 < costs["area"]["amount"] / 12 < 2.9  # 0.02 x 0.02 degrees at 55.6 N: 1.26 km x 2.22 km
    assert (costs["weekly"]["amount"], costs["weekly"]["occurrences"]) == (2400.0, 4)  # Mondays 1-22 March
    assert costs["site"]["currency"] == "" and costs["site"]["amount"] == 0  # free: not unknown
    assert costs["odm"] == {
        "amount": 5.33,
        "currency": EUR,
        "basis": "8 images x 0.5 min x 2 (pc-quality high) = 0.13 compute h x 40.00 EUR",
        "confidence": "rough",
        "firm": False,
    }
    assert costs["frames"]["basis"] == "8 images x 0.05 min = 0.01 compute h x 6.00 EUR"
    assert costs["labels"]["amount"] == 0
    assert plan["cost"]["unknown"] == []
    assert plan["cost"]["total"][EUR] == sum(c["amount"] for c in costs.values())


def test_the_demo_plans_a_total_in_eur_against_its_budget(tmp_path: Path) -> None:
    mission = copy_demo(tmp_path / "bridge-a12")
    run = run_cli("plan", "--sandbox", mission)
    assert run.exit_code == 0, run.output
    assert "Estimated cost: at least 1,320.00 EUR, 2.50 units; cost unknown for 3 (not counted): " in run.stdout
    assert "  largest: flight 870.00 EUR, baseline 450.00 EUR, mesh 2.50 units" in run.stdout
    assert "  budget: 1,320.00 of 2,500.00 EUR (1,180.00 left)" in run.stdout


def test_the_demo_over_budget_exits_8_and_apply_sends_nothing(tmp_path: Path) -> None:
    mission = copy_demo(tmp_path / "bridge-a12", lambda text: text.replace("max: 2500", "max: 1000"))
    assert run_cli("plan", "--sandbox", "--detailed-exitcode", mission).exit_code == 8
    refused = run_cli("apply", "--sandbox", "--auto-approve", mission)
    assert refused.exit_code == 7, refused.output
    assert "over the mission's budget: the estimated total 1,320.00 EUR is above budget.max 1,000.00" in refused.stderr
    assert "Items: flight, baseline" in refused.stderr
    objects = run_cli("sandbox", "objects", "--json", mission).json()["objects"]
    assert sum(sum(kinds.values()) for kinds in objects.values()) == 0, objects


MONITOR = """
  monitor:
    type: satellogic.Task
    description: The site every week after the inspection.
    spec:
      task_name: A12 monitoring
      project_name: Bridge inspections
      product: 169
      target: {type: Point, coordinates: ["${{ var.site.lon }}", "${{ var.site.lat }}"]}
      start: "2027-03-08T00:00:00+00:00"
      end: "2027-03-22T00:00:00+00:00"
      expected_age: "7 days, 00:00:00"
      max_captures: 1
"""


def with_monitor(text: str) -> str:
    return text.replace("\noutputs:\n", MONITOR + "\noutputs:\n")


def test_spend_after_a_real_sandbox_apply_and_the_change_against_it(tmp_path: Path) -> None:
    """The demo applied in the sandbox: its state records the EUR estimates applied (NodeODM's
    and CVAT's made at apply, once the photos existed) and the units iTwin reports for the
    finished job; the next plan adds a weekly satellite task against what is spent."""
    mission = copy_demo(tmp_path / "bridge-a12")
    # the services' hours pass 10x faster than the sandbox's default (the satellite task and
    # the iTwin job are each ~3.6 s at 3,600x); what is priced is simulated time, not real
    applied = run_cli("apply", "--sandbox", "--auto-approve", mission, env={"SKYFORM_SANDBOX_CLOCK": "36000"})
    assert applied.exit_code == 0, applied.output
    spent = plan_json(mission)["cost"]["spent"]
    assert spent["total"] == {"EUR": pytest.approx(1320.32), "units": 2.5}  # + 0.29 NodeODM, 0.03 CVAT
    assert set(spent["estimated"]) == {"baseline", "flight", "reconstruct", "annotate"}  # mesh: iTwin's figure
    path = mission / "mission.yaml"
    path.write_text(with_monitor(path.read_text()))
    run = run_cli("plan", "--sandbox", "--detailed-exitcode", mission)
    assert run.exit_code == 2, run.output
    assert "cost estimate: 900.00 EUR for 2 occurrences (450.00 each)" in run.stdout
    assert "  spent so far: 1,320.32 EUR, 2.50 units (the applied estimate for " in run.stdout
    assert (
        "  budget: spent 1,320.32 EUR; this plan adds 900.00 EUR; total 2,220.32 of 2,500.00 EUR (279.68 left)"
    ) in run.stdout
