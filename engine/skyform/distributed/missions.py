"""Whole missions on Celery workers: ``gitops apply --executor celery`` sends one task per mission.

The coordinator (:class:`MissionDispatch`) sends each selected mission as a
``skyform.mission`` task carrying a :class:`~skyform.gitops.remote.MissionOrder` (the
repository as workers reach it, the commit, the path; no files, no secrets) and waits for
its report on the run's reply queue (:mod:`.replies`); the reports go into the one
gitops report, in mission order, like a local run's. A worker runs the mission with
:func:`~skyform.gitops.remote.run_order`: its own checkout of that directory, its own
session, the mission's lock in the shared PostgreSQL state, provider calls on the worker's
local executor.

Delivery is the app's (late acknowledgement, rejected when the worker is lost): a worker
killed mid-mission gives the task back and another worker runs the mission again, which
resumes from the journal (the write-ahead intents and idempotency keys adopt what the
first attempt created) once the dead holder's lock is taken over. A mission task runs at
most the longest an operation may run (:func:`.app.longest_operation`, below RabbitMQ's
``consumer_timeout``): shortly before, the worker stops dispatching (in-flight calls
finish and are recorded) and reports the mission as interrupted, so remote jobs still
running are picked up by the next run rather than waited for inside the task.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

from celery import Celery

from ..gitops.order import MissionOrder
from ..gitops.remote import report_from_wire, report_to_wire, run_order
from ..gitops.report import MissionReport
from . import replies
from .app import DEFAULT_QUEUE, check_broker, longest_operation, make_app

TASK_NAME = "skyform.mission"
#: Seconds before the task's limit at which a mission stops dispatching and reports back.
_MARGIN_S = 60.0


def register(app: Celery) -> None:
    """Add ``skyform.mission`` to ``app`` (``skyform worker`` does, beside ``skyform.operate``)."""

    @app.task(bind=True, name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
    def mission(self: Any, payload: dict[str, Any]) -> None:
        run_mission_task(self.app, payload, str(self.request.hostname or ""))


def run_mission_task(app: Celery, payload: dict[str, Any], hostname: str = "") -> None:
    """The body of ``skyform.mission``: run the order, send the report (never raises)."""
    worker = hostname or f"skyform-{os.getpid()}@{socket.gethostname()}"
    reply_to, path = payload["reply_to"], payload["order"]["path"]

    def reply(body: dict[str, Any]) -> None:
        replies.publish(app, reply_to, {"run": payload["run"], "path": path, "worker": worker, **body})

    settings = getattr(app.conf, "skyform_worker", None)
    order = MissionOrder.from_wire(payload["order"])
    reply({"kind": "mission_started"})
    limit = _Limit(max(longest_operation() - _MARGIN_S, 1.0))
    try:
        report = run_order(
            order,
            secrets_file=Path(settings.secrets_file) if settings is not None and settings.secrets_file else None,
            state_url=settings.state if settings is not None else None,
            on_scheduler=limit.attach,
        )
    except BaseException as exc:  # a bug: the coordinator must still hear of this mission
        report = MissionReport(path=path, commit=order.commit, status="failed")
        report.errors.append(f"internal error on worker {worker}: {type(exc).__name__}: {exc}")
        reply({"kind": "mission_report", "report": report_to_wire(report)})
        raise
    finally:
        limit.cancel()
    reply({"kind": "mission_report", "report": report_to_wire(report)})


class _Limit:
    """Interrupts the mission's apply when the task's time is nearly up."""

    def __init__(self, seconds: float) -> None:
        self.schedulers: list[Any] = []
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True
        self.timer.start()

    def attach(self, scheduler: Any) -> None:
        self.schedulers.append(scheduler)

    def _expire(self) -> None:
        for scheduler in self.schedulers:
            scheduler.interrupt()

    def cancel(self) -> None:
        self.timer.cancel()


class MissionDispatch:
    """The coordinator's side: sends missions to workers and waits for their reports."""

    def __init__(self, broker: str | None, queue: str = DEFAULT_QUEUE, emit: Any = None) -> None:
        import uuid

        self.app = make_app(broker)
        check_broker(self.app)
        self.queue = queue
        self.emit = emit or (lambda _event: None)
        self.run_id = uuid.uuid4().hex
        self._reports: dict[str, dict[str, Any]] = {}
        self._interrupted = False
        self._arrived = threading.Condition()
        self.listener = replies.ReplyListener(self.app, replies.reply_queue_name(), self._on_reply)
        self.listener.start()

    def _on_reply(self, body: dict[str, Any]) -> None:
        if body.get("run") != self.run_id:
            return  # a late report of an earlier run's mission
        if body.get("kind") == "mission_started":
            self.emit({"event": "mission_started", "mission_path": body.get("path"), "worker": body.get("worker")})
        elif body.get("kind") == "mission_report":
            with self._arrived:
                self._reports[str(body.get("path"))] = body["report"]
                self._arrived.notify_all()

    def run(self, order: MissionOrder) -> MissionReport:
        """Send ``order`` and wait for its report (a mission may take long: no deadline)."""
        payload = {"order": order.to_wire(), "reply_to": self.listener.name, "run": self.run_id}
        try:
            self.app.send_task(TASK_NAME, args=[payload], queue=self.queue)
        except Exception as exc:  # kombu raises the transport's own errors
            report = MissionReport(path=order.path, commit=order.commit, status="failed")
            report.errors.append(f"could not send the mission to the broker: {type(exc).__name__}: {exc}")
            return report
        with self._arrived:
            while order.path not in self._reports and not self._interrupted:
                self._arrived.wait(0.5)
            if order.path in self._reports:
                return report_from_wire(self._reports.pop(order.path))
        report = MissionReport(path=order.path, commit=order.commit, status="failed")
        report.errors.append("interrupted: this run stopped waiting; the mission goes on on its worker")
        return report

    def interrupt(self) -> None:
        """Stop waiting (Ctrl-C): every waiting :meth:`run` returns; missions go on on workers."""
        self._interrupted = True

    def close(self) -> None:
        self.listener.stop()
