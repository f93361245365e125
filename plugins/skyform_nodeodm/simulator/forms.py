"""How a NodeODM node reads its requests: task fields, uploaded files, the uuid of commands."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request

from . import catalog
from .options_filter import filter_options


def body_uuid(request: Request) -> str:
    """The ``uuid`` of cancel/remove/restart, from a form or a JSON body."""
    if request.is_json:
        body = request.get_json(silent=True) or {}
        return str(body.get("uuid", ""))
    return request.form.get("uuid", "")


def task_fields(request: Request) -> dict[str, Any]:
    """name/options/webhook/skipPostProcessing/outputs/dateCreated of a new task."""
    options = filter_options(request.form.get("options", "[]") or "[]", catalog.options())
    fields: dict[str, Any] = {"options": options}
    if "name" in request.form:
        fields["name"] = request.form["name"] or f"Task of {time.strftime('%Y-%m-%dT%H:%M:%S.000Z', time.gmtime())}"
    fields["webhook"] = request.form.get("webhook") or None
    fields["skipPostProcessing"] = request.form.get("skipPostProcessing", "") in ("true", "1")
    outputs = request.form.get("outputs")
    fields["outputs"] = json.loads(outputs) if outputs else []
    if request.form.get("zipurl"):
        fields["zipurl"] = request.form["zipurl"]
    date = request.form.get("dateCreated")
    fields["dateCreated"] = int(date) if date and date.isdigit() else int(time.time() * 1000)
    return fields


def unique_name(taken: Mapping[str, Any], name: str) -> str:
    """NodeODM's ``assureUniqueFilename``: a name already there gets ``_`` before its extension.

    So the same file uploaded twice (a retried chunk) is kept twice, as ``a.JPG`` and ``a_.JPG``.
    """
    while name in taken:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem}_.{ext}" if dot else name + "_"
    return name


# Task.setPostProcessingOptsSteps: unless skipPostProcessing, NodeODM turns these on itself
POST_PROCESSING_OPTIONS = ("pc-ept", "cog", "gltf")


def add_post_processing_options(options: list[dict[str, Any]]) -> None:
    """Append ``{name, value: true}`` for each post-processing option ODM has and the task lacks."""
    known = {o["name"] for o in catalog.options()}
    for name in POST_PROCESSING_OPTIONS:
        if name in known and not any(o["name"] == name for o in options):
            options.append({"name": name, "value": True})


def read_files(request: Request, already: Mapping[str, int] | None = None) -> dict[str, int]:
    """Uploaded ``images`` parts: file name -> size (the simulator keeps no content).

    Names are made unique against ``already`` (the files of the upload so far) and each other.
    """
    files: dict[str, int] = {}
    for storage in request.files.getlist("images"):
        name = (storage.filename or "").replace("\\", "/").split("/")[-1]
        size = 0
        while chunk := storage.stream.read(1 << 16):
            size += len(chunk)
        if name:
            if name == "body.json":
                name = "_body.json"  # NodeODM keeps its own body.json beside the uploads
            files[unique_name({**(already or {}), **files}, name)] = size
    return files


def json_error(exc: ValueError) -> str:
    """A JavaScript-like JSON.parse message for a malformed ``options`` field."""
    pos = getattr(exc, "pos", 0)
    doc = getattr(exc, "doc", "") or ""
    token = doc[pos] if pos < len(doc) else ""
    return f"Unexpected token {token} in JSON at position {pos}" if token else "Unexpected end of JSON input"
