"""Every documented schema rule of itwin.Job / itwin.Workspace / the settings, as a table of cases.

Each case: a change to a valid spec, the message fragment the user sees, and the spec path
it points at. Schema rules are checked with Draft 2020-12 (as `skyform validate` does),
semantic rules with ``kind.check``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from itwin_cases import (
    _DELETE,
    JOB_CHECK_CASES,
    JOB_SCHEMA_CASES,
    SETTINGS_BAD,
    SETTINGS_OK,
    WORKSPACE_CASES,
    WS,
    _set,
)
from itwin_support import PROVIDER, job_spec
from jsonschema import Draft202012Validator

from skyform.providers import CheckContext
from skyform.spec.values import Unknown

JOB = PROVIDER.kind("Job")
WORKSPACE = PROVIDER.kind("Workspace")
JOB_VALIDATOR = Draft202012Validator(JOB.spec_schema)
CHECK_CTX = CheckContext(today=date(2026, 11, 23), mission_dir=Path("."), address="resources.job")


def test_the_valid_spec_is_valid():
    """The base case passes both the schema and the semantic checks (so each case below isolates one rule)."""
    assert list(JOB_VALIDATOR.iter_errors(job_spec(WS))) == []
    assert list(JOB.check(job_spec(WS), CHECK_CTX)) == []


@pytest.mark.parametrize(
    "path,value,message,where",
    JOB_SCHEMA_CASES,
    ids=[f"{'.'.join(map(str, c[0]))}={'<deleted>' if c[1] is _DELETE else c[1]!r}" for c in JOB_SCHEMA_CASES],
)
def test_job_schema_rule(path, value, message, where):
    """Each documented rule of the Job Creation model rejects a violating spec at the right path."""
    errors = list(JOB_VALIDATOR.iter_errors(_set(job_spec(WS), path, value)))
    found = [(e.message, tuple(e.absolute_path)) for e in errors]
    assert any(message in m and p == where for m, p in found), found


def test_every_documented_enum_value_is_accepted():
    """All 17 output formats, 3 qualities and 3 job types pass."""
    from skyform_itwin.schemas import FORMATS, JOB_TYPES, QUALITIES

    for fmt in FORMATS:
        assert not list(JOB_VALIDATOR.iter_errors(_set(job_spec(WS), ("settings", "outputs"), [fmt]))), fmt
    for quality in QUALITIES:
        assert not list(JOB_VALIDATOR.iter_errors(_set(job_spec(WS), ("settings", "quality"), quality)))
    for job_type in JOB_TYPES:
        assert not list(JOB_VALIDATOR.iter_errors(_set(job_spec(WS), ("type",), job_type)))
    assert len(FORMATS) == 17


@pytest.mark.parametrize(
    "path,value,message,where,severity",
    JOB_CHECK_CASES,
    ids=[".".join(map(str, c[0])) + ":" + c[2][:20] for c in JOB_CHECK_CASES],
)
def test_job_semantic_rule(path, value, message, where, severity):
    """Rules the schema cannot state come from JobKind.check, pointing at the field."""
    issues = list(JOB.check(_set(job_spec(WS), path, value), CHECK_CTX))
    assert [(i.path, i.severity) for i in issues if message in i.message] == [(where, severity)], issues


def test_check_skips_unknown_values():
    """Values known only after apply (a workspace's id, an input from another resource) are not judged."""
    spec = job_spec(Unknown("resources.ws.outputs.id"))
    spec["inputs"] = [{"id": Unknown("resources.a.outputs.id")}, {"id": Unknown("resources.a.outputs.id")}]
    spec["settings"]["outputs"] = [Unknown("var.format"), Unknown("var.format")]
    assert list(JOB.check(spec, CHECK_CTX)) == []


@pytest.mark.parametrize("spec,message,where", WORKSPACE_CASES)
def test_workspace_schema_rule(spec, message, where):
    errors = [
        (e.message, tuple(e.absolute_path)) for e in Draft202012Validator(WORKSPACE.spec_schema).iter_errors(spec)
    ]
    assert any(message in m and p == where for m, p in errors), errors


@pytest.mark.parametrize("settings", SETTINGS_OK)
def test_settings_accepted(settings):
    assert list(Draft202012Validator(PROVIDER.settings_schema).iter_errors(settings)) == []


@pytest.mark.parametrize("settings,message", SETTINGS_BAD)
def test_settings_rejected(settings, message):
    """Provider settings: a token XOR client credentials, https URLs, a non-negative budget."""
    errors = [e.message for e in Draft202012Validator(PROVIDER.settings_schema).iter_errors(settings)]
    assert any(message in m for m in errors), errors
