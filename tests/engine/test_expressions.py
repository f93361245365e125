"""Expressions end to end: typed whole values, interpolation, references resolved at apply, secrets.

Values are checked where they land: in the fake service's objects (what the provider sent).
Secrets must never be written to the state file, a saved plan or `--json` output - only a digest.
"""

from __future__ import annotations

import json

import pytest

SECRET = "s3cr3t-Zq81-never-written"


def _remote_by_name(ws):
    return {o["name"]: o for o in ws.remote_objects()}


def test_whole_value_expressions_keep_their_type(ws):
    """`${{ var.x }}` alone keeps int, float, bool, list, mapping and null as they are."""
    ws.write("""
        variables:
          n: 4
          site: {lat: 55.6761, tags: [a, b], ok: true, none: null}
        resources:
          i: {type: fake.Thing, spec: {name: i, value: "${{ var.n }}", even: "${{ var.n }}"}}
          f: {type: fake.Thing, spec: {name: f, value: "${{ var.site.lat }}"}}
          l: {type: fake.Thing, spec: {name: l, value: "${{ var.site.tags }}"}}
          m: {type: fake.Thing, spec: {name: m, value: "${{ var.site }}"}}
          b: {type: fake.Thing, spec: {name: b, value: "${{ var.site.ok }}"}}
          z: {type: fake.Thing, spec: {name: z, value: "${{ var.site.none }}"}}
          x: {type: fake.Thing, spec: {name: x, value: "${{ var.site.tags[1] }}"}}
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    remote = _remote_by_name(ws)
    assert remote["i"]["value"] == 4
    assert remote["f"]["value"] == 55.6761
    assert remote["l"]["value"] == ["a", "b"]
    assert remote["m"]["value"] == {"lat": 55.6761, "tags": ["a", "b"], "ok": True, "none": None}
    assert remote["b"]["value"] is True
    assert remote["z"]["value"] is None
    assert remote["x"]["value"] == "b"


def test_expressions_inside_strings_interpolate_as_text(ws):
    """Several expressions in one string become text; mappings and booleans become JSON."""
    ws.write("""
        variables: {n: 4, site: {lat: 1.5, ok: false, tags: [a]}}
        resources:
          a:
            type: fake.Thing
            spec:
              name: "${{ mission.name }}-${{ var.n }}"
              value: "lat=${{ var.site.lat }} ok=${{ var.site.ok }} t=${{ var.site.tags }}"
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    (obj,) = ws.remote_objects()
    assert obj["name"] == "mission-4"
    assert obj["value"] == 'lat=1.5 ok=false t=["a"]'


def test_references_resolve_from_recorded_outputs_at_apply(ws):
    """A reference to another resource's output is known after apply and is sent resolved."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, value: 1}}
          b:
            type: fake.Thing
            spec: {name: "after-${{ resources.a.outputs.id }}", value: "${{ resources.a.outputs.value }}"}
        outputs:
          a_id: "${{ resources.a.outputs.id }}"
          both: "${{ resources.a.outputs.name }}/${{ resources.b.outputs.name }}"
    """)
    plan = ws.run("plan", "--sandbox", "--json", ws.path)
    assert plan.code == 0, str(plan)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    remote = ws.remote_objects()
    a = next(o for o in remote if o["name"] == "a")
    b = next(o for o in remote if o["name"] != "a")
    assert b["name"] == f"after-{a['id']}"
    assert b["value"] == 1
    assert ws.run("output", ws.path, "a_id").out.strip() == a["id"]
    assert ws.run("output", ws.path, "both").out.strip() == f"a/after-{a['id']}"
    again = ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path)
    assert again.code == 0, str(again)


def test_resolved_value_is_checked_again_before_any_request(ws):
    """A value unknown at plan time is validated once resolved; an invalid one fails before create."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, value: 3}}
          b: {type: fake.Thing, spec: {name: b, even: "${{ resources.a.outputs.value }}"}}
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 1, str(ran)
    assert "resources.b.spec.even: 3 is odd; an even number is required" in ran.out + ran.err
    assert sorted(o["name"] for o in ws.remote_objects()) == ["a"]


def _leaks(ws, *texts: str) -> list[str]:
    found = []
    for f in sorted((ws.path / ".skyform").glob("state.db*")):
        if SECRET.encode() in f.read_bytes():
            found.append(f.name)
    for i, t in enumerate(texts):
        if SECRET in t:
            found.append(f"text #{i}")
    return found


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("SKYFORM_SECRET_API_KEY", SECRET)


def test_secret_in_spec_is_stored_only_as_a_digest(ws, secret_env):
    """A secret sent to the service appears in state, plan file and --json output only as a digest."""
    ws.write("""
        resources:
          a:
            type: fake.Thing
            spec: {name: a, immutable_field: "${{ secrets.API_KEY }}", cost: 1}
    """)
    plan = ws.run("plan", "--sandbox", "--json", "-o", ws.path / "plan.json", ws.path)
    assert plan.code == 0, str(plan)
    ran = ws.run("apply", "--sandbox", "--json", ws.path / "plan.json")
    assert ran.code == 0, str(ran)
    # the service did receive the secret...
    body_sent = ws.remote()
    assert body_sent["creates"] == 1
    # ...but skyform wrote it nowhere
    assert _leaks(ws, plan.out, plan.err, ran.out, ran.err, (ws.path / "plan.json").read_text()) == []
    from skyform.spec.values import Secret

    store = ws.store()
    try:
        spec = store.resources("mission")["a"].spec
    finally:
        store.close()
    assert spec["immutable_field"] == {"$secret": Secret(SECRET).digest}
    for line in ran.json_lines():
        assert isinstance(line, dict)
    # changing the secret is a change the plan can see (through the digest) without showing it
    import os

    os.environ["SKYFORM_SECRET_API_KEY"] = SECRET + "-rotated"
    changed = ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path)
    assert changed.code == 2, str(changed)
    assert "~ immutable_field: (sensitive value changed)" in changed.out
    assert SECRET not in changed.out


def test_secret_in_provider_settings_is_redacted_from_errors(ws, secret_env):
    """A secret used as a provider token never shows in error messages or --json output."""
    ws.write("""
        providers:
          fake: {url: "http://127.0.0.1:9/${{ secrets.API_KEY }}", token: "${{ secrets.API_KEY }}"}
        resources:
          a: {type: fake.Thing, spec: {name: a}}
    """)
    ran = ws.run("apply", "--auto-approve", "--json", ws.path)
    assert ran.code == 1, str(ran)
    assert SECRET not in ran.out + ran.err
    assert "***" in ran.out + ran.err
    assert _leaks(ws) == []


def test_secret_echoed_back_by_the_service_is_not_written_to_state(ws, secret_env):
    """A secret the service echoes in outputs/observed is still never written to state in clear."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, value: "${{ secrets.API_KEY }}"}}
        outputs:
          v: "${{ resources.a.outputs.value }}"
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--json", ws.path)
    assert ran.code == 0, str(ran)
    assert _leaks(ws, ran.out, ran.err) == []


def test_secrets_file_provides_secrets_and_they_stay_digests(ws, tmp_path):
    """`--secrets-file` (NAME: value) supplies secrets; state keeps only the digest."""
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"API_KEY: {SECRET}\n")
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, immutable_field: "${{ secrets.API_KEY }}"}}
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--json", "--secrets-file", secrets, ws.path)
    assert ran.code == 0, str(ran)
    assert _leaks(ws, ran.out, ran.err) == []
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", "--secrets-file", secrets, ws.path).code == 0


def test_secret_output_is_shown_as_sensitive(ws, secret_env):
    """A mission output that resolves to a secret is shown as (sensitive), never as value or internal marker."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, value: "${{ secrets.API_KEY }}"}}
        outputs:
          v: "${{ resources.a.outputs.value }}"
    """)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    shown = ws.run("output", ws.path)
    assert SECRET not in shown.out
    assert "$secret" not in shown.out and "(sensitive)" in shown.out


def test_secret_interpolated_into_a_longer_echoed_string_is_not_stored(ws, secret_env):
    """A secret inside a longer string the service echoes back (e.g. a URL with a token) never reaches state."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, value: "https://x.example/?token=${{ secrets.API_KEY }}&v=1"}}
        outputs:
          url: "${{ resources.a.outputs.value }}"
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--json", ws.path)
    assert ran.code == 0, str(ran)
    assert _leaks(ws, ran.out, ran.err, ws.run("output", ws.path).out, ws.run("state", "show", ws.path, "a").out) == []


def test_expression_inside_variables_is_resolved_or_refused(ws, monkeypatch):
    """`variables: {x: "${{ secrets.K }}"}` either resolves (the secret reaches the service) or is a validation
    error at the variable; the literal expression text is never sent."""
    monkeypatch.setenv("SKYFORM_SECRET_K", "sekrit-value-123")
    f = ws.write("""
        variables: {x: "${{ secrets.K }}"}
        resources:
          a: {type: fake.Thing, spec: {name: a, value: "${{ var.x }}"}}
    """)
    validated = ws.run("validate", f).clean()
    if validated.code == 3:
        assert f"{f}:4:" in validated.err and "variables.x" in validated.err
        return
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    assert "${{" not in json.dumps(ws.remote())
