"""Running the ``skyform`` CLI from tests: in-process through click's runner, or as a subprocess.

In-process runs can add providers that are not installed (``providers=[Provider, ...]``):
the plugin manager the CLI builds then holds them, plus only the built-in ``state`` and
``local`` entry points, so an uninstalled provider under test needs no ``pip install``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import hookimpl
from ..errors import ExitCode
from ..providers.base import Provider


@dataclass
class CliRun:
    """What one CLI run produced: exit code, output streams, and parsed JSON when asked for."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None
    events: list[Any] = field(default_factory=list)

    @property
    def output(self) -> str:
        """stdout then stderr, for assertion messages and text checks."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        """stdout as one JSON document, or the last JSON line of a stream of events."""
        try:
            return json.loads(self.stdout)
        except ValueError:
            if not self.events:
                raise AssertionError(f"`skyform {' '.join(self.args)}` printed no JSON:\n{self.output}") from None
            return self.events[-1]


def parse_events(stdout: str) -> list[Any]:
    """Every line of ``stdout`` that is a JSON document (``--json`` prints JSON lines)."""
    events = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith(("{", "[")):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    if not events and stdout.strip().startswith(("{", "[")):
        try:
            events.append(json.loads(stdout))
        except ValueError:
            pass
    return events


def cli_available() -> bool:
    """Whether the engine's main CLI (its error boundary ``run``) can be imported."""
    try:
        from ..cli.main import run  # noqa: F401
    except ImportError:
        return False
    return True


class _InlineProviders:
    """A plugin object offering providers that are not installed as distributions."""

    def __init__(self, providers: Sequence[Provider]) -> None:
        self.providers = list(providers)

    @hookimpl
    def skyform_providers(self) -> list[Provider]:
        return self.providers


@contextmanager
def _with_providers(providers: Sequence[Provider]) -> Iterator[None]:
    if not providers:
        yield
        return
    from ..providers import host as plugins

    original = plugins.build_plugin_manager
    inline = _InlineProviders(providers)

    def build(extra: Any = (), *, autoload: bool | None = None) -> Any:
        return original([*extra, inline], autoload=autoload)

    targets: list[Any] = [plugins]
    try:
        from ..cli import main as cli_main

        if getattr(cli_main, "build_plugin_manager", None) is original:
            targets.append(cli_main)
    except ImportError:
        pass
    for target in targets:
        target.build_plugin_manager = build
    try:
        yield
    finally:
        for target in targets:
            target.build_plugin_manager = original


def run_cli(
    *args: str | Path,
    providers: Sequence[Provider] = (),
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
    subprocess_mode: bool = False,
    cwd: Path | None = None,
) -> CliRun:
    """Run ``skyform ARGS`` and capture the result; never raises for a failing command.

    ``env`` changes the environment for the run: a value of None unsets the variable.
    """
    argv = tuple(str(a) for a in args)
    run_env = dict(env or {})
    if providers:
        run_env.setdefault("SKYFORM_DISABLE_PLUGIN_AUTOLOAD", "1")
        run_env.setdefault("SKYFORM_PLUGINS", "state,local")
    if subprocess_mode:
        if providers:
            raise ValueError("providers that are not installed can only be added to in-process runs")
        done = subprocess.run(
            [sys.executable, "-c", "from skyform.cli.main import main; main()", *argv],
            capture_output=True,
            text=True,
            input=input,
            cwd=cwd,
            env={k: v for k, v in {**os.environ, **run_env}.items() if v is not None},
            timeout=600,
            check=False,
        )
        return CliRun(argv, done.returncode, done.stdout, done.stderr, events=parse_events(done.stdout))
    return _run_in_process(argv, providers, run_env, input, cwd)


def _run_in_process(
    argv: tuple[str, ...],
    providers: Sequence[Provider],
    env: dict[str, str | None],
    input: str | None,
    cwd: Path | None,
) -> CliRun:
    """Run the CLI's own error boundary (``skyform.cli.main.run``) with captured streams."""
    from click.testing import CliRunner

    from .. import redact
    from ..cli import main as cli_main

    runner = CliRunner()
    old_cwd = Path.cwd()
    exception: BaseException | None = None
    # redact.isolated(): the run knows the secrets it resolves, not an earlier run's (a process would not)
    with _with_providers(providers), redact.isolated(), runner.isolation(input=input, env=env) as streams:
        try:
            if cwd is not None:
                os.chdir(cwd)
            exit_code = cli_main.run(list(argv))
        except SystemExit as exc:
            exit_code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception as exc:  # run() shows bugs itself; this is a bug in run()
            exception, exit_code = exc, ExitCode.INTERNAL
        finally:
            os.chdir(old_cwd)
        stdout = streams[0].getvalue().decode(errors="replace")
        stderr = streams[1].getvalue().decode(errors="replace")
    return CliRun(argv, exit_code, stdout, stderr, exception, parse_events(stdout))
