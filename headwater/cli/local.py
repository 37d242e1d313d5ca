"""`headwater local up | down | status | rotate-certificate`."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.context import settings_of
from headwater.cli.progress import steps
from headwater.local.broker import LocalBroker
from headwater.local.errors import LocalStackError
from headwater.local.stack import LocalStack, StackStatus

app = typer.Typer(help="Run the local stack: a Kafka broker with mTLS and ACLs.", no_args_is_help=True)
console = Console()


def _render(status: StackStatus) -> Table:
    broker = status.broker
    table = Table(show_header=False, box=None)
    table.add_row("bootstrap", broker.bootstrap_servers or "-")
    table.add_row("broker pid", str(broker.pid) if broker.pid else "not running")
    table.add_row("cluster id", broker.cluster_id or "-")
    table.add_row("answering", "[green]yes[/]" if broker.answering else "[red]no[/]")
    table.add_row("hub", status.hub_url or "-")
    table.add_row("hub pid", str(status.hub_pid) if status.hub_pid else "not running")
    table.add_row("hub healthy", "[green]yes[/]" if status.hub_healthy else "[red]no[/]")
    table.add_row("state folder", str(broker.state_dir))
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
    stack = LocalStack(settings.model_copy(update=updates))
    _refuse_port_change(stack.broker, kafka_port, controller_port)
    with steps(console, "Starting the local broker and hub") as report:
        status = stack.up(report)
    console.print(_render(status))
    verb = "started in" if status.broker.started_now else "already running; checked in"
    console.print(f"Broker {verb} {status.broker.elapsed_s:.1f} s. Client settings: {stack.env_file}")


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
    """Stop the hub and the broker this state folder started (only those processes)."""
    console.print(LocalStack(settings_of(context)).down(purge=purge))


@app.command()
def status(context: typer.Context) -> None:
    """Show bootstrap address, pids, cluster id, hub address and whether both answer."""
    result = LocalStack(settings_of(context)).status()
    if result.broker.cluster_id is None:
        raise LocalStackError(f"No broker in {result.broker.state_dir}; run `headwater local up`.")
    console.print(_render(result))
    if not (result.broker.answering and result.hub_healthy):
        raise typer.Exit(code=3)


@app.command("rotate-certificate")
def rotate_certificate(context: typer.Context) -> None:
    """Renew the broker's certificate and load it into the running broker without a restart."""
    issued = LocalBroker(settings_of(context)).rotate_certificate()
    console.print(
        f"Broker certificate rotated: serial {issued.serial_hex}, valid until {issued.not_after:%Y-%m-%d %H:%M} UTC."
    )
