"""The ``cvat`` provider object: settings, kinds, connection and simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import skyform
from skyform.providers import Provider

from .annotations import AnnotationsKind
from .export import ExportKind
from .job import JobKind
from .project import ProjectKind
from .schemas import SECRET_SETTINGS, SETTINGS_SCHEMA
from .task import TaskKind

if TYPE_CHECKING:
    from skyform.sandbox.simulator import Simulator, SimulatorOptions


def connect(settings: Mapping[str, Any]) -> Any:
    """A CvatConnection (cvat-sdk is imported here, on first use, not when skyform starts)."""
    from .client import CvatConnection

    return CvatConnection(settings)


def _simulator(options: SimulatorOptions) -> Simulator:
    from .simulator import CvatSimulator

    return CvatSimulator(options)


PROVIDER = Provider(
    name="cvat",
    version=skyform.__version__,
    description="CVAT (Computer Vision Annotation Tool): projects, tasks with images, jobs, imports, exports.",
    kinds=(ProjectKind(), TaskKind(), JobKind(), AnnotationsKind(), ExportKind()),
    connect=connect,
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    simulator=_simulator,
    parallelism=4,
)
