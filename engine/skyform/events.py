"""The kinds of event a run emits (``--json`` lines, observers) and records in its history.

One vocabulary for both: an apply emits a ``transition`` event for the output and records a
``transition`` row in the state's history with the same fields. Consumers (the text view,
gitops, ``skyform history``, the catalog) compare against these members, never against
string literals of their own.
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """What happened; the value is what ``--json`` lines and the history carry."""

    PLAN = "plan"  # the plan, before an apply asks for approval
    TRANSITION = "transition"  # a resource's status changed (before → after)
    PROGRESS = "progress"  # a running call or job reported progress
    PHASE = "phase"  # a running call said what it spends its time on (uploading, downloading)
    LOG = "log"  # a line of a provider's log (live only: never in the history)
    DISPATCHED = "dispatched"  # a worker took an operation (--executor celery: worker, queue, delivery)
    WARNING = "warning"
    RETRY = "retry"  # a transient failure; the step runs again after a backoff
    SKIPPED = "skipped"  # a dependency did not finish
    SUMMARY = "summary"  # what the apply changed, at its end
    CATALOG = "catalog"  # the STAC catalog was written
    APPLY_STARTED = "apply_started"
    APPLY_FINISHED = "apply_finished"
    DESTROY_STARTED = "destroy_started"
    DESTROY_FINISHED = "destroy_finished"
    REFRESH = "refresh"  # refresh-only apply: drift accepted into state
    IMPORT = "import"  # skyform import recorded an existing object
    STATE_RM = "state_rm"  # skyform state rm dropped a record


#: the phases a provider may report (``Reporter.phase``); the others of a run's timeline
#: (queued, submitting, waiting on the service, deleting) follow from recorded statuses
PROVIDER_PHASES = ("uploading", "downloading")
