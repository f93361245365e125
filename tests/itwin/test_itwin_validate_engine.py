"""The same schema and semantic tables through the engine's validation (what `skyform validate` runs).

Each case becomes a one-resource mission; the engine must report it at
``resources.job.spec.<path>`` with the message the user sees (the engine words unknown
fields as "unknown field 'x'" and points at the key itself).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from itwin_cases import _DELETE, JOB_CHECK_CASES, JOB_SCHEMA_CASES, WS, _set
from itwin_support import job_spec

api = pytest.importorskip("skyform.api")
from skyform.errors import SpecError  # noqa: E402
from skyform.providers.host import build_plugin_manager, load_registry  # noqa: E402


@pytest.fixture(scope="module")
def registry():
    import skyform_itwin.plugin

    return load_registry(build_plugin_manager([skyform_itwin.plugin], autoload=False))


def _diagnostics(tmp_path: Path, registry, spec) -> list:
    mission = {
        "apiVersion": "skyform/v1",
        "kind": "Mission",
        "metadata": {"name": "v"},
        "resources": {"job": {"type": "itwin.Job", "spec": spec}},
    }
    (tmp_path / "mission.yaml").write_text(json.dumps(mission, indent=2))  # JSON is YAML
    try:
        _, warnings = api.load(tmp_path / "mission.yaml", registry)
    except SpecError as err:
        return err.diagnostics
    return warnings


def _expected(message: str, where: tuple) -> tuple[str, tuple]:
    extra = re.match(r"Additional properties are not allowed \('(.+)' was unexpected\)", message)
    if extra:
        return f"unknown field '{extra.group(1)}'", where + (extra.group(1),)
    return message, where


@pytest.mark.parametrize(
    "path,value,message,where",
    JOB_SCHEMA_CASES,
    ids=[f"{'.'.join(map(str, c[0]))}={'<deleted>' if c[1] is _DELETE else c[1]!r}" for c in JOB_SCHEMA_CASES],
)
def test_skyform_validate_reports_schema_rule(tmp_path, registry, path, value, message, where):
    from skyform.testing.operations import engine_wording
    from skyform_itwin.schemas import JOB_SPEC_SCHEMA

    spec = _set(job_spec(WS), path, value)
    fragment, at = _expected(message, where)
    if fragment == message:  # jsonschema's wording in the table: the engine says it for the author
        fragment = engine_wording(JOB_SPEC_SCHEMA, spec, message, ("resources", "job", "spec"))
    found = [(d.path, d.message) for d in _diagnostics(tmp_path, registry, spec)]
    want = ".".join(["resources", "job", "spec", *map(str, at)])
    assert any(p == want and fragment in m for p, m in found), found


@pytest.mark.parametrize(
    "path,value,message,where,severity",
    JOB_CHECK_CASES,
    ids=[".".join(map(str, c[0])) + ":" + c[2][:20] for c in JOB_CHECK_CASES],
)
def test_skyform_validate_reports_semantic_rule(tmp_path, registry, path, value, message, where, severity):
    found = [(d.path, d.message, d.severity) for d in _diagnostics(tmp_path, registry, _set(job_spec(WS), path, value))]
    want = ".".join(["resources", "job", "spec", *map(str, where)])
    assert any(p == want and message in m and s == severity for p, m, s in found), found


def test_skyform_validate_accepts_the_valid_spec(tmp_path, registry):
    assert _diagnostics(tmp_path, registry, job_spec(WS)) == []
