"""A value made from a secret stays sensitive when the service reports it back, across rotations.

The value model (:func:`skyform.spec.values.sensitive`) and the plan of a rotated secret through
the CLI. The CLI runs in-process: each run starts with no secret known, as a fresh process
would (``ws.run`` isolates the redaction registry: the new run knows only the new secret),
without a process start per command.
"""

from __future__ import annotations

import json

from skyform import redact
from skyform.spec.values import SECRET_MARK, Secret, sealed, sensitive

OLD = "old-key-PZ7Q-value"
NEW = "new-key-Q8RT-value"


def test_a_value_where_a_secret_was_recorded_stays_secret() -> None:
    """Read back after a rotation, the service's value (made from the old secret, unknown to
    this process) is still a secret, compared by digest, and masked from then on."""
    recorded = sealed({"name": Secret(f"survey {OLD}"), "labels": [{"name": "crack"}]})
    assert set(recorded["name"]) == {SECRET_MARK}
    back = sensitive({"name": f"survey {OLD}", "labels": [{"name": "crack"}]}, like=recorded)
    assert isinstance(back["name"], Secret) and back["labels"] == [{"name": "crack"}]
    assert sealed(back) == recorded
    assert redact.redact(f"project 'survey {OLD}' exists") == "project '***' exists"


def test_a_changed_value_where_a_secret_was_recorded_is_secret_but_differs() -> None:
    recorded = sealed({"name": Secret("survey something-secret-1")})
    now = sealed({"name": "renamed by someone"}, like=recorded)
    assert set(now["name"]) == {SECRET_MARK} and now != recorded


def test_plain_values_stay_plain_and_known_secrets_are_sealed_anywhere() -> None:
    redact.register("a-registered-secret-77")
    got = sealed({"url": "https://x/?t=a-registered-secret-77", "n": 3, "items": ["a", "b"]}, like={"n": 3})
    assert set(got["url"]) == {SECRET_MARK}
    assert got["n"] == 3 and got["items"] == ["a", "b"]


def test_a_rotated_spec_secret_plans_a_sensitive_change_and_no_drift(ws) -> None:
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a, value: "v-${{ secrets.KEY }}"}}
    """)
    applied = ws.run("apply", "--sandbox", "--auto-approve", ws.path, env={"SKYFORM_SECRET_KEY": OLD})
    assert applied.code == 0, str(applied)
    planned = ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path, env={"SKYFORM_SECRET_KEY": NEW})
    assert planned.code == 2, str(planned)
    assert "~ value: (sensitive value changed)" in planned.out
    assert "changed outside skyform" not in planned.out
    as_json = ws.run("plan", "--sandbox", "--json", ws.path, env={"SKYFORM_SECRET_KEY": NEW})
    (event,) = [json.loads(line) for line in as_json.out.splitlines() if '"event": "plan"' in line]
    assert "drift" not in event["actions"][0]
    for text in (planned.out, planned.err, as_json.out, as_json.err):
        assert OLD not in text and NEW not in text
    refreshed = ws.run(
        "plan", "--sandbox", "--refresh-only", "--detailed-exitcode", ws.path, env={"SKYFORM_SECRET_KEY": NEW}
    )
    assert refreshed.code == 0, str(refreshed)


def test_every_printer_shows_a_rotation_the_same_way() -> None:
    """The plan, the gitops summary and its markdown report share one rendering of a change."""
    from skyform.cli.output import change_text, shown

    old, new = {SECRET_MARK: "sha256:1111111111111111"}, {SECRET_MARK: "sha256:2222222222222222"}
    assert change_text(old, new) == "(sensitive value changed)"
    assert change_text("plain", new, "->") == '"plain" -> (sensitive)'
    assert shown({"labels": [{"name": old}], "n": 1}) == {"labels": [{"name": "(sensitive)"}], "n": 1}


def test_a_field_no_longer_made_from_a_secret_is_plain_again(ws) -> None:
    """Sensitivity follows the spec: once the value is written without a secret and applied,
    its observed value and the output made from it are shown again."""
    body = """
        resources:
          a: {type: fake.Thing, spec: {name: a, value: "%s"}}
        outputs:
          val: "${{ resources.a.outputs.value }}"
    """
    ws.write(body % "v-${{ secrets.KEY }}")
    env = {"SKYFORM_SECRET_KEY": OLD}
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path, env=env).code == 0
    assert ws.run("output", ws.path, "val", env=env).out.strip() == "(sensitive)"
    ws.write(body % "plain-value")
    applied = ws.run("apply", "--sandbox", "--auto-approve", ws.path, env=env)
    assert applied.code == 0, str(applied)
    assert ws.run("output", ws.path, "val", env=env).out.strip() == "plain-value"
    shown = json.loads(ws.run("state", "show", ws.path, "a", env=env).out)
    assert shown["observed"]["value"] == shown["outputs"]["value"] == "plain-value"
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path, env=env).code == 0


def test_an_unchanged_answer_is_sealed_as_recorded_by_the_fast_path(monkeypatch) -> None:
    """sealed() returns the record itself when the service answers what was recorded and no
    secret is known: the same data the two walks build, digest markers included; a Secret
    object or an Unknown in the answer, or a known secret, still takes the walks."""
    from skyform.spec.values import UNKNOWN_MARK, Unknown, to_storable

    monkeypatch.setattr(redact, "_pattern", None)  # a process that knows no secret
    recorded = {"files": [{"path": "/d/a.jpg", "bytes": 3}], "token": {SECRET_MARK: "sha256:0123"}, "n": None}
    answer = json.loads(json.dumps(recorded))
    assert sealed(answer, like=recorded) is recorded
    assert sealed(answer, like=recorded) == to_storable(sensitive(answer, like=recorded))
    echoed = sealed({"name": Secret("plain-before-now")}, like={"name": "plain-before-now"})
    assert echoed == {"name": {SECRET_MARK: Secret("plain-before-now").digest}}
    later = {UNKNOWN_MARK: "resources.a.outputs.id"}
    assert sealed({"id": Unknown("resources.a.outputs.id")}, like={"id": later}) == {"id": later}
    monkeypatch.setattr(redact, "_pattern", object())  # some secret is known: the walks run
    assert sealed(answer, like=recorded) is not recorded
