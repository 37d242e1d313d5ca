"""`headwater demo`: the end-to-end run on embedded defaults."""

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.context import settings_of
from headwater.cli.progress import steps
from headwater.demo import DEMO_IDENTITY, DEMO_STREAM, FOREIGN_TOPIC, run_demo

console = Console()


def run(context: typer.Context) -> None:
    """Start the local broker and hub, register a stream, publish with the SDK, backfill and certify it,
    and replay its history."""
    with steps(console, "Running the demo") as report:
        result = run_demo(settings_of(context), report)
    table = Table("key", "value", "partition", title=f"{DEMO_STREAM} replayed from offset 0 over mTLS")
    for key, value, partition in result.records_read:
        table.add_row(key, value, str(partition))
    console.print(table)
    console.print(
        f"Backfilled {result.backfilled_keys} keys from SQLite (manifest {result.manifest_id}); "
        f"the hub certified {DEMO_STREAM}: {result.certified_state}."
    )
    console.print(f"Write to {FOREIGN_TOPIC} as {DEMO_IDENTITY}: refused by the broker ({result.foreign_write_error}).")
    console.print(f"Broker: {result.bootstrap_servers}; identity certificate: {result.identity_certificate}")
