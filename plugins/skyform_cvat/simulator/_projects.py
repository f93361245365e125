"""Projects and their labels: CVAT's ``/api/projects`` and ``/api/labels``."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from ._auth import ALL_ORGS, Auth
from ._common import (
    ApiError,
    Handler,
    Site,
    api_response,
    bad_request,
    by_id_desc,
    int_arg,
    json_body,
    named,
    not_found,
    now,
    paginate,
)
from ._tasks import Tasks
from ._views import Views

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
PALETTE = ("#33ddff", "#fa3253", "#34d1b7", "#ff007c", "#ddff33", "#24b353", "#b83df5", "#66ff66")
INPUT_TYPES = ("checkbox", "radio", "number", "text", "select")


class Labels(Handler):
    """Label sets of projects and tasks: validation as LabelSerializer does it, and ``/api/labels``."""

    def __init__(self, site: Site, auth: Auth, views: Views) -> None:
        super().__init__(site)
        self.auth = auth
        self.views = views

    def make_labels(self, raw: Any, *, project_id: int | None = None, task_id: int | None = None) -> list[int]:
        """Validate a label list the way LabelSerializer does and store it; returns label ids."""
        if not isinstance(raw, list):
            raise bad_request("labels", f'Expected a list of items but got type "{type(raw).__name__}".')
        names: set[str] = set()
        ids: list[int] = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or not item.get("name"):
                raise ApiError(400, {"labels": [{} for _ in range(i)] + [{"name": ["This field is required."]}]})
            if item["name"] in names:
                raise bad_request("labels", f"All label names must be unique for the task or project: '{item['name']}'")
            names.add(item["name"])
            color = item.get("color") or PALETTE[len(ids) % len(PALETTE)]
            if not COLOR.match(color):
                raise ApiError(400, {"labels": [{"color": [f"Invalid color value: {color}"]}]})
            attributes = []
            for attr in item.get("attributes") or []:
                missing = [k for k in ("name", "mutable", "input_type", "values") if k not in attr]
                if missing:
                    raise ApiError(
                        400, {"labels": [{"attributes": [{k: ["This field is required."] for k in missing}]}]}
                    )
                if attr["input_type"] not in INPUT_TYPES:
                    raise ApiError(
                        400,
                        {
                            "labels": [
                                {"attributes": [{"input_type": [f'"{attr["input_type"]}" is not a valid choice.']}]}
                            ]
                        },
                    )
                values = [str(v) for v in attr["values"]]
                attributes.append(
                    {
                        "id": self.site.next_id("attribute"),
                        "name": attr["name"],
                        "mutable": bool(attr["mutable"]),
                        "input_type": attr["input_type"],
                        "default_value": str(attr.get("default_value", values[0] if values else "")),
                        "values": values,
                    }
                )
            label_id = self.site.next_id("label")
            self.data["labels"][str(label_id)] = {
                "id": label_id,
                "name": item["name"],
                "color": color,
                "attributes": attributes,
                "type": item.get("type") or "any",
                "project_id": project_id,
                "task_id": task_id,
            }
            ids.append(label_id)
        return ids

    def list_labels(self, request: Request) -> Response:
        """GET ``/api/labels``: the labels of a project, task or job."""
        user = self.auth.caller(request)
        labels = list(self.data["labels"].values())
        project_id, task_id, job_id = (int_arg(request, n) for n in ("project_id", "task_id", "job_id"))
        if job_id is not None:
            task_id = self.auth.fetch(user, "job", job_id)["task_id"]
        if task_id is not None:
            task = self.auth.fetch(user, "task", task_id)
            if task["project_id"]:
                project_id, task_id = task["project_id"], None
        if project_id is not None:
            self.auth.fetch(user, "project", project_id)
            labels = [lb for lb in labels if lb["project_id"] == project_id]
        if task_id is not None:
            labels = [lb for lb in labels if lb["task_id"] == task_id]
        return paginate(request, sorted(labels, key=lambda lb: lb["id"]), self.views.label_view)

    def patch_label(self, request: Request, id: int) -> Response:
        """PATCH ``/api/labels/{id}``: a label's name, colour or type, in place (its annotations stay)."""
        user = self.auth.caller(request)
        label = self.data["labels"].get(str(id))
        if label is None:
            raise not_found()
        if label["project_id"] is not None:
            self.auth.fetch(user, "project", label["project_id"])
        else:
            self.auth.fetch(user, "task", label["task_id"])
        body = json_body(request)
        if "color" in body:
            if not isinstance(body["color"], str) or not COLOR.match(body["color"]):
                raise bad_request("color", f"Invalid color value: {body['color']}")
            label["color"] = body["color"]
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise bad_request("name", "This field may not be blank.")
            label["name"] = body["name"]
        if "type" in body:
            label["type"] = body["type"]
        return api_response(self.views.label_view(label))


class Projects(Handler):
    """Project CRUD: ``/api/projects``; deleting a project deletes its tasks."""

    def __init__(self, site: Site, auth: Auth, labels: Labels, views: Views, tasks: Tasks) -> None:
        super().__init__(site)
        self.auth = auth
        self.labels = labels
        self.views = views
        self.tasks = tasks

    def list_projects(self, request: Request) -> Response:
        """GET ``/api/projects``."""
        user = self.auth.caller(request)
        scope = self.auth.org_scope(request)
        items = [
            p
            for p in self.data["projects"].values()
            if self.auth.can_see(user, "project", p) and self.auth.in_scope(scope, p)
        ]
        items = named(request, items)
        base = request.host_url.rstrip("/")
        return paginate(request, by_id_desc(items), lambda p: self.views.project_view(base, p))

    def create_project(self, request: Request) -> Response:
        """POST ``/api/projects``: name and labels."""
        user = self.auth.caller(request)
        scope = self.auth.org_scope(request)
        body = json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("name", "This field is required." if not name else "This field may not be blank.")
        if len(name) > 256:
            raise bad_request("name", "Ensure this field has no more than 256 characters.")
        pid = self.site.next_id("project")
        project = {
            "id": pid,
            "name": name,
            "owner": user["id"],
            "created": now(),
            "updated": now(),
            "organization": None if scope == ALL_ORGS else scope,
            "bug_tracker": body.get("bug_tracker", ""),
        }
        project["labels"] = self.labels.make_labels(body.get("labels", []), project_id=pid)
        self.data["projects"][str(pid)] = project
        return api_response(self.views.project_view(request.host_url.rstrip("/"), project), 201)

    def get_project(self, request: Request, id: int) -> Response:
        """GET ``/api/projects/{id}``."""
        user = self.auth.caller(request)
        project = self.auth.fetch(user, "project", id)
        return api_response(self.views.project_view(request.host_url.rstrip("/"), project))

    def patch_project(self, request: Request, id: int) -> Response:
        """PATCH ``/api/projects/{id}``: name; new labels are appended."""
        user = self.auth.caller(request)
        project = self.auth.fetch(user, "project", id)
        body = json_body(request)
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise bad_request("name", "This field may not be blank.")
            project["name"] = body["name"]
        if "labels" in body:  # PATCH adds labels (existing ones are matched by name)
            known = {self.data["labels"][str(i)]["name"] for i in project["labels"]}
            fresh = [lb for lb in body["labels"] if isinstance(lb, dict) and lb.get("name") not in known]
            project["labels"] += self.labels.make_labels(fresh, project_id=project["id"])
        project["updated"] = now()
        return api_response(self.views.project_view(request.host_url.rstrip("/"), project))

    def delete_project(self, request: Request, id: int) -> Response:
        """DELETE ``/api/projects/{id}`` with its tasks."""
        user = self.auth.caller(request)
        project = self.auth.fetch(user, "project", id)
        for task in [t for t in self.data["tasks"].values() if t["project_id"] == project["id"]]:
            self.tasks.drop_task(task)
        for label_id in project["labels"]:
            self.data["labels"].pop(str(label_id), None)
        del self.data["projects"][str(project["id"])]
        return Response(status=204)
