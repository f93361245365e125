"""``skyform ui``: serve the read-only web page of missions, plans and runs (docs/ui.md).

The server binds 127.0.0.1 unless ``--host`` is given; then it requires a token (``--token``
or one generated and printed in the address to open). It runs until interrupted; open
event streams end when it stops.
"""

from __future__ import annotations

import ipaddress
import secrets
import sys
from pathlib import Path

import click

from ..errors import SkyformError, UsageError
from .options import shared


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("ui")
@click.argument("missions", nargs=-1, type=click.Path(path_type=Path))
@shared("state", state="State backend URL; alone (no MISSION), every mission that store records.")
@click.option(
    "--plan",
    "plans",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="FILE",
    help="A saved plan (skyform plan -o FILE) to show on its mission's plan view (repeatable).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0: any free).")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind; off loopback a token is required."
)
@click.option("--token", envvar="SKYFORM_UI_TOKEN", help="The token to require (env SKYFORM_UI_TOKEN).")
def ui(
    missions: tuple[Path, ...], state_url: str | None, plans: tuple[Path, ...], port: int, host: str, token: str | None
) -> int:
    """Serve a read-only page of MISSIONS (directories, files, or directories of missions).

    Views: the missions list, each mission's graph (live during an apply), plan, run
    timeline, outputs and history, and each resource's page. Stop with Ctrl-C.
    """
    from werkzeug.serving import make_server

    from ..ui.server import App, QuietHandler, Security
    from ..ui.site import Site

    loopback = _is_loopback(host)
    if not loopback and not token:
        token = secrets.token_urlsafe(24)
    site = Site(list(missions), state_url, list(plans))
    # a --state URL alone may record no mission yet: the page shows them as a runner starts them
    if not site.entries and not site.state_only:
        raise UsageError("no mission to show", hint="name a mission directory, or a --state URL that records missions")
    app = App(site, Security(token=token, loopback=loopback))
    try:
        server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    except (OSError, SystemExit) as exc:
        raise SkyformError(
            f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}",
            hint="choose another --port (0: any free port)",
        ) from None
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{server.server_port}/" + (f"?token={token}" if token else "")
    click.echo(f"skyform ui: {len(site.entries)} mission(s) at {address}  (Ctrl-C stops)")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        app.stop.set()
        server.server_close()
    return 0
