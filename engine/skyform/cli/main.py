"""The ``skyform`` entry point and its single error boundary.

Known errors (every :class:`~skyform.errors.SkyformError`) print a message and exit with
their documented code; anything else is a bug and shows its traceback (exit 70). Heavy
modules are imported by the commands that need them, so ``skyform --help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .. import __version__
from ..errors import ExitCode, SkyformError

LAZY = {
    "validate": ("skyform.cli.inspect", "validate"),
    "graph": ("skyform.cli.inspect", "graph_cmd"),
    "providers": ("skyform.cli.inspect", "providers"),
    "schema": ("skyform.cli.inspect", "schema"),
    "plan": ("skyform.cli.run", "plan"),
    "apply": ("skyform.cli.run", "apply"),
    "destroy": ("skyform.cli.run", "destroy"),
    "approve": ("skyform.cli.approve", "approve"),
    "approvals": ("skyform.cli.approvals", "approvals"),
    "state": ("skyform.cli.statecmd", "state"),
    "history": ("skyform.cli.statecmd", "history"),
    "output": ("skyform.cli.statecmd", "output"),
    "status": ("skyform.cli.status", "status"),
    "force-unlock": ("skyform.cli.statecmd", "force_unlock"),
    "import": ("skyform.cli.statecmd", "import_cmd"),
    "sandbox": ("skyform.cli.sandbox", "command"),
    "plugin": ("skyform.cli.plugin", "command"),
    "gitops": ("skyform.cli.gitops", "command"),
    "reconcile": ("skyform.cli.reconcile", "command"),
    "catalog": ("skyform.cli.catalog", "catalog"),
    "provenance": ("skyform.cli.catalog", "provenance"),
    "ui": ("skyform.cli.ui", "ui"),
    "artifacts": ("skyform.cli.artifacts", "artifacts"),
    "worker": ("skyform.distributed.worker", "command"),
}
HELP = {
    "validate": "Check a mission: YAML, schemas, expressions, graph.",
    "plan": "Show what apply would change.",
    "apply": "Create, update and delete resources to match the mission.",
    "destroy": "Delete every resource the mission created.",
    "approve": "Approve a saved plan: apply PLANFILE may go ahead once.",
    "approvals": "List or revoke the approvals of saved plans.",
    "graph": "Print the dependency graph (dot, mermaid, json).",
    "providers": "List installed providers and their kinds.",
    "schema": "Export JSON Schemas for missions and kinds.",
    "state": "Inspect or edit recorded state.",
    "history": "Show the mission's event history.",
    "output": "Show mission outputs.",
    "status": "Show the progress of resources and running jobs.",
    "force-unlock": "Remove a stale lock.",
    "import": "Record an existing remote object as a resource.",
    "sandbox": "Run the service simulators.",
    "plugin": "Tools for provider authors.",
    "gitops": "Plan/apply every mission of a git repository.",
    "reconcile": "Keep a repository's missions applied, in a loop.",
    "catalog": "Write the mission's products as a STAC catalog.",
    "provenance": "Show where a resource's products came from (W3C PROV).",
    "ui": "Serve a read-only web page of missions, plans and runs.",
    "artifacts": "List, fetch and collect the content-addressed artifact store.",
    "worker": "Run operations sent by apply --executor celery (a Celery worker).",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported only when invoked (fast --help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(LAZY) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        target = LAZY.get(name)
        if target is None:
            return self._plugin_command(name)
        import importlib

        try:
            module = importlib.import_module(target[0])
        except ModuleNotFoundError:
            return None
        command = getattr(module, target[1], None)
        return with_global_options(command) if command is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _plugin_command(self, name: str) -> click.Command | None:
        from ..providers.host import load_registry

        for command in load_registry().cli_commands:
            if command.name == name:
                return with_global_options(command)
        return None


GLOBAL_MARK = "_skyform_global_options"


def with_global_options(command: click.Command) -> click.Command:
    """Accept ``-v`` and ``--no-color`` after the sub-command as well as before it (as git
    and terraform do): ``skyform plan -v`` means ``skyform -v plan``. Added once per command,
    recursively into groups."""
    if getattr(command, GLOBAL_MARK, False):
        return command
    names = {opt for p in command.params for opt in getattr(p, "opts", [])}
    if not names & {"-v", "--verbose"}:
        command.params.append(
            click.Option(
                ["-v", "--verbose"],
                count=True,
                expose_value=False,
                callback=_verbose_callback,
                help="More log output (-vv: debug).",
            )
        )
    if "--no-color" not in names:
        command.params.append(
            click.Option(
                ["--no-color"],
                is_flag=True,
                expose_value=False,
                callback=_no_color_callback,
                help="Never colour the output.",
            )
        )
    setattr(command, GLOBAL_MARK, True)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_global_options(sub)
    return command


def _verbose_callback(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:
        root = ctx.find_root()
        root.ensure_object(dict)
        root.obj["verbose"] = root.obj.get("verbose", 0) + value
        configure_logging(root.obj["verbose"])


def _no_color_callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        import os

        os.environ["NO_COLOR"] = "1"


def configure_logging(verbose: int) -> None:
    """Log to stderr through the secret redactor: warnings, -v info, -vv debug."""
    import logging

    from ..redact import RedactingFilter

    level = logging.WARNING if verbose == 0 else (logging.INFO if verbose == 1 else logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="skyform")
@click.option("-v", "--verbose", count=True, help="More log output (-vv: debug).")
@click.option("--no-color", is_flag=True, help="Never colour the output (also: NO_COLOR=1).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, no_color: bool) -> None:
    """skyform: mission specs for drone, satellite, photogrammetry and annotation services.

    Exit codes: 0 ok; 1 error (or any error with --detailed-exitcode); 2 changes present
    (plan --detailed-exitcode); 3 invalid mission; 4 plugin error; 5 state error; 6 lock held;
    7 plan refused (stale plan, prevent_destroy, no approval, over the mission budget); 8 changes
    above a cost ceiling (plan --detailed-exitcode); 64 usage; 70 internal error; 130 interrupted.
    """
    import os

    if no_color:
        os.environ["NO_COLOR"] = "1"
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    configure_logging(verbose)


def main(argv: list[str] | None = None) -> None:
    """The console script: run the CLI inside the error boundary and exit with its code."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (known errors printed, bugs with a traceback)."""
    # per run, never per module: in-process callers (tests, gitops) run many
    obj: dict[str, Any] = {}
    try:
        result: Any = cli.main(args=argv, prog_name="skyform", standalone_mode=False, obj=obj)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return ExitCode.INTERRUPTED
    except click.UsageError as exc:
        exc.show()
        return ExitCode.USAGE
    except click.ClickException as exc:
        exc.show()
        return ExitCode.ERROR
    except SkyformError as exc:
        from .output import Printer, error_text  # not before: `skyform --help` stays light

        printer = Printer(sys.stderr)
        for line in error_text(exc, printer):
            printer.line(line)
        return _detailed(exc.exit_code, obj)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.ERROR
    except Exception:  # a bug: show it, exit 70
        import traceback

        from ..redact import redact

        sys.stderr.write(redact(traceback.format_exc()))
        sys.stderr.write("skyform hit an internal error (a bug): please report it with the traceback above.\n")
        return ExitCode.INTERNAL
    return int(result or 0)


#: The key of the run's context object that ``--detailed-exitcode`` sets (cli/options.py);
#: here, not there, so that ``skyform --help`` imports no option table (start-up time).
DETAILED_EXITCODE = "detailed_exitcode"


def _detailed(code: int, obj: dict[str, Any]) -> int:
    """With --detailed-exitcode every error is 1, so 2 keeps meaning 'changes present'."""
    if obj.get(DETAILED_EXITCODE) and code not in (ExitCode.OK, ExitCode.CHANGES):
        return ExitCode.ERROR
    return code


if __name__ == "__main__":  # pragma: no cover
    main()
