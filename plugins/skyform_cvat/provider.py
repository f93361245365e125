"""The ``cvat`` provider object: settings, kinds, connection and simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import skyform
from skyform.provider import Provider

from .annotations import Annotations
from .export import Export
from .job import Job
from .project import Project
from .settings import SECRET_SETTINGS, SETTINGS_SCHEMA
from .task import Task

if TYPE_CHECKING:
    from skyform.sandbox.simulator import Simulator, SimulatorOptions


def connect(settings: Mapping[str, Any]) -> Any:
    """A CvatConnection (cvat-sdk is imported here, on first use, not when skyform starts)."""
    from .connection import CvatConnection

    return CvatConnection(settings)


def _simulator(options: "SimulatorOptions") -> "Simulator":
    from .simulator import CvatSimulator

    return CvatSimulator(options)


PROVIDER = Provider(
    name="cvat",
    version=skyform.__version__,
    description="CVAT (Computer Vision Annotation Tool): projects, tasks with images, jobs, imports, exports.",
    kinds=(Project(), Task(), Job(), Annotations(), Export()),
    connect=connect,
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    simulator=_simulator,
    parallelism=4,
)
