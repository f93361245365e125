"""Start-up stays cheap: which modules `skyform --help` and `skyform validate` import (not timed).

Each command runs in a fresh interpreter with the installed entry points, and reports the
modules it ended with. `--help` imports no plugin machinery at all; validating a mission
that names only `local` imports that provider alone - not the other built-ins, not the
HTTP stack, and not jsonschema, since jsonschema-rs decides the valid case (jsonschema is
the reference for errors and is imported when a spec is invalid).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import atexit, json, sys
report = sys.argv.pop(1)
atexit.register(lambda: open(report, "w").write(json.dumps(sorted(sys.modules))))
from skyform.cli.main import main
sys.argv[0] = "skyform"
main()
"""

OTHER_PROVIDERS = (
    "skyform_nodeodm",
    "skyform_cvat",
    "skyform_satellogic",
    "skyform_dronebundle",
    "skyform_itwin",
)
HEAVY = (
    "httpx",
    "jsonschema",
    "werkzeug",
    "psycopg",
    "pyodm",
    "cvat_sdk",
    "networkx",
    "celery",
    "kombu",
    "skyform.apply",
    "skyform.plan.planner",
    "skyform.sandbox",
    "skyform.catalog.lineage",
    "skyform.catalog.stac",
)


#: what `validate` never imports, cold or from the cache (issue 16: start-up is the floor)
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


def imported(
    tmp_path: Path, *argv: str, cache: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `skyform ARGV` as a fresh process with the real plugins; the modules it imported.

    Without ``cache`` the mission cache is off (the cold path: parse and validate for real);
    with it, the run reads and writes the cache under that directory, as a user's runs do."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKYFORM_")}
    if cache is None:
        env["SKYFORM_NO_CACHE"] = "1"
    else:
        env["XDG_CACHE_HOME"] = str(cache)
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    return done, set(json.loads(out.read_text()))


def top(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in names or any(m.startswith(n + ".") for n in names))


def test_help_imports_no_plugin_machinery(tmp_path: Path) -> None:
    """`skyform --help` lists commands without pluggy, providers, YAML or the output module."""
    done, modules = imported(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert "validate" in done.stdout
    assert (
        top(
            modules,
            (
                "pluggy",
                "skyform.providers",
                "skyform_local",
                "ruamel",
                "skyform.cli.output",
                *HEAVY,
                *OTHER_PROVIDERS,
            ),
        )
        == []
    )


@pytest.fixture
def local_mission(tmp_path: Path) -> Path:
    mission = tmp_path / "m"
    (mission / "data").mkdir(parents=True)
    (mission / "data" / "img.jpg").write_bytes(b"\xff\xd8 tiny \xff\xd9")
    (mission / "mission.yaml").write_text(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: one}\nresources:\n"
        "  photos:\n    type: local.Files\n    spec: {paths: [data/img.jpg], min_count: 1}\n"
    )
    return mission


def test_validate_imports_only_the_provider_the_mission_names(tmp_path: Path, local_mission: Path) -> None:
    """`skyform validate` of a local-only mission imports skyform_local and none of the heavy modules."""
    done, modules = imported(tmp_path, "validate", str(local_mission))
    assert done.returncode == 0, done.stderr
    assert "Valid." in done.stdout
    assert "skyform_local.provider" in modules  # guards against a vacuous pass
    assert top(modules, (*OTHER_PROVIDERS, *HEAVY)) == []


def test_an_invalid_spec_still_gets_jsonschemas_messages(tmp_path: Path, local_mission: Path) -> None:
    """The lazy import of jsonschema does not lose its errors: an invalid spec is reported with them."""
    (local_mission / "mission.yaml").write_text(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: one}\nresources:\n"
        "  photos:\n    type: local.Files\n    spec: {paths: [data/img.jpg], min_count: -1}\n"
    )
    done, modules = imported(tmp_path, "validate", str(local_mission))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "resources.photos.spec.min_count" in done.stdout + done.stderr
    assert "jsonschema" in modules


def test_validate_imports_no_heavy_module_cold_or_warm(tmp_path: Path, local_mission: Path) -> None:
    """`validate` imports none of the distributed, HTTP, state or UI machinery; from the cache,
    not even the YAML parser or the checks."""
    cache = tmp_path / "cache"
    done, cold = imported(tmp_path, "validate", str(local_mission), cache=cache)
    assert done.returncode == 0 and "Valid." in done.stdout, done.stdout + done.stderr
    assert "skyform_local.provider" in cold and "ruamel.yaml" in cold  # it really parsed and checked
    assert top(cold, NEVER) == []
    done, warm = imported(tmp_path, "validate", str(local_mission), cache=cache)
    assert done.returncode == 0 and "Valid." in done.stdout, done.stdout + done.stderr
    assert "skyform_local.provider" in warm  # the verdict is keyed by the provider's version
    assert top(warm, NEVER + WARM_ALSO) == []
