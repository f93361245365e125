"""The `skyform validate` path stays lazy as the CLI grows (issue 16; not timed).

New commands (``worker``, ``artifacts``, ``approve``, ``ui``) and the executor hook bring
celery, kombu, werkzeug and friends into the tree; the lazy command table keeps them out of
``validate``. This test runs ``skyform validate`` twice in fresh interpreters with the
installed entry points - the first parses and checks (cold), the second is a user's next run
(the content-hash cache) - and names the modules neither may import. The warm run must also
skip the YAML parser and the checks, and no run reads entry points through
``importlib.metadata`` (50-80 ms of start-up: ``skyform.providers.entrypoints`` reads them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import atexit, json, sys
report = sys.argv.pop(1)
atexit.register(lambda: open(report, "w").write(json.dumps(sorted(sys.modules))))
from skyform.cli.main import main
sys.argv[0] = "skyform"
main()
"""

NEVER = (
    "celery",
    "kombu",
    "billiard",
    "httpx",
    "httpcore",
    "jsonschema",
    "werkzeug",
    "psycopg",
    "redis",
    "boto3",
    "fsspec",
    "importlib.metadata",
    "platformdirs",
    "skyform.apply",
    "skyform.distributed",
    "skyform.artifacts.store",  # the plugin API's Digest comes from skyform.artifacts.digest alone
    "skyform.artifacts.location",
    "skyform.ui",
    "skyform.plan.model",
    "skyform.sandbox",
    "skyform.state",
)
#: the cold run checks schemas with jsonschema-rs, whose module imports email and decimal
WARM_ALSO = ("ruamel", "jsonschema_rs", "email", "skyform.validate.checks", "skyform.graph")


def modules_of_validate(tmp_path: Path, mission: Path, cache: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKYFORM_")}
    env["XDG_CACHE_HOME"] = str(cache)
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), "validate", str(mission)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "Valid." in done.stdout, done.stdout + done.stderr
    return set(json.loads(out.read_text()))


def among(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in names or any(m.startswith(n + ".") for n in names))


def test_validate_imports_no_heavy_module_cold_or_warm(tmp_path: Path) -> None:
    mission = tmp_path / "m"
    (mission / "data").mkdir(parents=True)
    (mission / "data" / "img.jpg").write_bytes(b"\xff\xd8 tiny \xff\xd9")
    (mission / "mission.yaml").write_text(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: one}\nresources:\n"
        "  photos:\n    type: local.Files\n    spec: {paths: [data/img.jpg], min_count: 1}\n"
    )
    cache = tmp_path / "cache"
    cold = modules_of_validate(tmp_path, mission, cache)
    assert "skyform_local.provider" in cold and "ruamel.yaml" in cold  # it really parsed and checked
    assert among(cold, NEVER) == []
    warm = modules_of_validate(tmp_path, mission, cache)
    assert "skyform_local.provider" in warm  # the verdict is keyed by the provider's version
    assert among(warm, NEVER + WARM_ALSO) == []
