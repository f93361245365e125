"""Dataset formats of the simulator: what ``/api/server/annotation/formats`` lists, how an
export archive is written and how an imported annotation file is read.

The sandbox writes CVAT for images 1.1 (with its ``<meta>`` block and shape attributes), COCO
1.0, Datumaro 1.0 and YOLO 1.1 (with ``train.txt``) archives in the layouts CVAT's format pages
document, and reads CVAT 1.1 and COCO 1.0 files (rectangles, polygons and tags) - enough for a
round trip.

Longer than 400 lines because each of the four formats' documented layouts is written
out here in full, one function per format; splitting by format is the next step if a
fifth is added.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

EXPORTERS = {"CVAT for images 1.1": "ZIP", "COCO 1.0": "ZIP", "Datumaro 1.0": "ZIP", "YOLO 1.1": "ZIP"}
IMPORTERS = {"CVAT 1.1": "XML, ZIP", "COCO 1.0": "JSON, ZIP"}


def formats_view() -> dict[str, Any]:
    """The DatasetFormats read model."""

    def row(name: str, ext: str) -> dict[str, Any]:
        """One DatasetFormat entry."""
        return {"name": name, "ext": ext, "version": name.rsplit(" ", 1)[-1], "enabled": True, "dimension": "2d"}

    return {
        "importers": [row(n, e) for n, e in IMPORTERS.items()],
        "exporters": [row(n, e) for n, e in EXPORTERS.items()],
    }


@dataclass
class Frame:
    """One exported image: its export frame number, name, size and bytes (when images go along)."""

    number: int
    name: str
    width: int
    height: int
    content: bytes | None = None
    task_id: int | None = None
    subset: str = "default"


@dataclass
class Label:
    """A label as exports describe it: name, colour, type and attribute specs."""

    id: int
    name: str
    color: str = "#000000"
    type: str = "any"
    attributes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Meta:
    """What the CVAT XML ``<meta>`` block says about the exported task, job or project."""

    kind: str  # "task", "job" or "project"
    fields: dict[str, str]  # id, name, size, mode, ... in CVAT's order
    labels: list[Label]
    segments: list[dict[str, str]] = field(default_factory=list)
    owner: dict[str, str] = field(default_factory=dict)
    tasks: list[Meta] = field(default_factory=list)  # a project's
    dumped: str = ""


class ImportFailed(Exception):
    """An annotation file the importer cannot read; the message is the request's message."""


def _box(points: list[float]) -> tuple[float, float, float, float]:
    xs, ys = points[0::2], points[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _attribute_values(shape: dict[str, Any], label: Label | None) -> list[tuple[str, str]]:
    """(name, value) of a shape's attributes, every spec of its label (defaults filled in)."""
    if label is None:
        return []
    given = {a.get("spec_id"): a.get("value") for a in shape.get("attributes", [])}
    return [(spec["name"], str(given.get(spec["id"], spec.get("default_value", "")))) for spec in label.attributes]


def _meta_xml(parent: ET.Element, meta: Meta) -> None:
    node = ET.SubElement(parent, meta.kind)
    for key, value in meta.fields.items():
        ET.SubElement(node, key).text = value
    if meta.kind != "project":
        segments = ET.SubElement(node, "segments")
        for seg in meta.segments:
            segment = ET.SubElement(segments, "segment")
            for key in ("id", "start", "stop", "url"):
                ET.SubElement(segment, key).text = seg[key]
        owner = ET.SubElement(node, "owner")
        ET.SubElement(owner, "username").text = meta.owner.get("username", "")
        ET.SubElement(owner, "email").text = meta.owner.get("email", "")
        ET.SubElement(node, "assignee")
    labels = ET.SubElement(node, "labels")
    for label in meta.labels:
        item = ET.SubElement(labels, "label")
        ET.SubElement(item, "name").text = label.name
        ET.SubElement(item, "color").text = label.color
        ET.SubElement(item, "type").text = label.type
        attributes = ET.SubElement(item, "attributes")
        for spec in label.attributes:
            attribute = ET.SubElement(attributes, "attribute")
            ET.SubElement(attribute, "name").text = spec["name"]
            ET.SubElement(attribute, "mutable").text = "True" if spec.get("mutable") else "False"
            ET.SubElement(attribute, "input_type").text = spec["input_type"]
            ET.SubElement(attribute, "default_value").text = str(spec.get("default_value", ""))
            ET.SubElement(attribute, "values").text = "\n".join(str(v) for v in spec.get("values", []))
    if meta.kind == "project":
        tasks = ET.SubElement(node, "tasks")
        for task in meta.tasks:
            _meta_xml(tasks, task)


def _cvat_xml(
    frames: list[Frame],
    labels: dict[int, Label],
    by_frame: dict[int, list[dict[str, Any]]],
    tags: dict[int, list[dict[str, Any]]],
    meta: Meta | None,
) -> bytes:
    """CVAT for images 1.1: ``<version>``, ``<meta>``, then one ``<image>`` per frame."""
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    if meta is not None:
        block = ET.SubElement(root, "meta")
        _meta_xml(block, meta)
        ET.SubElement(block, "dumped").text = meta.dumped
    for frame in frames:
        attrs = {"id": str(frame.number), "name": frame.name, "width": str(frame.width), "height": str(frame.height)}
        if meta is not None and meta.kind == "project":
            attrs.update(subset=frame.subset, task_id=str(frame.task_id))
        image = ET.SubElement(root, "image", attrs)
        for shape in by_frame.get(frame.number, []):
            label = labels.get(shape["label_id"])
            common = {
                "label": label.name if label else "?",
                "source": shape.get("source", "manual"),
                "occluded": "1" if shape.get("occluded") else "0",
            }
            if shape["type"] == "rectangle":
                x1, y1, x2, y2 = shape["points"][:4]
                el = ET.SubElement(
                    image,
                    "box",
                    **common,
                    xtl=f"{x1:.2f}",
                    ytl=f"{y1:.2f}",
                    xbr=f"{x2:.2f}",
                    ybr=f"{y2:.2f}",
                    z_order=str(shape.get("z_order", 0)),
                )
            else:
                pts = shape["points"]
                el = ET.SubElement(
                    image,
                    shape["type"],
                    **common,
                    z_order=str(shape.get("z_order", 0)),
                    points=";".join(f"{x:.2f},{y:.2f}" for x, y in zip(pts[0::2], pts[1::2], strict=False)),
                )
            for name, value in _attribute_values(shape, label):
                ET.SubElement(el, "attribute", name=name).text = value
        for tag in tags.get(frame.number, []):
            label = labels.get(tag["label_id"])
            el = ET.SubElement(image, "tag", label=label.name if label else "?", source=tag.get("source", "manual"))
            for name, value in _attribute_values(tag, label):
                ET.SubElement(el, "attribute", name=name).text = value
    ET.indent(root, space="  ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def write_archive(
    fmt: str,
    frames: list[Frame],
    labels: dict[int, Label],
    annotations: dict[str, Any],
    with_images: bool,
    meta: Meta | None = None,
) -> bytes:
    """A dataset archive of ``frames`` and their annotations in format ``fmt``, laid out as
    CVAT's exporters lay it out (see each format's documentation page)."""
    by_frame: dict[int, list[dict[str, Any]]] = {}
    for shape in annotations.get("shapes", []):
        by_frame.setdefault(shape["frame"], []).append(shape)
    tags: dict[int, list[dict[str, Any]]] = {}
    for tag in annotations.get("tags", []):
        tags.setdefault(tag["frame"], []).append(tag)
    order = list(labels)  # label ids in the export's category order
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        if fmt == "CVAT for images 1.1":
            archive.writestr("annotations.xml", _cvat_xml(frames, labels, by_frame, tags, meta))
            if with_images:
                for frame in frames:
                    if frame.content is not None:
                        archive.writestr(f"images/{frame.name}", frame.content)
        elif fmt == "COCO 1.0":
            archive.writestr("annotations/instances_default.json", json.dumps(_coco(frames, labels, order, by_frame)))
            if with_images:  # CVAT exports COCO with merge_images=True: no subset folder
                for frame in frames:
                    if frame.content is not None:
                        archive.writestr(f"images/{frame.name}", frame.content)
        elif fmt == "Datumaro 1.0":
            archive.writestr("annotations/default.json", json.dumps(_datumaro(frames, labels, order, by_frame)))
            if with_images:
                for frame in frames:
                    if frame.content is not None:
                        archive.writestr(f"images/default/{frame.name}", frame.content)
        elif fmt == "YOLO 1.1":
            archive.writestr("obj.names", "".join(labels[i].name + "\n" for i in order))
            archive.writestr(
                "obj.data",
                f"classes = {len(order)}\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n",
            )
            archive.writestr("train.txt", "".join(f"data/obj_train_data/{f.name}\n" for f in frames))
            for frame in frames:
                lines = []
                for shape in by_frame.get(frame.number, []):
                    x1, y1, x2, y2 = _box(shape["points"])
                    cls = order.index(shape["label_id"]) if shape["label_id"] in order else 0
                    lines.append(
                        f"{cls} {(x1 + x2) / 2 / frame.width:.6f} {(y1 + y2) / 2 / frame.height:.6f} "
                        f"{(x2 - x1) / frame.width:.6f} {(y2 - y1) / frame.height:.6f}\n"
                    )
                archive.writestr(f"obj_train_data/{frame.name.rsplit('.', 1)[0]}.txt", "".join(lines))
                if with_images and frame.content is not None:
                    archive.writestr(f"obj_train_data/{frame.name}", frame.content)
    return buf.getvalue()


def _coco(
    frames: list[Frame], labels: dict[int, Label], order: list[int], by_frame: dict[int, list[dict[str, Any]]]
) -> dict[str, Any]:
    """COCO 1.0 instances: info, licenses, 1-based categories and images, annotations with attributes."""
    coco: dict[str, Any] = {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {"contributor": "", "date_created": "", "description": "", "url": "", "version": "", "year": ""},
        "categories": [{"id": n, "name": labels[i].name, "supercategory": ""} for n, i in enumerate(order, 1)],
        "images": [],
        "annotations": [],
    }
    for image_id, frame in enumerate(frames, 1):
        coco["images"].append(
            {
                "id": image_id,
                "width": frame.width,
                "height": frame.height,
                "file_name": frame.name,
                "license": 0,
                "flickr_url": "",
                "coco_url": "",
                "date_captured": 0,
            }
        )
        for shape in by_frame.get(frame.number, []):
            x1, y1, x2, y2 = _box(shape["points"])
            label = labels.get(shape["label_id"])
            attributes: dict[str, Any] = {"occluded": bool(shape.get("occluded"))}
            attributes.update(_attribute_values(shape, label))
            coco["annotations"].append(
                {
                    "id": len(coco["annotations"]) + 1,
                    "image_id": image_id,
                    "category_id": order.index(shape["label_id"]) + 1 if shape["label_id"] in order else 0,
                    "segmentation": [] if shape["type"] == "rectangle" else [shape["points"]],
                    "area": (x2 - x1) * (y2 - y1),
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "iscrowd": 0,
                    "attributes": attributes,
                }
            )
    return coco


def _datumaro(
    frames: list[Frame], labels: dict[int, Label], order: list[int], by_frame: dict[int, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Datumaro 1.0: categories (labels with attribute names), items with ``attr.frame`` and image."""
    categories = {
        "label": {
            "labels": [
                {"name": labels[i].name, "parent": "", "attributes": [a["name"] for a in labels[i].attributes]}
                for i in order
            ],
            "attributes": ["occluded"],
        },
        "points": {"items": []},
    }
    items = []
    for frame in frames:
        anns = []
        for n, shape in enumerate(by_frame.get(frame.number, [])):
            label = labels.get(shape["label_id"])
            attributes: dict[str, Any] = {"occluded": bool(shape.get("occluded"))}
            attributes.update(_attribute_values(shape, label))
            ann: dict[str, Any] = {
                "id": n,
                "type": "bbox" if shape["type"] == "rectangle" else shape["type"],
                "attributes": attributes,
                "group": shape.get("group", 0),
                "label_id": order.index(shape["label_id"]) if shape["label_id"] in order else 0,
                "z_order": shape.get("z_order", 0),
            }
            if shape["type"] == "rectangle":
                x1, y1, x2, y2 = _box(shape["points"])
                ann["bbox"] = [x1, y1, x2 - x1, y2 - y1]
            else:
                ann["points"] = shape["points"]
            anns.append(ann)
        items.append(
            {
                "id": frame.name.rsplit(".", 1)[0],
                "annotations": anns,
                "attr": {"frame": frame.number},
                "image": {"path": frame.name, "size": [frame.height, frame.width]},
            }
        )
    return {"info": {}, "categories": categories, "items": items}


def read_annotations(
    fmt: str, filename: str, content: bytes, frame_names: dict[str, int], label_ids: dict[str, int]
) -> dict[str, list[dict[str, Any]]]:
    """Shapes and tags from an annotation file (frames and labels mapped by name)."""
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            wanted = ".xml" if fmt == "CVAT 1.1" else ".json"
            inner = [n for n in archive.namelist() if n.endswith(wanted)]
            if not inner:
                raise ImportFailed(f"Failed to find dataset in the archive '{filename}' for the format '{fmt}'")
            content = archive.read(inner[0])

    def label(name: str) -> int:
        """A label id by name, or the import's failure."""
        if name not in label_ids:
            raise ImportFailed(f"Label '{name}' is not registered for this task")
        return label_ids[name]

    def frame(name: str) -> int:
        """A task frame number by image name, or the import's failure."""
        base = name.rsplit("/", 1)[-1]
        if base not in frame_names:
            raise ImportFailed(f"Could not match item id: '{base.rsplit('.', 1)[0]}' with any task frame")
        return frame_names[base]

    shapes: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    try:
        if fmt == "CVAT 1.1":
            root = ET.fromstring(content)
            for image in root.iter("image"):
                number = frame(image.get("name", ""))
                for el in image:
                    if el.tag == "tag":
                        tags.append({"frame": number, "label_id": label(el.get("label", ""))})
                        continue
                    if el.tag == "box":
                        points = [float(el.get(k, "0")) for k in ("xtl", "ytl", "xbr", "ybr")]
                        kind = "rectangle"
                    elif el.tag in ("polygon", "polyline", "points"):
                        points = [float(v) for pair in el.get("points", "").split(";") for v in pair.split(",")]
                        kind = el.tag
                    else:
                        continue
                    shapes.append(
                        {
                            "type": kind,
                            "frame": number,
                            "label_id": label(el.get("label", "")),
                            "points": points,
                            "occluded": el.get("occluded") == "1",
                        }
                    )
        elif fmt == "COCO 1.0":
            coco = json.loads(content)
            images = {img["id"]: frame(img["file_name"]) for img in coco.get("images", [])}
            cats = {c["id"]: label(c["name"]) for c in coco.get("categories", [])}
            for ann in coco.get("annotations", []):
                x, y, w, h = ann["bbox"]
                seg = ann.get("segmentation") or []
                if isinstance(seg, list) and seg and isinstance(seg[0], list):
                    shapes.append(
                        {
                            "type": "polygon",
                            "frame": images[ann["image_id"]],
                            "label_id": cats[ann["category_id"]],
                            "points": [float(v) for v in seg[0]],
                        }
                    )
                else:
                    shapes.append(
                        {
                            "type": "rectangle",
                            "frame": images[ann["image_id"]],
                            "label_id": cats[ann["category_id"]],
                            "points": [x, y, x + w, y + h],
                        }
                    )
        else:
            raise ImportFailed(f"Unknown input format '{fmt}'")
    except (ET.ParseError, ValueError, KeyError, TypeError) as exc:
        raise ImportFailed(f"Failed to import '{filename}' as {fmt}: {exc}") from exc
    return {"shapes": shapes, "tags": tags}
