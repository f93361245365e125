"""The pages ``skyform ui`` links a CVAT object to (``skyform_console_url``) are pages CVAT has.

CVAT's web UI (cvat-ui's router, ``cvat-ui/src/components/cvat-app.tsx``) serves a project
at ``/projects/:id``, a task at ``/tasks/:id`` and a job's annotation view at
``/tasks/:tid/jobs/:jid`` - there is no ``/jobs/:id`` page. Each link the hook gives for the
objects a real create made is one of those routes, and the simulator answers it (no
credentials, as the web UI's shell needs none) with the object's page; an unknown object,
or a job under another task, is a 404.
"""

from __future__ import annotations

import re

import httpx

from skyform_cvat.plugin import skyform_console_url

#: the web UI routes of cvat-app.tsx that a project, a task and a job link to
WEB_UI_ROUTES = {
    "cvat.Project": re.compile(r"/projects/(\d+)"),
    "cvat.Task": re.compile(r"/tasks/(\d+)"),
    "cvat.Job": re.compile(r"/tasks/(\d+)/jobs/(\d+)"),
}


def test_each_objects_link_is_a_cvat_web_ui_route_the_simulator_serves(sandbox, images) -> None:
    project = sandbox.ops("Project").create({"name": "A12 defects", "labels": [{"name": "crack"}]})
    task = sandbox.ops("Task").create(
        {"name": "A12 photos", "project_id": project.outputs["id"], "images": images, "segment_size": 3}
    )
    job = sandbox.ops("Job").create({"task_id": task.outputs["id"], "index": 1, "assignee": "alice"})
    made = {
        "cvat.Project": (project, "A12 defects"),
        "cvat.Task": (task, "A12 photos"),
        "cvat.Job": (job, "A12 photos"),
    }
    for type_, (result, name) in made.items():
        link = skyform_console_url(type=type_, remote_id=result.remote_id, outputs=result.outputs, settings={})
        assert link is not None and link.startswith(sandbox.base_url + "/"), (type_, link)
        path = link[len(sandbox.base_url) :]
        route = WEB_UI_ROUTES[type_].fullmatch(path)
        assert route, (type_, path)
        page = httpx.get(link)  # no credentials: what a browser opening the link sends
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), (type_, page)
        assert name in page.text, (type_, page.text)
    task_id, job_id = task.outputs["id"], job.remote_id
    assert skyform_console_url(type="cvat.Export", remote_id="1", outputs={"url": "x"}, settings={}) is None
    for dead in (
        f"/projects/{project.outputs['id'] + 99}",
        f"/tasks/{task_id + 99}",
        f"/tasks/{task_id + 99}/jobs/{job_id}",
    ):
        assert httpx.get(sandbox.base_url + dead).status_code == 404, dead
