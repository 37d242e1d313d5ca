"""The `headwater` command line."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from headwater.cli import access, audit, backfill, ca, catalog, demo, hub, local, policy, registry
from headwater.config import LocalSettings
from headwater.local.errors import LocalStackError
from headwater.policies import PolicyError
from headwater.registry.errors import RegistryError

app = typer.Typer(
    help="headwater: compacted event-source history and governance hub on Apache Kafka.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(local.app, name="local")
app.add_typer(ca.app, name="ca")
app.add_typer(hub.app, name="hub")
app.add_typer(registry.app, name="registry")
app.add_typer(policy.app, name="policy")
app.add_typer(catalog.domains_app, name="domains")
app.add_typer(catalog.streams_app, name="streams")
app.add_typer(access.access_app, name="access")
app.add_typer(access.identities_app, name="identities")
app.command(name="audit")(audit.show)
app.command(name="demo")(demo.run)
app.command(name="backfill")(backfill.run)

_errors = Console(stderr=True)


@app.callback()
def configure(
    context: typer.Context,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="State folder (default .headwater, or HEADWATER_STATE_DIR).", show_default=False),
    ] = None,
) -> None:
    overrides = {"state_dir": state_dir} if state_dir else {}
    context.obj = LocalSettings(**overrides)


def main() -> None:
    """Entry point: known problems are one line on stderr and exit code 1, never a stack trace."""
    try:
        app()
    except (LocalStackError, RegistryError, PolicyError) as exc:
        _errors.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
