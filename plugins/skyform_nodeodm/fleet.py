"""The configured nodes of one run, and where a new task goes.

With several nodes a task is placed on the node with the most spare capacity as its
``/info`` reports it: nodes whose ``maxImages`` is too small are ruled out, then the node
with the most free processing slots (``maxParallelTasks - taskQueueCount``) wins, ties going
to the shorter queue and then to the order in the settings. A ClusterODM endpoint reports a
synthetic ``/info`` (``taskQueueCount`` 0, huge memory): it is treated as one node, and
the cluster does its own placement behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skyform.errors import PermanentError, TransientError

from .client import PROVIDER, NodeClient, addresses


@dataclass(frozen=True)
class Capacity:
    """What a node's ``/info`` says about room for one more task."""

    url: str
    max_images: int | None
    free_slots: int
    queue: int

    def accepts(self, images: int) -> bool:
        return self.max_images is None or images <= self.max_images


class Fleet:
    """The client handed to operations as ``ctx.client``: one NodeClient per configured node."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        timeout = float(settings.get("timeout", 60))
        self.settings = dict(settings)
        self.nodes = [NodeClient(a, timeout=timeout) for a in addresses(settings)]
        self.parallel_uploads = int(settings.get("parallel_uploads", 4))
        self.upload_retries = int(settings.get("upload_retries", 3))
        self.max_extract_bytes = int(settings.get("max_extract_bytes", 64 * 1024**3))
        self._limits: list[int | None] | None = None

    def close(self) -> None:
        for node in self.nodes:
            node.close()

    def node(self, url: str | None) -> NodeClient:
        """The client of the node a task was placed on (recorded in ``Record.private``)."""
        for node in self.nodes:
            if url is None or node.url == url.rstrip("/"):
                return node
        raise PermanentError(
            f"{PROVIDER}: the task was placed on {url}, which is no longer in the provider settings",
            provider=PROVIDER,
            hint="add the node back to `nodes`, or run `skyform apply` with --replace",
        )

    def node_for(self, uuid: str, url: str | None) -> NodeClient:
        """The node holding task ``uuid``: the recorded one, else wherever the uuid is found.

        Node URLs change (a new port, a new host, a sandbox restarted); the uuid does not.
        With one node configured, that node is the only place the task can be.
        """
        for node in self.nodes:
            if url is not None and node.url == url.rstrip("/"):
                return node
        if len(self.nodes) == 1:
            return self.nodes[0]
        found = [node for node, _ in self.locate(uuid)]
        if len(found) == 1:
            return found[0]
        return self.node(url)

    def options(self) -> list[dict[str, Any]]:
        """The option catalogue of the first node that answers (ClusterODM: its reference node's)."""
        failure: TransientError | None = None
        for node in self.nodes:
            try:
                return node.options()
            except TransientError as exc:
                failure = failure or exc
        assert failure is not None
        raise failure

    def capacities(self) -> list[Capacity]:
        """Each reachable node's capacity; unreachable nodes are skipped (all down: an error)."""
        found, failures = [], []
        for node in self.nodes:
            try:
                info = node.info()
            except TransientError as exc:
                failures.append(exc)
                continue
            parallel = int(info.get("maxParallelTasks") or 1)
            queue = int(info.get("taskQueueCount") or 0)
            found.append(Capacity(node.url, info.get("maxImages"), parallel - queue, queue))
        if not found and failures:
            raise failures[0]
        return found

    def image_limits(self) -> list[int | None]:
        """Each reachable node's ``maxImages`` (None: unlimited), asked once per run: a node's
        limit is its start-up configuration, so a plan of many tasks needs no /info per task."""
        if self._limits is None:
            self._limits = [c.max_images for c in self.capacities()]
        return self._limits

    def choose(self, images: int) -> NodeClient:
        """The node a new task with ``images`` images should go to."""
        if len(self.nodes) == 1:
            return self.nodes[0]
        able = [c for c in self.capacities() if c.accepts(images)]
        if not able:
            raise PermanentError(
                f"{PROVIDER}: no configured node accepts {images} images (maxImages)", provider=PROVIDER, field="images"
            )
        order = {n.url: i for i, n in enumerate(self.nodes)}
        best = max(able, key=lambda c: (c.free_slots, -c.queue, -order[c.url]))
        return self.node(best.url)

    def locate(self, uuid: str) -> list[tuple[NodeClient, dict[str, Any]]]:
        """Every node that knows task ``uuid``, with its TaskInfo."""
        return [(node, info) for node in self.nodes if (info := node.task_info(uuid)) is not None]
