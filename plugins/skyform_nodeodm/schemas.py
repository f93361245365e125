"""JSON Schemas of ``nodeodm.Task`` and of the provider settings, from the NodeODM API docs.

What the API documents for ``POST /task/new/init`` (name, options, webhook,
skipPostProcessing, outputs) and for uploads (images plus the extra files NodeODM
recognises by name: a GCP ``*.txt``, ``geo.txt``, ``image_groups.txt``, ``align.las|laz|tif``,
``seed.zip``) becomes one field each; skyform uploads each extra file under the name the
node expects, whatever it is called locally.
"""

from __future__ import annotations

from typing import Any

from .pricing import PRICES_SCHEMA

OPTION_NAME = "^[a-z0-9][a-z0-9-]*$"
URL = {
    "type": "string",
    "pattern": "^https?://[^\\s/?#]+(/[^\\s?#]*)?$",
    "description": "Base URL of a NodeODM node or ClusterODM, e.g. http://127.0.0.1:3000 (no query string).",
}
PATH = {"type": "string", "minLength": 1}

SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["images"],
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 1024,
            "description": "Name of the task on the node (default: '<mission>/<resource id>').",
        },
        "images": {
            "type": "array",
            "minItems": 1,
            "items": PATH,
            "description": "Images to process: local paths, usually ${{ resources.<files>.outputs.paths }}. "
            "File names must be unique: the node keeps one file per name.",
        },
        "gcp": {
            **PATH,
            "pattern": "\\.txt$",
            "description": "Ground control point file (*.txt): 'EPSG:<code> or <proj>' then "
            "'geo_x geo_y geo_z im_x im_y image_name [gcp_name]' lines. Uploaded as gcp_list.txt.",
        },
        "geo": {**PATH, "pattern": "\\.txt$", "description": "Image geolocation file; uploaded as geo.txt."},
        "image_groups": {
            **PATH,
            "pattern": "\\.txt$",
            "description": "Image groups file ('image_name group_name' lines) for split-merge; "
            "uploaded as image_groups.txt.",
        },
        "align": {
            **PATH,
            "pattern": "\\.(las|laz|tif|tiff)$",
            "description": "A GeoTIFF DEM or a LAS/LAZ point cloud to align the outputs to; "
            "uploaded as align.las, align.laz or align.tif.",
        },
        "seed": {
            **PATH,
            "pattern": "\\.zip$",
            "description": "A seed archive that pre-populates the task directory; uploaded as seed.zip.",
        },
        "fingerprint": {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "description": "Any value identifying the input data, typically "
            "${{ resources.<files>.outputs.manifest_sha256 }}. Not sent to the node; "
            "when it changes the task is replaced, so photos edited in place "
            "(same names) are processed again.",
        },
        "options": {
            "type": "object",
            "description": "ODM options by name (as in GET /options, without the leading '--'), e.g. "
            "{dsm: true, orthophoto-resolution: 2}. Checked against the node's /options at plan time.",
            "propertyNames": {"pattern": OPTION_NAME},
            "additionalProperties": {"type": ["boolean", "integer", "number", "string", "object", "array"]},
        },
        "skip_post_processing": {
            "type": "boolean",
            "default": False,
            "description": "Skip generation of point cloud tiles (skipPostProcessing).",
        },
        "outputs": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "pattern": "^[^/\\\\]"},
            "description": "Paths relative to the project directory to put in all.zip instead of "
            "the default set (e.g. odm_orthophoto/odm_orthophoto.tif).",
        },
        "webhook": {
            "type": "string",
            "pattern": "^https?://\\S+$",
            "maxLength": 2048,
            "description": "URL the node POSTs the task info to when processing ends (completed, "
            "failed, or canceled while running; not for failures during init).",
        },
    },
}

_PATH_OR_NULL = {"type": ["string", "null"]}
OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "uuid": {"type": "string", "description": "Task uuid on the node (the idempotency key)."},
        "node": {"type": "string", "description": "URL of the node the task ran on."},
        "all_zip": {
            "type": "object",
            "description": "The downloaded all.zip: path, sha256, bytes, and its digest in the artifact store.",
            "properties": {
                "path": {"type": "string"},
                "sha256": {"type": "string"},
                "bytes": {"type": "integer"},
                "artifact": {"type": "string", "description": "sha256:<hex>: skyform artifacts get fetches it"},
            },
        },
        "assets_dir": {"type": "string", "description": "Directory all.zip was extracted into."},
        "orthophoto": {**_PATH_OR_NULL, "description": "odm_orthophoto/odm_orthophoto.tif"},
        "dsm": {**_PATH_OR_NULL, "description": "odm_dem/dsm.tif (with options.dsm)"},
        "dtm": {**_PATH_OR_NULL, "description": "odm_dem/dtm.tif (with options.dtm)"},
        "point_cloud": {**_PATH_OR_NULL, "description": "odm_georeferencing/odm_georeferenced_model.laz"},
        "textured_model": {**_PATH_OR_NULL, "description": "odm_texturing/odm_textured_model_geo.obj"},
        "report": {**_PATH_OR_NULL, "description": "odm_report/report.pdf"},
        "processing_time_ms": {"type": "integer"},
        "images_count": {"type": "integer"},
        "digests": {
            "type": "object",
            "additionalProperties": {"type": "object"},
            "description": "Per product: the sha256 and size skyform computed when it extracted the file.",
        },
        "software": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "What the node reported in GET /info: NodeODM and engine versions.",
        },
        "crs": {"type": ["string", "null"], "description": "odm_georeferencing/proj.txt (a PROJ string)."},
        "bounds": {
            "type": ["array", "null"],
            "items": {"type": "number"},
            "description": "odm_orthophoto/odm_orthophoto_corners.txt: minx miny maxx maxy, in crs.",
        },
    },
}

_NODE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {
        "url": URL,
        "token": {"type": "string", "minLength": 1, "description": "The node's --token (sent as ?token=)."},
    },
}
SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "url": URL,
        "token": {
            "type": "string",
            "minLength": 1,
            "description": "Token of the node started with --token; sent as the token query parameter.",
        },
        "nodes": {
            "type": "array",
            "minItems": 1,
            "items": _NODE,
            "description": "Several nodes: a new task goes to the one with the most spare capacity (/info).",
        },
        "parallel_uploads": {"type": "integer", "minimum": 1, "maximum": 32, "default": 4},
        "upload_retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 3},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "default": 60, "description": "Seconds per HTTP request."},
        "max_extract_bytes": {
            "type": "integer",
            "minimum": 1,
            "default": 64 * 1024**3,
            "description": "Refuse an all.zip that would expand beyond this many bytes.",
        },
        "prices": PRICES_SCHEMA,
    },
    "oneOf": [
        {"required": ["url"], "not": {"required": ["nodes"]}},
        {"required": ["nodes"], "not": {"anyOf": [{"required": ["url"]}, {"required": ["token"]}]}},
    ],
}
SECRET_SETTINGS = frozenset({"token"})
