"""Authentication refusals: each documented 403 code_name becomes a one-line AuthError that
says what to do, and the key never appears in a message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from skyform import redact
from skyform.errors import AuthError
from skyform_dronebundle.client import DroneBundleClient
from skyform_dronebundle.simulator import access

JOB = {"name": "n", "type": "drone_inspection", "job_pattern": "one_time", "start_date": "2030-01-01"}

# (key, operation, code_name the simulator answers, what the user is told to do)
CASES = [
    (
        "v1_not_a_real_key_000000000000",
        "list",
        "invalid_api_key",
        "the API key was not recognised: set api_key in the dronebundle provider settings",
    ),
    (access.INACTIVE_KEY, "list", "api_key_inactive", "the API key is inactive: reactivate it"),
    (
        access.READ_ONLY_KEY,
        "create",
        "read_only_access",
        "the API key has the read_only scope but POST /v1/projects needs full_access: use a key with the "
        "full_access scope",
    ),
    (
        access.STARTER_KEY,
        "list",
        "enterprise_required",
        "the workspace is not on the Enterprise plan, which the DroneBundle API requires",
    ),
    (
        access.PATH_RESTRICTED_KEY,
        "get",
        "api_key_path_not_allowed",
        "the API key is not allowed to call GET /v1/projects/P1: allow this path for the key",
    ),
]


def _call(client: DroneBundleClient, operation: str) -> Any:
    if operation == "list":
        return list(client.list_projects())
    if operation == "create":
        return client.create_project({"name": "x"})
    return client.get_project("P1")


@pytest.mark.parametrize("key, operation, code, advice", CASES, ids=[c[2] for c in CASES])
def test_each_code_name_becomes_a_one_line_auth_error(sandbox, key, operation, code, advice) -> None:
    """The simulator refuses with 403 {message, code_name}; the provider says what to do, on one line."""
    client = DroneBundleClient(sandbox.settings()["url"], key)
    with pytest.raises(AuthError) as caught:
        _call(client, operation)
    message = str(caught.value)
    assert message.startswith(f"dronebundle: {advice}")
    assert message.endswith(f"[{code}]") and "\n" not in message
    assert caught.value.status == 403 and caught.value.body["code_name"] == code
    assert key not in message


@pytest.mark.parametrize("key, operation, code, advice", CASES, ids=[c[2] for c in CASES])
def test_simulator_refusals_have_the_documented_shape(sandbox, key, operation, code, advice) -> None:
    """Sent directly, each refusal is HTTP 403 with exactly {message, code_name}."""
    url = sandbox.settings()["url"]
    method, path = {"list": ("GET", "/projects"), "create": ("POST", "/projects"), "get": ("GET", "/projects/P1")}[
        operation
    ]
    response = httpx.request(
        method, url + path, json={"name": "x"} if method == "POST" else None, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"message", "code_name"} and body["code_name"] == code


def test_missing_bearer_header_is_an_invalid_key(sandbox) -> None:
    """No Authorization header at all: 403 invalid_api_key."""
    response = httpx.get(sandbox.settings()["url"] + "/projects")
    assert response.status_code == 403 and response.json()["code_name"] == "invalid_api_key"


def test_read_only_key_may_read(sandbox, client) -> None:
    """A read_only key lists and gets; only writes are refused."""
    project_id = client.create_project({"name": "readable"})
    reader = DroneBundleClient(sandbox.settings()["url"], access.READ_ONLY_KEY)
    assert reader.get_project(project_id)["name"] == "readable"


def test_empty_api_key_fails_before_any_request() -> None:
    """No api_key in the settings: an AuthError saying where to create one, without a request."""
    with pytest.raises(AuthError, match="no api_key in the provider settings"):
        DroneBundleClient("http://127.0.0.1:9/v1", "")


def test_the_api_key_is_registered_for_redaction(sandbox) -> None:
    """The key is masked wherever skyform prints."""
    DroneBundleClient(sandbox.settings()["url"], access.SANDBOX_KEY)
    assert redact.redact(f"Bearer {access.SANDBOX_KEY}") == "Bearer ***"


def test_settings_schema_requires_a_v1_key() -> None:
    """The settings schema wants api_key starting with v1_ and marks it secret."""
    from jsonschema import Draft202012Validator

    from skyform_dronebundle.provider import PROVIDER

    validator = Draft202012Validator(PROVIDER.settings_schema)
    assert list(validator.iter_errors({"api_key": "v1_abc"})) == []
    assert [e.validator for e in validator.iter_errors({"api_key": "sk_abc"})] == ["pattern"]
    assert PROVIDER.secret_settings == {"api_key"}
