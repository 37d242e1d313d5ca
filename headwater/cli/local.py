"""`headwater local up | down | status | rotate-certificate`."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.progress import steps
from headwater.config import LocalSettings
from headwater.local.broker import BrokerStatus, LocalBroker
from headwater.local.errors import LocalStackError

app = typer.Typer(help="Run the local stack: a Kafka broker with mTLS and ACLs.", no_args_is_help=True)
console = Console()


def _settings(context: typer.Context) -> LocalSettings:
    settings: LocalSettings = context.find_root().obj
    return settings


def _render(status: BrokerStatus) -> Table:
    table = Table(show_header=False, box=None)
    table.add_row("bootstrap", status.bootstrap_servers or "-")
    table.add_row("pid", str(status.pid) if status.pid else "not running")
    table.add_row("cluster id", status.cluster_id or "-")
    table.add_row("answering", "[green]yes[/]" if status.answering else "[red]no[/]")
    table.add_row("state folder", str(status.state_dir))
    return table


@app.command()
def up(
    context: typer.Context,
    kafka_port: Annotated[int | None, typer.Option(help="Client (mTLS) port; 0 picks a free one.")] = None,
    controller_port: Annotated[int | None, typer.Option(help="Controller port; 0 picks a free one.")] = None,
) -> None:
    """Start the broker (fetching Kafka from Maven Central once); does nothing if it runs already."""
    settings = _settings(context)
    updates = {
        key: value
        for key, value in {"kafka_port": kafka_port, "controller_port": controller_port}.items()
        if value is not None
    }
    broker = LocalBroker(settings.model_copy(update=updates))
    with steps(console, "Starting the local broker") as report:
        status = broker.up(report)
    console.print(_render(status))
    verb = "started in" if status.started_now else "already running; checked in"
    console.print(f"Broker {verb} {status.elapsed_s:.1f} s. Client settings: {broker.env_file}")


@app.command()
def down(
    context: typer.Context,
    purge: Annotated[bool, typer.Option(help="Also delete the broker's data (topics are lost).")] = False,
) -> None:
    """Stop the broker this state folder started (only that process)."""
    console.print(LocalBroker(_settings(context)).down(purge=purge))


@app.command()
def status(context: typer.Context) -> None:
    """Show bootstrap address, pid, cluster id and whether the broker answers."""
    result = LocalBroker(_settings(context)).status()
    if result.cluster_id is None:
        raise LocalStackError(f"No broker in {result.state_dir}; run `headwater local up`.")
    console.print(_render(result))
    if not result.answering:
        raise typer.Exit(code=3)


@app.command("rotate-certificate")
def rotate_certificate(context: typer.Context) -> None:
    """Renew the broker's certificate and load it into the running broker without a restart."""
    issued = LocalBroker(_settings(context)).rotate_certificate()
    console.print(f"Broker certificate rotated: serial {issued.serial_hex}, valid until {issued.not_after:%Y-%m-%d %H:%M} UTC.")
