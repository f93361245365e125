"""The ``cvat`` provider: annotation projects, tasks with data, jobs, imports and exports on CVAT."""
