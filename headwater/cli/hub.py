"""`headwater hub serve`: the hub API over HTTPS, for callers with a hub-CA client certificate."""

from typing import Annotated

import typer
from rich.console import Console

from headwater.cli.context import settings_of
from headwater.local import hub as hub_server

app = typer.Typer(help="Run the hub: its API over HTTPS with client certificates.", no_args_is_help=True)
console = Console()


@app.command()
def serve(
    context: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = hub_server.DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="HTTPS port.")] = hub_server.DEFAULT_PORT,
) -> None:
    """Serve the hub in the foreground until Ctrl-C; issues or renews its server certificate first."""
    hub_server.serve(settings_of(context), host, port, report=console.print)
