"""What the cvat-sdk tests make through the official client: images and an annotated task.

Shared by the archive tests (``tests/cvat``, the simulator in detail) and the fidelity suite
(``tests/fidelity``, the same calls against the simulator and a real CVAT), so that both build
the task the same way and a difference in what they see is the server's, not the set-up's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvat_sdk.api_client import models
from cvat_sdk.core.proxies.tasks import ResourceType
from PIL import Image

ATTRIBUTE = {
    "name": "severity",
    "mutable": False,
    "input_type": "select",
    "default_value": "low",
    "values": ["low", "high"],
}


def images(directory: Path, count: int) -> list[Path]:
    """``count`` small PNG frames, ``frame_00.png`` on, each a different colour."""
    directory.mkdir(parents=True)
    paths = [directory / f"frame_{i:02d}.png" for i in range(count)]
    for i, path in enumerate(paths):
        Image.new("RGB", (64, 48), (40 * i, 90, 160)).save(path)
    return paths


def annotated_task(client: Any, directory: Path, name: str, project_id: int | None = None) -> Any:
    """A 4-frame task in segments of 2 with one ``crack`` box (severity high) on frame 3.

    With ``project_id`` the task takes the project's labels; otherwise it has its own
    ``crack`` label with the ``severity`` attribute.
    """
    owner: dict[str, Any] = (
        {"project_id": project_id}
        if project_id
        else {"labels": [models.PatchedLabelRequest(name="crack", attributes=[ATTRIBUTE])]}
    )
    spec = models.TaskWriteRequest(name=name, segment_size=2, **owner)
    task = client.tasks.create_from_data(spec, resource_type=ResourceType.LOCAL, resources=images(directory / name, 4))
    label = task.get_labels()[0]
    task.set_annotations(
        models.LabeledDataRequest(
            shapes=[
                models.LabeledShapeRequest(
                    type="rectangle",
                    frame=3,
                    label_id=label.id,
                    points=[1, 2, 10, 20],
                    attributes=[models.AttributeValRequest(spec_id=label.attributes[0].id, value="high")],
                )
            ]
        )
    )
    return task
