"""Dataset formats of the simulator: what ``/api/server/annotation/formats`` lists, how an
export archive is written and how an imported annotation file is read.

The sandbox writes CVAT for images 1.1, COCO 1.0, Datumaro 1.0 and YOLO 1.1 archives and reads
CVAT 1.1 and COCO 1.0 files (rectangles, polygons and tags) - enough for a round trip.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

EXPORTERS = {"CVAT for images 1.1": "ZIP", "COCO 1.0": "ZIP", "Datumaro 1.0": "ZIP", "YOLO 1.1": "ZIP"}
IMPORTERS = {"CVAT 1.1": "XML, ZIP", "COCO 1.0": "JSON, ZIP"}


def formats_view() -> dict[str, Any]:
    """The DatasetFormats read model."""
    def row(name: str, ext: str) -> dict[str, Any]:
        """One DatasetFormat entry."""
        return {"name": name, "ext": ext, "version": name.rsplit(" ", 1)[-1], "enabled": True, "dimension": "2d"}
    return {"importers": [row(n, e) for n, e in IMPORTERS.items()],
            "exporters": [row(n, e) for n, e in EXPORTERS.items()]}


@dataclass
class Frame:
    """One exported image: its task frame number, name, size and bytes (when images go along)."""

    number: int
    name: str
    width: int
    height: int
    content: bytes | None = None


class ImportFailed(Exception):
    """An annotation file the importer cannot read; the message is the request's message."""


def _box(points: list[float]) -> tuple[float, float, float, float]:
    xs, ys = points[0::2], points[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def write_archive(fmt: str, frames: list[Frame], labels: dict[int, str], annotations: dict[str, Any],
                  with_images: bool) -> bytes:
    """A dataset archive of ``frames`` and their annotations in format ``fmt``."""
    by_frame: dict[int, list[dict[str, Any]]] = {}
    for shape in annotations.get("shapes", []):
        by_frame.setdefault(shape["frame"], []).append(shape)
    tags: dict[int, list[dict[str, Any]]] = {}
    for tag in annotations.get("tags", []):
        tags.setdefault(tag["frame"], []).append(tag)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        if fmt == "CVAT for images 1.1":
            root = ET.Element("annotations")
            ET.SubElement(root, "version").text = "1.1"
            for i, frame in enumerate(frames):
                image = ET.SubElement(root, "image", id=str(i), name=frame.name,
                                      width=str(frame.width), height=str(frame.height))
                for shape in by_frame.get(frame.number, []):
                    attrs = {"label": labels.get(shape["label_id"], "?"), "source": shape.get("source", "manual"),
                             "occluded": "1" if shape.get("occluded") else "0", "z_order": str(shape.get("z_order", 0))}
                    if shape["type"] == "rectangle":
                        x1, y1, x2, y2 = shape["points"][:4]
                        ET.SubElement(image, "box", **attrs, xtl=f"{x1:.2f}", ytl=f"{y1:.2f}", xbr=f"{x2:.2f}", ybr=f"{y2:.2f}")
                    else:
                        pts = shape["points"]
                        ET.SubElement(image, shape["type"], **attrs,
                                      points=";".join(f"{x:.2f},{y:.2f}" for x, y in zip(pts[0::2], pts[1::2])))
                for tag in tags.get(frame.number, []):
                    ET.SubElement(image, "tag", label=labels.get(tag["label_id"], "?"), source=tag.get("source", "manual"))
            archive.writestr("annotations.xml", ET.tostring(root, encoding="unicode"))
        elif fmt == "COCO 1.0":
            coco: dict[str, Any] = {"info": {"description": "", "version": ""}, "licenses": [],
                                    "categories": [{"id": lid, "name": n, "supercategory": ""} for lid, n in labels.items()],
                                    "images": [], "annotations": []}
            for i, frame in enumerate(frames, 1):
                coco["images"].append({"id": i, "file_name": frame.name, "width": frame.width, "height": frame.height})
                for shape in by_frame.get(frame.number, []):
                    x1, y1, x2, y2 = _box(shape["points"])
                    coco["annotations"].append({
                        "id": len(coco["annotations"]) + 1, "image_id": i, "category_id": shape["label_id"],
                        "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0,
                        "segmentation": [] if shape["type"] == "rectangle" else [shape["points"]]})
            archive.writestr("annotations/instances_default.json", json.dumps(coco))
        elif fmt == "Datumaro 1.0":
            names = list(labels.values())
            items = []
            for frame in frames:
                anns = []
                for shape in by_frame.get(frame.number, []):
                    x1, y1, x2, y2 = _box(shape["points"])
                    anns.append({"type": "bbox" if shape["type"] == "rectangle" else "polygon",
                                 "label_id": names.index(labels[shape["label_id"]]) if shape["label_id"] in labels else 0,
                                 "bbox": [x1, y1, x2 - x1, y2 - y1], "points": shape["points"]})
                items.append({"id": frame.name.rsplit(".", 1)[0], "annotations": anns,
                              "image": {"path": frame.name, "size": [frame.height, frame.width]}})
            archive.writestr("annotations/default.json", json.dumps(
                {"info": {}, "categories": {"label": {"labels": [{"name": n} for n in names]}}, "items": items}))
        elif fmt == "YOLO 1.1":
            order = list(labels)
            archive.writestr("obj.names", "\n".join(labels[i] for i in order) + "\n")
            archive.writestr("obj.data", f"classes = {len(order)}\nnames = data/obj.names\ntrain = data/train.txt\n")
            for frame in frames:
                lines = []
                for shape in by_frame.get(frame.number, []):
                    x1, y1, x2, y2 = _box(shape["points"])
                    cls = order.index(shape["label_id"]) if shape["label_id"] in order else 0
                    lines.append(f"{cls} {(x1 + x2) / 2 / frame.width:.6f} {(y1 + y2) / 2 / frame.height:.6f} "
                                 f"{(x2 - x1) / frame.width:.6f} {(y2 - y1) / frame.height:.6f}")
                archive.writestr(f"obj_train_data/{frame.name.rsplit('.', 1)[0]}.txt", "\n".join(lines))
        if with_images:
            for frame in frames:
                if frame.content is not None:
                    archive.writestr(f"images/{frame.name}", frame.content)
    return buf.getvalue()


def read_annotations(fmt: str, filename: str, content: bytes, frame_names: dict[str, int],
                     label_ids: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
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
                    shapes.append({"type": kind, "frame": number, "label_id": label(el.get("label", "")),
                                   "points": points, "occluded": el.get("occluded") == "1"})
        elif fmt == "COCO 1.0":
            coco = json.loads(content)
            images = {img["id"]: frame(img["file_name"]) for img in coco.get("images", [])}
            cats = {c["id"]: label(c["name"]) for c in coco.get("categories", [])}
            for ann in coco.get("annotations", []):
                x, y, w, h = ann["bbox"]
                seg = ann.get("segmentation") or []
                if isinstance(seg, list) and seg and isinstance(seg[0], list):
                    shapes.append({"type": "polygon", "frame": images[ann["image_id"]],
                                   "label_id": cats[ann["category_id"]], "points": [float(v) for v in seg[0]]})
                else:
                    shapes.append({"type": "rectangle", "frame": images[ann["image_id"]],
                                   "label_id": cats[ann["category_id"]], "points": [x, y, x + w, y + h]})
        else:
            raise ImportFailed(f"Unknown input format '{fmt}'")
    except (ET.ParseError, ValueError, KeyError, TypeError) as exc:
        raise ImportFailed(f"Failed to import '{filename}' as {fmt}: {exc}") from exc
    return {"shapes": shapes, "tags": tags}
