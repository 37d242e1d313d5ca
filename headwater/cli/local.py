"""`headwater local up | down | status | rotate-certificate`."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.context import settings_of
from headwater.cli.progress import steps
from headwater.local.broker import BrokerStatus, LocalBroker
from headwater.local.errors import LocalStackError

app = typer.Typer(help="Run the local stack: a Kafka broker with mTLS and ACLs.", no_args_is_help=True)
console = Console()


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
    settings = settings_of(context)
    updates = {
        key: value
        for key, value in {"kafka_port": kafka_port, "controller_port": controller_port}.items()
        if value is not None
    }
    broker = LocalBroker(settings.model_copy(update=updates))
    _refuse_port_change(broker, kafka_port, controller_port)
    with steps(console, "Starting the local broker") as report:
        status = broker.up(report)
    console.print(_render(status))
    verb = "started in" if status.started_now else "already running; checked in"
    console.print(f"Broker {verb} {status.elapsed_s:.1f} s. Client settings: {broker.env_file}")


def _refuse_port_change(broker: LocalBroker, kafka_port: int | None, controller_port: int | None) -> None:
    """Ports are part of the formatted storage (the controller's address is in the metadata log)."""
    state = broker.read_state()
    if state is None:
        return
    for asked, kept, name in (
        (kafka_port, state.kafka_port, "kafka"),
        (controller_port, state.controller_port, "controller"),
    ):
        if asked not in (None, 0, kept):
            raise LocalStackError(
                f"{broker.state_dir} was formatted for {name} port {kept}, not {asked}; keep it, or run "
                f"`headwater local down --purge` (its topics are lost) and `headwater local up --{name}-port {asked}`."
            )


@app.command()
def down(
    context: typer.Context,
    purge: Annotated[bool, typer.Option(help="Also delete the broker's data (topics are lost).")] = False,
) -> None:
    """Stop the broker this state folder started (only that process)."""
    console.print(LocalBroker(settings_of(context)).down(purge=purge))


@app.command()
def status(context: typer.Context) -> None:
    """Show bootstrap address, pid, cluster id and whether the broker answers."""
    result = LocalBroker(settings_of(context)).status()
    if result.cluster_id is None:
        raise LocalStackError(f"No broker in {result.state_dir}; run `headwater local up`.")
    console.print(_render(result))
    if not result.answering:
        raise typer.Exit(code=3)


@app.command("rotate-certificate")
def rotate_certificate(context: typer.Context) -> None:
    """Renew the broker's certificate and load it into the running broker without a restart."""
    issued = LocalBroker(settings_of(context)).rotate_certificate()
    console.print(
        f"Broker certificate rotated: serial {issued.serial_hex}, valid until {issued.not_after:%Y-%m-%d %H:%M} UTC."
    )
