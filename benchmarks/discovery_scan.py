"""How long gitops' mission discovery takes over a repository of many YAML files (issue 17 item 5).

Usage: python benchmarks/discovery_scan.py [--files 500] [--repeat 7]

Writes a tree like a survey company's missions repository: per site a ``mission.yaml``
(about 60 lines, block style), every fourth in flow style, every eighth as JSON, a
resources-only ``extra.yaml`` beside it, and CI/config YAML that is no mission (including a
Helm-style template that is not valid YAML), ``--files`` files in all. Times
:func:`skyform.gitops.discovery.find_missions` in this process (CPU time, the median of
``--repeat`` rounds, files in the page cache). Run it against two checkouts to compare implementations
(``PYTHONPATH=/other/checkout/engine``); the figure is the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

RESOURCE = """\
  site{i}_{j}:
    type: local.Files
    spec:
      glob: "data/{j}/*.JPG"
      min_count: 1
    lifecycle:
      prevent_destroy: false
"""


def mission_doc(i: int) -> dict[str, object]:
    return {
        "apiVersion": "skyform/v1",
        "kind": "Mission",
        "metadata": {"name": f"site-{i}", "labels": {"region": f"r{i % 7}"}},
        "resources": {
            f"site{i}_{j}": {"type": "local.Files", "spec": {"glob": f"data/{j}/*.JPG", "min_count": 1}}
            for j in range(8)
        },
    }


def write_tree(root: Path, files: int) -> int:
    """Write about ``files`` files; returns how many missions the tree holds."""
    written = missions = 0
    i = 0
    while written < files:
        site = root / "sites" / f"site-{i:04d}"
        site.mkdir(parents=True)
        if i % 8 == 7:
            (site / "mission.json").write_text(json.dumps(mission_doc(i), indent=2))
        elif i % 4 == 3:
            (site / "mission.yaml").write_text(json.dumps(mission_doc(i)).replace('"', ""))  # flow style
        else:
            body = "".join(RESOURCE.format(i=i, j=j) for j in range(8))
            head = f"apiVersion: skyform/v1\nkind: Mission\nmetadata:\n  name: site-{i}\nresources:\n"
            (site / "mission.yaml").write_text(head + body)
        (site / "extra.yaml").write_text("resources:\n" + RESOURCE.format(i=i, j=99))
        missions += 1
        written += 2
        if i % 5 == 0 and written < files:
            ci = root / "ci" / f"job-{i}"
            ci.mkdir(parents=True)
            (ci / "workflow.yml").write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n" * 3)
            written += 1
        if i % 10 == 0 and written < files:
            chart = root / "charts" / f"c{i}" / "templates"
            chart.mkdir(parents=True)
            (chart / "cm.yaml").write_text("{{- if .Values.on }}\napiVersion: v1\nkind: ConfigMap\n{{- end }}\n")
            written += 1
        i += 1
    return missions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    from skyform.gitops.discovery import find_missions

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        expected = write_tree(root, args.files)
        found = find_missions(root)
        rounds = []
        for _ in range(args.repeat):
            start = time.process_time()  # CPU: steadier than the wall clock on a shared machine
            find_missions(root)
            rounds.append(time.process_time() - start)
        seconds = statistics.median(rounds)
    print(
        json.dumps(
            {
                "files": args.files,
                "missions_in_tree": expected,
                "missions_found": len(found),
                "median_cpu_seconds": round(seconds, 5),
                "per_file_us": round(seconds / args.files * 1e6, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
