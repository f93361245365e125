"""A small cluster per test: real ``skyform worker`` processes, RabbitMQ (or Redis), PostgreSQL.

Every test gets its own queue names (the broker is shared by everyone running tests on
this machine), its own PostgreSQL schema and a mission directory for the fake provider's
simulator (tests/engine/fakeprov), which the coordinator - ``skyform apply --sandbox
--executor celery`` as a subprocess - serves while it runs. The finalizer SIGKILLs every
worker process group it started, deletes the test's queues and drops its schema.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ENGINE_TESTS = Path(__file__).resolve().parents[1] / "engine"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
REDIS = "redis://127.0.0.1:6379/0"
POSTGRES = os.environ.get("SKYFORM_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def skyform(*args: str) -> list[str]:
    return [sys.executable, "-c", "from skyform.cli.main import main; main()", *args]


@dataclass
class Worker:
    name: str
    queues: list[str]
    proc: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes (the machine died)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    tmp: Path
    broker: str
    state: str
    prefix: str
    mission_dir: Path
    env: dict[str, str]
    workers: list[Worker] = field(default_factory=list)
    queues: set[str] = field(default_factory=set)

    def queue(self, name: str) -> str:
        """A queue name unique to this test."""
        full = f"{self.prefix}-{name}"
        self.queues.add(full)
        return full

    def fresh(self, name: str) -> Path:
        """A new mission directory for the next test of a module sharing this cluster."""
        self.mission_dir = self.tmp / name
        self.mission_dir.mkdir()
        return self.mission_dir

    def write(self, body: str, name: str = "dm") -> Path:
        path = self.mission_dir / "mission.yaml"
        header = f"apiVersion: skyform/v1\nkind: Mission\nmetadata: {{name: {name}}}\n"
        path.write_text(header + textwrap.dedent(body).lstrip("\n"))
        return path

    def worker(
        self, *queues: str, concurrency: int = 1, env: dict[str, str] | None = None, pool: str = "prefork"
    ) -> Worker:
        name = f"{self.prefix}-w{len(self.workers)}@test"
        log = self.tmp / f"worker{len(self.workers)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                skyform(
                    "worker",
                    "--broker",
                    self.broker,
                    "--queues",
                    ",".join(queues),
                    "--concurrency",
                    str(concurrency),
                    "--name",
                    name,
                    "--pool",
                    pool,
                ),
                env={**self.env, **(env or {})},
                cwd=self.tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        worker = Worker(name, list(queues), proc, log)
        self.workers.append(worker)
        deadline = time.monotonic() + 60
        while "ready" not in worker.text():
            if proc.poll() is not None or time.monotonic() > deadline:
                worker.kill()
                raise AssertionError(f"worker did not start:\n{worker.text()}")
            time.sleep(0.1)
        return worker

    def apply(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.apply_command(*args),
            env={**self.env, **(env or {})},
            cwd=self.mission_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Any other skyform command, in this cluster's environment."""
        return subprocess.run(
            skyform(*args), env=self.env, cwd=self.mission_dir, capture_output=True, text=True, timeout=60, check=False
        )

    def cli(self, *args: str) -> Any:
        """A skyform command in this process (a ``CliRun``), in this cluster's settings.

        For the commands a test polls (``status``): a process start per poll was most of
        such a test's CPU. The fixture puts the fake provider on ``sys.path``.
        """
        from skyform.testing import run_cli

        env = {k: v for k, v in self.env.items() if k.startswith("SKYFORM_") or k == "NO_COLOR"}
        return run_cli(*args, env=env, cwd=self.mission_dir)

    def apply_command(self, *args: str) -> list[str]:
        return skyform(
            "apply",
            "--sandbox",
            "--auto-approve",
            "--json",
            "--executor",
            "celery",
            "--broker",
            self.broker,
            "--state",
            self.state,
            *args,
            str(self.mission_dir),
        )

    def popen_apply(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.apply_command(*args),
            env={**self.env, **(env or {})},
            cwd=self.mission_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )

    def remote(self) -> dict[str, Any]:
        """The fake simulator's saved data: objects by id, and how many creates it served."""
        path = self.mission_dir / ".skyform" / "sandbox" / "fake.json"
        return json.loads(path.read_text()) if path.exists() else {"objects": {}, "creates": 0}

    def names(self) -> list[str]:
        """The names of the objects the simulator holds, sorted (a repeat is a duplicate)."""
        return sorted(o["name"] for o in self.remote()["objects"].values())

    def store(self) -> Any:
        from skyform.state import open_store
        from skyform.state.plugin import skyform_state_backends

        return open_store(self.state, self.mission_dir, skyform_state_backends())

    def cleanup(self) -> None:
        for worker in self.workers:
            worker.kill()
        from kombu import Connection

        with Connection(self.broker) as conn:
            channel = conn.default_channel
            for queue in self.queues:
                try:
                    channel.queue_delete(queue)
                except Exception:  # never declared: nothing to delete
                    channel = conn.channel()
        store = self.store()
        try:
            store.drop_schema()
        finally:
            store.close()


def _cluster(tmp_path: Path, broker: str) -> Iterator[Cluster]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    mission_dir = tmp_path / "m"
    mission_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKYFORM_")}
    env.update(
        {
            "SKYFORM_DISABLE_PLUGIN_AUTOLOAD": "1",
            "SKYFORM_PLUGINS": "local,state",
            "SKYFORM_PLUGIN_MODULES": "fakeprov.plugin",
            "SKYFORM_SANDBOX_CLOCK": "600",
            "SKYFORM_RETRY_BASE": "0.05",
            "SKYFORM_LEASE_TTL": "2",
            "NO_COLOR": "1",
            "PYTHONPATH": os.pathsep.join([str(ENGINE_TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]),
        }
    )
    sep = "&" if "?" in POSTGRES else "?"
    cluster = Cluster(tmp_path, broker, f"{POSTGRES}{sep}schema={prefix}", prefix, mission_dir, env)
    try:
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """Workers on the machine's RabbitMQ, state in PostgreSQL."""
    monkeypatch.syspath_prepend(str(ENGINE_TESTS))  # fakeprov, for Cluster.cli
    yield from _cluster(tmp_path, RABBITMQ)


@pytest.fixture(scope="module")
def module_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One cluster (its workers, schema and queues) for every test of a module: each test
    takes a :meth:`Cluster.fresh` mission directory and a mission name of its own."""
    yield from _cluster(tmp_path_factory.mktemp("cluster"), RABBITMQ)


@pytest.fixture
def redis_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """The same on the machine's Redis."""
    monkeypatch.syspath_prepend(str(ENGINE_TESTS))  # fakeprov, for Cluster.cli
    yield from _cluster(tmp_path, REDIS)
