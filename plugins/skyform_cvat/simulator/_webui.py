"""The CVAT simulator's stand-in for CVAT's web UI: the pages an object's ``url`` links to.

CVAT's web UI (cvat-ui, React) routes ``/projects/:id``, ``/tasks/:id`` and
``/tasks/:tid/jobs/:jid`` (the annotation view of a job; there is no ``/jobs/:id`` page):
the provider records those as each object's ``url`` and ``skyform ui`` links to them
(``skyform_console_url``). The real server answers any such path with its single-page app,
which then asks the API and asks for a login; the simulator answers with a small HTML page
naming the object, and 404 for an object it does not hold (or a job of another task), so a
dead link shows in the sandbox. Like the app's shell it needs no credentials; it shows the
object's kind, id and name only.
"""

from __future__ import annotations

from html import escape
from typing import Any

from werkzeug.wrappers import Request, Response

from ._common import Handler


class WebUI(Handler):
    """Answers the web UI paths of projects, tasks and jobs."""

    def project_page(self, request: Request, id: int) -> Response:
        """GET ``/projects/{id}``."""
        return self._page("project", self.data["projects"].get(str(id)), f"Project #{id}")

    def task_page(self, request: Request, id: int) -> Response:
        """GET ``/tasks/{id}``."""
        return self._page("task", self.data["tasks"].get(str(id)), f"Task #{id}")

    def job_page(self, request: Request, tid: int, jid: int) -> Response:
        """GET ``/tasks/{tid}/jobs/{jid}``: the job's annotation view, only under its own task."""
        job = self.data["jobs"].get(str(jid))
        task = self.data["tasks"].get(str(tid))
        if job is None or task is None or job.get("task_id") != tid:
            return self._page("job", None, f"Job #{jid}")
        return self._page("job", {**job, "name": f"{task.get('name', '')} · {job.get('type', '')}"}, f"Job #{jid}")

    @staticmethod
    def _page(kind: str, found: dict[str, Any] | None, title: str) -> Response:
        if found is None:
            body = f"<h1>{escape(title)}</h1><p>Not found.</p>"
            return Response(_html(f"{title} not found", body, kind), status=404, mimetype="text/html")
        body = f"<h1>{escape(title)}</h1><p data-name>{escape(str(found.get('name', '')))}</p>"
        return Response(_html(title, body, kind), mimetype="text/html")


def _html(title: str, body: str, kind: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)} · CVAT (simulated)</title></head>"
        f'<body data-kind="{kind}">{body}</body></html>'
    )
