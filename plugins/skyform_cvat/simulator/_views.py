"""Read models of the CVAT simulator, shaped like CVAT 2.80's OpenAPI schema.

cvat-sdk deserialises answers strictly (every required field present, right type), so each
builder here mirrors one schema component: ProjectRead, TaskRead, JobRead, Request, MetaUser,
Label. ``base`` is the server's root URL (``http://127.0.0.1:PORT``).
"""

from __future__ import annotations

from typing import Any

from ._common import Handler, iso


class Views(Handler):
    """Renders stored objects (``self.data``) as CVAT read models."""

    def user_brief(self, base: str, user_id: int | None) -> dict[str, Any] | None:
        """The nested user model (owner, assignee)."""
        if user_id is None:
            return None
        user = self.data["users"][str(user_id)]
        return {
            "url": f"{base}/api/users/{user['id']}",
            "id": user["id"],
            "username": user["username"],
            "first_name": user["first_name"],
            "last_name": user["last_name"],
        }

    def user_view(self, base: str, user: dict[str, Any], *, full: bool) -> dict[str, Any]:
        """The MetaUser model; private fields only for admins and the user."""
        out = {
            "url": f"{base}/api/users/{user['id']}",
            "id": user["id"],
            "username": user["username"],
            "first_name": user["first_name"],
            "last_name": user["last_name"],
        }
        if full:  # CVAT shows the rest only to admins and to the user themselves
            out.update(
                email=user["email"],
                groups=list(user["groups"]),
                is_staff=user["is_superuser"],
                is_superuser=user["is_superuser"],
                is_active=True,
                last_login=iso(user.get("last_login")),
                date_joined=iso(user["date_joined"]),
            )
        return out

    def label_view(self, label: dict[str, Any]) -> dict[str, Any]:
        """The Label model."""
        return {
            "id": label["id"],
            "name": label["name"],
            "color": label["color"],
            "attributes": [dict(a) for a in label["attributes"]],
            "type": label.get("type", "any"),
            "svg": "",
            "sublabels": [],
            "project_id": label.get("project_id"),
            "task_id": label.get("task_id"),
            "parent_id": None,
            "has_parent": False,
        }

    def project_view(self, base: str, project: dict[str, Any]) -> dict[str, Any]:
        """The ProjectRead model."""
        pid = project["id"]
        tasks = [t for t in self.data["tasks"].values() if t["project_id"] == pid]
        dims = {"2d" for t in tasks if t.get("media")}
        return {
            "url": f"{base}/api/projects/{pid}",
            "id": pid,
            "name": project["name"],
            "owner": self.user_brief(base, project["owner"]),
            "assignee": None,
            "guide_id": None,
            "bug_tracker": project.get("bug_tracker", ""),
            "task_subsets": [],
            "created_date": iso(project["created"]),
            "updated_date": iso(project["updated"]),
            "status": "annotation",
            "dimension": dims.pop() if dims else None,
            "organization": project["organization"],
            "target_storage": None,
            "source_storage": None,
            "assignee_updated_date": None,
            "tasks": {"count": len(tasks), "url": f"{base}/api/tasks?project_id={pid}"},
            "labels": {"url": f"{base}/api/labels?project_id={pid}"},
        }

    def task_view(self, base: str, task: dict[str, Any]) -> dict[str, Any]:
        """The TaskRead model."""
        tid = task["id"]
        jobs = [j for j in self.data["jobs"].values() if j["task_id"] == tid]
        project = self.data["projects"].get(str(task["project_id"])) if task["project_id"] else None
        out: dict[str, Any] = {
            "url": f"{base}/api/tasks/{tid}",
            "id": tid,
            "name": task["name"],
            "project_id": task["project_id"],
            "project_name": project["name"] if project else None,
            "mode": "annotation" if task.get("media") else "",
            "owner": self.user_brief(base, task["owner"]),
            "assignee": None,
            "bug_tracker": task.get("bug_tracker", ""),
            "created_date": iso(task["created"]),
            "updated_date": iso(task["updated"]),
            "overlap": task["overlap"],
            "segment_size": task["segment_size"],
            "status": _task_status(jobs),
            "subset": task.get("subset", ""),
            "organization": task["organization"],
            "target_storage": None,
            "source_storage": None,
            "dimension": "2d",
            "guide_id": None,
            "assignee_updated_date": None,
            "data_cloud_storage_id": None,
            "validation_mode": "gt" if any(j["type"] == "ground_truth" for j in jobs) else None,
            "labels": {"url": f"{base}/api/labels?task_id={tid}"},
            "jobs": {
                "count": len(jobs),
                "url": f"{base}/api/jobs?task_id={tid}",
                "completed": sum(1 for j in jobs if j["state"] == "completed"),
                "validation": sum(1 for j in jobs if j["stage"] == "validation"),
            },
        }
        media = task.get("media")
        if media:  # CVAT omits the data fields until the task has data
            out.update(
                size=media["size"],
                image_quality=media["image_quality"],
                data=media["id"],
                data_chunk_size=media["chunk_size"],
                data_compressed_chunk_type="imageset",
                data_original_chunk_type="imageset",
                media_type="image",
            )
        return out

    def job_view(self, base: str, job: dict[str, Any]) -> dict[str, Any]:
        """The JobRead model."""
        task = self.data["tasks"][str(job["task_id"])]
        project = self.data["projects"].get(str(task["project_id"])) if task["project_id"] else None
        media = task.get("media") or {"chunk_size": None}
        return {
            "url": f"{base}/api/jobs/{job['id']}",
            "id": job["id"],
            "task_id": job["task_id"],
            "task_name": task["name"],
            "project_id": task["project_id"],
            "project_name": project["name"] if project else None,
            "assignee": self.user_brief(base, job["assignee"]),
            "guide_id": None,
            "dimension": "2d",
            "mode": "annotation",
            "media_type": "image",
            "bug_tracker": None,
            "status": _job_status(job),
            "stage": job["stage"],
            "state": job["state"],
            "frame_count": job["frame_count"],
            "start_frame": job["start_frame"],
            "stop_frame": job["stop_frame"],
            "data_chunk_size": media["chunk_size"],
            "data_compressed_chunk_type": "imageset",
            "data_original_chunk_type": "imageset",
            "created_date": iso(job["created"]),
            "updated_date": iso(job["updated"]),
            "type": job["type"],
            "organization": task["organization"],
            "target_storage": None,
            "source_storage": None,
            "assignee_updated_date": iso(job.get("assignee_updated")),
            "parent_job_id": None,
            "issues": {"url": f"{base}/api/issues?job_id={job['id']}", "count": 0},
            "labels": {"url": f"{base}/api/labels?job_id={job['id']}"},
        }


def _job_status(job: dict[str, Any]) -> str:
    """The legacy ``status`` field, derived from stage and state as CVAT does."""
    if job["stage"] == "acceptance" and job["state"] == "completed":
        return "completed"
    return "validation" if job["stage"] == "validation" else "annotation"


def _task_status(jobs: list[dict[str, Any]]) -> str:
    statuses = {_job_status(j) for j in jobs if j["type"] == "annotation"}
    if statuses and statuses == {"completed"}:
        return "completed"
    return "validation" if "validation" in statuses else "annotation"
