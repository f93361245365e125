"""The apply package's seams: provider calls go through the executor, deletes through their own kind.

Runs against the fake simulator (sandbox), through the programmatic API where a test hands
the scheduler its own executor, and through the CLI elsewhere.
"""

from __future__ import annotations

from typing import Any


def test_every_provider_call_of_an_apply_goes_through_the_executor_it_is_given(ws):
    """The executor seam: a scheduler given another executor sends every call through it."""
    from skyform.api import Options, Session
    from skyform.apply.executor import LocalExecutor
    from skyform.apply.scheduler import Scheduler

    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          j: {type: fake.Job, spec: {name: "${{ resources.a.outputs.name }}-j", duration: 1}}
    """)
    seen: list[tuple[str, str]] = []

    class Recording(LocalExecutor):
        def submit(self, call: Any, reporter: Any, report: Any) -> None:
            seen.append((call.address, str(call.step)))
            super().submit(call, reporter, report)

    events: list[dict[str, Any]] = []
    with Session(ws.path, Options(sandbox=True)) as session:
        plan = session.plan()
        assert session.runtime is not None and session.store is not None
        outcome = Scheduler(
            session.mission, plan, session.runtime, session.store, events.append, executor=Recording
        ).run()
    assert outcome.ok and sorted(outcome.done) == ["a", "j"], (outcome, events)
    assert seen[:2] == [("a", "create"), ("j", "create")]
    assert ("j", "poll") in seen and {address for address, _ in seen} == {"a", "j"}
    assert sorted(o["name"] for o in ws.remote_objects()) == ["a", "a-j"]


def test_a_replace_that_changes_provider_deletes_the_old_object_through_its_own_provider(ws):
    """fake.Thing → local.Files: the old object is deleted with the fake provider's client.

    The delete used to get the new type's connection (local's): the apply said it replaced
    the resource while the fake object stayed in the service, no longer in state.
    """
    ws.write("resources:\n  r: {type: fake.Thing, spec: {name: r}}\n")
    first = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert first.code == 0, str(first)
    assert [o["name"] for o in ws.remote_objects()] == ["r"]
    (ws.path / "photo.txt").write_text("not really a photo")
    ws.write("resources:\n  r: {type: local.Files, spec: {glob: '*.txt'}}\n")
    second = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert second.code == 0, str(second)
    assert ws.remote_objects() == []
    assert ws.records()["r"].type == "local.Files" and ws.records()["r"].status == "ready"


def test_every_json_event_of_a_run_is_a_documented_event_kind(ws):
    """`--json` lines and history rows only carry kinds of skyform.events.EventKind."""
    from skyform.events import EventKind

    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          j: {type: fake.Job, spec: {name: j, duration: 1}}
          bad: {type: fake.Thing, spec: {name: bad, create_error: 422}}
          after_bad: {type: fake.Thing, spec: {name: "${{ resources.bad.outputs.name }}-x"}}
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--json", ws.path)
    kinds = {line["event"] for line in ran.json_lines()}
    assert {"plan", "transition", "skipped", "summary"} <= kinds, kinds
    assert kinds <= set(EventKind), kinds - set(EventKind)
    store = ws.store()
    try:
        recorded = {e.kind for e in store.events("mission")}
    finally:
        store.close()
    assert {"apply_started", "transition", "apply_finished"} <= recorded
    assert recorded <= set(EventKind), recorded - set(EventKind)
