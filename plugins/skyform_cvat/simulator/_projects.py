"""Projects, labels and who may see what: CVAT's ``/api/projects`` and ``/api/labels``."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from ._auth import ALL_ORGS
from ._common import named, ApiError, api_response, bad_request, by_id_desc, forbidden, int_arg, json_body, not_found, now, paginate

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
PALETTE = ("#33ddff", "#fa3253", "#34d1b7", "#ff007c", "#ddff33", "#24b353", "#b83df5", "#66ff66")
INPUT_TYPES = ("checkbox", "radio", "number", "text", "select")


class Projects:
    """Mixin: project CRUD, label sets, visibility rules shared by every collection."""

    data: dict[str, Any]

    # -- visibility -------------------------------------------------------------------------
    def can_see(self, user: dict[str, Any], kind: str, obj: dict[str, Any]) -> bool:
        """Admins see everything; others their own objects and what holds a job assigned to them."""
        if user["is_superuser"]:
            return True
        uid = user["id"]
        if kind == "project":
            return obj["owner"] == uid or any(
                self.can_see(user, "task", t) for t in self.data["tasks"].values() if t["project_id"] == obj["id"])
        if kind == "task":
            project = self.data["projects"].get(str(obj["project_id"]))
            return obj["owner"] == uid or (project is not None and project["owner"] == uid) or any(
                j["assignee"] == uid for j in self.data["jobs"].values() if j["task_id"] == obj["id"])
        if kind == "job":
            task = self.data["tasks"][str(obj["task_id"])]
            return obj["assignee"] == uid or task["owner"] == uid
        return False

    def in_scope(self, scope: Any, obj: dict[str, Any]) -> bool:
        """Whether an object belongs to the request's organisation scope."""
        return scope == ALL_ORGS or obj["organization"] == scope

    def fetch(self, user: dict[str, Any], kind: str, obj_id: Any) -> dict[str, Any]:
        """One object by id: 404 when absent, 403 when someone else's."""
        obj = self.data[kind + "s"].get(str(obj_id))
        if obj is None:
            raise not_found()
        if not self.can_see(user, kind, obj):
            raise forbidden()
        return obj

    def next_id(self, counter: str) -> int:
        """The next id of a counter (projects, tasks, jobs, labels ...)."""
        self.data["counters"][counter] = self.data["counters"].get(counter, 0) + 1
        return int(self.data["counters"][counter])

    # -- labels -----------------------------------------------------------------------------
    def make_labels(self, raw: Any, *, project_id: int | None = None, task_id: int | None = None) -> list[int]:
        """Validate a label list the way LabelSerializer does and store it; returns label ids."""
        if not isinstance(raw, list):
            raise bad_request("labels", 'Expected a list of items but got type "%s".' % type(raw).__name__)
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
                    raise ApiError(400, {"labels": [{"attributes": [{k: ["This field is required."] for k in missing}]}]})
                if attr["input_type"] not in INPUT_TYPES:
                    raise ApiError(400, {"labels": [{"attributes": [{"input_type": [f'"{attr["input_type"]}" is not a valid choice.']}]}]})
                values = [str(v) for v in attr["values"]]
                attributes.append({"id": self.next_id("attribute"), "name": attr["name"],
                                   "mutable": bool(attr["mutable"]), "input_type": attr["input_type"],
                                   "default_value": str(attr.get("default_value", values[0] if values else "")),
                                   "values": values})
            label_id = self.next_id("label")
            self.data["labels"][str(label_id)] = {
                "id": label_id, "name": item["name"], "color": color, "attributes": attributes,
                "type": item.get("type") or "any", "project_id": project_id, "task_id": task_id}
            ids.append(label_id)
        return ids

    def list_labels(self, request: Request) -> Response:
        """GET ``/api/labels``: the labels of a project, task or job."""
        user = self.caller(request)  # type: ignore[attr-defined]
        labels = list(self.data["labels"].values())
        project_id, task_id, job_id = (int_arg(request, n) for n in ("project_id", "task_id", "job_id"))
        if job_id is not None:
            task_id = self.fetch(user, "job", job_id)["task_id"]
        if task_id is not None:
            task = self.fetch(user, "task", task_id)
            if task["project_id"]:
                project_id, task_id = task["project_id"], None
        if project_id is not None:
            self.fetch(user, "project", project_id)
            labels = [lb for lb in labels if lb["project_id"] == project_id]
        if task_id is not None:
            labels = [lb for lb in labels if lb["task_id"] == task_id]
        return paginate(request, sorted(labels, key=lambda lb: lb["id"]), self.label_view)  # type: ignore[attr-defined]

    # -- projects ---------------------------------------------------------------------------
    def list_projects(self, request: Request) -> Response:
        """GET ``/api/projects``."""
        user = self.caller(request)  # type: ignore[attr-defined]
        scope = self.org_scope(request)  # type: ignore[attr-defined]
        items = [p for p in self.data["projects"].values()
                 if self.can_see(user, "project", p) and self.in_scope(scope, p)]
        items = named(request, items)
        base = request.host_url.rstrip("/")
        return paginate(request, by_id_desc(items), lambda p: self.project_view(base, p))  # type: ignore[attr-defined]

    def create_project(self, request: Request) -> Response:
        """POST ``/api/projects``: name and labels."""
        user = self.caller(request)  # type: ignore[attr-defined]
        scope = self.org_scope(request)  # type: ignore[attr-defined]
        body = json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("name", "This field is required." if not name else "This field may not be blank.")
        if len(name) > 256:
            raise bad_request("name", "Ensure this field has no more than 256 characters.")
        pid = self.next_id("project")
        project = {"id": pid, "name": name, "owner": user["id"], "created": now(), "updated": now(),
                   "organization": None if scope == ALL_ORGS else scope,
                   "bug_tracker": body.get("bug_tracker", "")}
        project["labels"] = self.make_labels(body.get("labels", []), project_id=pid)
        self.data["projects"][str(pid)] = project
        return api_response(self.project_view(request.host_url.rstrip("/"), project), 201)  # type: ignore[attr-defined]

    def get_project(self, request: Request, id: int) -> Response:
        """GET ``/api/projects/{id}``."""
        user = self.caller(request)  # type: ignore[attr-defined]
        project = self.fetch(user, "project", id)
        return api_response(self.project_view(request.host_url.rstrip("/"), project))  # type: ignore[attr-defined]

    def patch_project(self, request: Request, id: int) -> Response:
        """PATCH ``/api/projects/{id}``: name; new labels are appended."""
        user = self.caller(request)  # type: ignore[attr-defined]
        project = self.fetch(user, "project", id)
        body = json_body(request)
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise bad_request("name", "This field may not be blank.")
            project["name"] = body["name"]
        if "labels" in body:  # PATCH adds labels (existing ones are matched by name)
            known = {self.data["labels"][str(i)]["name"] for i in project["labels"]}
            fresh = [lb for lb in body["labels"] if isinstance(lb, dict) and lb.get("name") not in known]
            project["labels"] += self.make_labels(fresh, project_id=project["id"])
        project["updated"] = now()
        return api_response(self.project_view(request.host_url.rstrip("/"), project))  # type: ignore[attr-defined]

    def delete_project(self, request: Request, id: int) -> Response:
        """DELETE ``/api/projects/{id}`` with its tasks."""
        user = self.caller(request)  # type: ignore[attr-defined]
        project = self.fetch(user, "project", id)
        for task in [t for t in self.data["tasks"].values() if t["project_id"] == project["id"]]:
            self.drop_task(task)  # type: ignore[attr-defined]
        for label_id in project["labels"]:
            self.data["labels"].pop(str(label_id), None)
        del self.data["projects"][str(project["id"])]
        return Response(status=204)
