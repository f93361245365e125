"""What travels through the broker: an operation out, its completion back - JSON, no secrets.

A :class:`~skyform.apply.calls.Call` leaves as plain JSON in which every secret is a
*reference*: ``{"$secret_ref": ["Bearer ", {"name": "TOKEN"}]}`` - the literal parts of the
string and the names of the secrets in it, never their values. The worker resolves the
names from its own environment (``SKYFORM_SECRET_<NAME>``) or ``--secrets-file``. A secret
value the sender cannot name (derived from a secret by a function) is refused before
anything is sent.

A completion comes back as small JSON too: the outcome and the provider's
:class:`~skyform.providers.base.Result` (ids, outputs, digests) with every string holding a
secret the worker knows sealed as a digest, or the error's class, message and retry hint.
Files never travel: inputs and outputs go through the artifact store.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import errors, redact
from ..apply.calls import Call, Completion
from ..apply.node import Outcome, Step
from ..providers.base import Change, Cost, Record, Result
from ..spec.secrets import Secrets
from ..spec.values import Secret, sealed

SECRET_REF = "$secret_ref"


class Unsendable(errors.PermanentError):
    """A value cannot be sent to a worker without its secret: nothing was sent."""


# -- the call ------------------------------------------------------------------------------
def encode_call(call: Call, secrets: Secrets) -> dict[str, Any]:
    """``call`` as JSON for the broker, secrets as references to their names."""
    names = sorted(secrets.served.items(), key=lambda item: -len(item[1]))  # longest value first

    def out(value: Any) -> Any:
        if isinstance(value, Secret):
            return {SECRET_REF: _pieces(str(value), names, call.address)}
        if isinstance(value, dict):
            return {str(k): out(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [out(v) for v in value]
        return value

    return {
        "address": call.address,
        "type": call.type,
        "step": str(call.step),
        "idempotency_key": call.idempotency_key,
        "intent_at": call.intent_at,
        "lifecycle": out(dict(call.lifecycle)),
        "record": out(dataclasses.asdict(call.record)) if call.record is not None else None,
        "spec": out(call.spec),
        "changes": [{"path": list(c.path), "before": out(c.before), "after": out(c.after)} for c in call.changes],
        "adopt_first": call.adopt_first,
        "recheck": call.recheck,
        "then_create": call.then_create,
    }


def _pieces(value: str, names: list[tuple[str, str]], address: str) -> list[Any]:
    """``value`` split into literal text and ``{"name": N}`` for each secret inside it."""
    if not value:
        return []
    pieces: list[Any] = []
    rest = value
    while rest:
        found = min(
            ((rest.find(v), name, v) for name, v in names if v and v in rest),
            default=None,
            key=lambda hit: (hit[0], -len(hit[2])),
        )
        if found is None:
            break
        at, name, secret = found
        if at:
            pieces.append(rest[:at])
        pieces.append({"name": name})
        rest = rest[at + len(secret) :]
    if not any(isinstance(p, dict) for p in pieces):
        raise Unsendable(
            f"{address}: a value derived from a secret cannot be sent to a worker by name",
            hint="use the secret itself in the spec (${{ secrets.NAME }}), or --executor local",
        )
    if rest:
        pieces.append(rest)
    return pieces


def decode_call(data: dict[str, Any], secrets: Secrets) -> Call:
    """The call a worker runs, its secret references resolved from ``secrets`` (its own)."""

    def into(value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and SECRET_REF in value:
                return Secret("".join(p if isinstance(p, str) else _secret(p["name"]) for p in value[SECRET_REF]))
            return {k: into(v) for k, v in value.items()}
        if isinstance(value, list):
            return [into(v) for v in value]
        return value

    def _secret(name: str) -> str:
        found = secrets.get(name)
        if found is None:
            raise errors.PermanentError(
                f"{data['address']}: secret {name!r} is not set on this worker",
                hint=f"start skyform worker with {Secrets.variable(name)} in its environment, or --secrets-file",
            )
        return str(found)

    record = data.get("record")
    return Call(
        address=data["address"],
        type=data["type"],
        step=Step(data["step"]),
        idempotency_key=data["idempotency_key"],
        intent_at=float(data["intent_at"]),
        lifecycle=into(data.get("lifecycle") or {}),
        record=Record(**into(record)) if record is not None else None,
        spec=into(data.get("spec")),
        changes=tuple(Change(tuple(c["path"]), into(c["before"]), into(c["after"])) for c in data.get("changes", ())),
        adopt_first=bool(data.get("adopt_first")),
        recheck=bool(data.get("recheck")),
        then_create=bool(data.get("then_create")),
    )


# -- the completion ------------------------------------------------------------------------
def encode_completion(done: Completion) -> dict[str, Any]:
    """A worker's completion as JSON: secrets it knows sealed, messages redacted."""
    if done.error is not None:
        return {"address": done.address, "error": encode_error(done.error)}
    result = done.result
    body: dict[str, Any] = {"address": done.address, "outcome": str(done.outcome) if done.outcome else None}
    if result is not None:
        body["result"] = {
            "remote_id": result.remote_id,
            "status": result.status,
            "outputs": sealed(result.outputs),
            "observed": sealed(result.observed) if result.observed is not None else None,
            "private": sealed(result.private),
            "message": redact.redact(result.message) if result.message else result.message,
            "progress": result.progress,
            "poll_after": result.poll_after,
            "cost": result.cost.to_json() if result.cost is not None else None,
        }
    return body


def decode_completion(data: dict[str, Any]) -> Completion:
    """The completion the coordinator hands to the walk."""
    if data.get("error") is not None:
        return Completion(data["address"], error=decode_error(data["error"]))
    raw = data.get("result")
    result = None
    if raw is not None:
        cost = raw.get("cost")
        result = Result(**{**raw, "cost": Cost.from_json(cost) if cost else None})
    outcome = data.get("outcome")
    return Completion(data["address"], Outcome(outcome) if outcome else None, result)


_ERROR_FIELDS = ("provider", "status", "remote_id", "field", "retry_after", "candidates")


def encode_error(exc: BaseException) -> dict[str, Any]:
    """An exception as its class name, redacted message, hint and retry facts."""
    known = isinstance(exc, errors.SkyformError) and getattr(errors, type(exc).__name__, None) is type(exc)
    message = exc.message if isinstance(exc, errors.SkyformError) else f"{type(exc).__name__}: {exc}"
    body: dict[str, Any] = {
        "class": type(exc).__name__ if known else "PermanentError",
        "message": redact.redact(message),
        "hint": redact.redact(exc.hint) if isinstance(exc, errors.SkyformError) and exc.hint else None,
    }
    for name in _ERROR_FIELDS:
        value = getattr(exc, name, None)
        if isinstance(value, (str, int, float, list)):
            body[name] = value
    return body


def decode_error(data: dict[str, Any]) -> errors.SkyformError:
    """The exception a worker's operation raised, as the same skyform error class."""
    cls = getattr(errors, str(data.get("class")), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.SkyformError)) or cls is errors.SpecError:
        cls = errors.PermanentError
    exc: errors.SkyformError = cls.__new__(cls)
    Exception.__init__(exc, data.get("message") or "the operation failed on a worker")
    if data.get("hint"):
        exc.hint = data["hint"]
    if issubclass(cls, errors.RemoteError):
        for name in ("provider", "status", "remote_id", "field", "body"):
            setattr(exc, name, data.get(name))
    if issubclass(cls, errors.TransientError):
        exc.retry_after = data.get("retry_after")  # type: ignore[attr-defined]
    if issubclass(cls, errors.AdoptError):
        exc.candidates = list(data.get("candidates") or [])  # type: ignore[attr-defined]
    return exc
