"""What travels through the broker: secrets as names, completions small and sealed, errors typed."""

from __future__ import annotations

import json

import pytest

from skyform import errors
from skyform.apply.calls import Call, Completion
from skyform.apply.node import Outcome, Step
from skyform.distributed import wire
from skyform.providers.base import Change, Cost, Record, Result
from skyform.spec.secrets import Secrets


def secrets(**values: str) -> Secrets:
    found = Secrets(values, environ={})
    for name in values:
        found.get(name)  # served, as resolving a spec does
    return found


def call(**fields):  # type: ignore[no-untyped-def]
    base = {
        "address": "a",
        "type": "fake.Thing",
        "step": Step.CREATE,
        "idempotency_key": "k-1",
        "intent_at": 12.5,
        "lifecycle": {"queue": "site-a12"},
    }
    return Call(**{**base, **fields})


def test_a_secret_inside_a_string_travels_as_its_name_and_comes_back_whole():
    sender = secrets(TOKEN="tk-91d2aa", USER="ops-7")
    token, user = sender.get("TOKEN"), sender.get("USER")
    from skyform.spec.values import Secret  # what the resolver makes of "Bearer ${{ secrets.TOKEN }}"

    out = call(
        spec={"auth": Secret("Bearer " + token), "pair": Secret(f"{user}:{token}"), "plain": "x"},
        changes=(Change(("auth",), {"$secret": "sha256:00"}, Secret("Bearer " + token)),),
    )
    text = json.dumps(wire.encode_call(out, sender))
    assert "tk-91d2aa" not in text and "ops-7" not in text
    assert json.loads(text)["spec"]["pair"] == {"$secret_ref": [{"name": "USER"}, ":", {"name": "TOKEN"}]}
    back = wire.decode_call(json.loads(text), secrets(TOKEN="tk-91d2aa", USER="ops-7"))
    assert back.spec == {"auth": "Bearer tk-91d2aa", "pair": "ops-7:tk-91d2aa", "plain": "x"}
    assert isinstance(back.spec["auth"], Secret) and back.changes[0].after == "Bearer tk-91d2aa"
    assert (back.step, back.lifecycle, back.intent_at) == (Step.CREATE, {"queue": "site-a12"}, 12.5)


def test_a_secret_value_the_sender_cannot_name_is_refused_before_anything_is_sent():
    from skyform.spec.values import Secret

    with pytest.raises(wire.Unsendable, match="a: a value derived from a secret cannot be sent"):
        wire.encode_call(call(spec={"x": Secret("derived-from-something")}), secrets(TOKEN="tk"))


def test_a_worker_without_the_secret_fails_naming_the_variable():
    from skyform.spec.values import Secret

    sent = wire.encode_call(call(spec={"x": Secret("tk-1")}), secrets(TOKEN="tk-1"))
    with pytest.raises(errors.PermanentError) as err:
        wire.decode_call(sent, Secrets(environ={}))
    assert "secret 'TOKEN' is not set on this worker" in err.value.message
    assert "SKYFORM_SECRET_TOKEN" in (err.value.hint or "")


def test_a_record_travels_as_recorded():
    record = Record("a", "fake.Thing", "id-1", "ready", {"v": {"$secret": "sha256:ab"}}, {}, {}, {"n": 1}, "k", 3.0)
    back = wire.decode_call(wire.encode_call(call(step=Step.DELETE, record=record), Secrets()), Secrets())
    assert back.record == record


def test_a_completion_comes_back_small_with_secrets_the_worker_knows_sealed():
    from skyform import redact

    redact.register("s3cr3t-out")
    done = Completion(
        "a",
        Outcome.CREATED,
        Result(
            remote_id="r1",
            outputs={"url": "https://x/?t=s3cr3t-out", "n": 2},
            message="made with s3cr3t-out",
            cost=Cost(2.5, "units", "2 x 1.25"),
        ),
    )
    text = json.dumps(wire.encode_completion(done))
    assert "s3cr3t-out" not in text
    back = wire.decode_completion(json.loads(text))
    assert back.outcome == Outcome.CREATED and back.result is not None
    assert back.result.outputs["n"] == 2 and set(back.result.outputs["url"]) == {"$secret"}
    assert back.result.cost == Cost(2.5, "units", "2 x 1.25")


@pytest.mark.parametrize(
    "exc",
    [
        errors.TransientError("busy", retry_after=2.0, provider="fake", status=503),
        errors.AdoptError("two", candidates=["x", "y"], remote_id="x"),
        errors.PermanentError("no", hint="fix it"),
    ],
)
def test_errors_keep_their_class_and_the_facts_the_walk_decides_on(exc):
    back = wire.decode_completion(json.loads(json.dumps(wire.encode_completion(Completion("a", error=exc)))))
    assert type(back.error) is type(exc) and back.error.message == exc.message
    assert getattr(back.error, "retry_after", None) == getattr(exc, "retry_after", None)
    assert getattr(back.error, "candidates", None) == getattr(exc, "candidates", None)
    assert back.error.hint == exc.hint


def test_a_bug_in_a_provider_comes_back_as_a_permanent_error_naming_its_type():
    back = wire.decode_completion(wire.encode_completion(Completion("a", error=KeyError("k"))))
    assert isinstance(back.error, errors.PermanentError) and "KeyError" in back.error.message
