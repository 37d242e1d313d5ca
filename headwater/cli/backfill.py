"""`headwater backfill <stream> --from <source>`: publish a domain's full current state, resumably."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from headwater.cli.context import settings_of
from headwater.cli.hub_client import hub_connection, kafka_connection
from headwater.producers.backfill import CHECKPOINT_FILE, Backfill, BackfillProgress
from headwater.producers.backfill_sources import (
    BackfillSource,
    FieldMapping,
    JsonLinesSource,
    SqlSource,
)
from headwater.producers.errors import SourceError
from headwater.producers.hub import open_hub
from headwater.producers.stream_producer import fetch_stream_schemas

console = Console()


def run(
    context: typer.Context,
    stream: Annotated[str, typer.Argument(help="The catalog stream, e.g. payments.order.", show_default=False)],
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="A SQLAlchemy database URL (with --table or --query) or a JSON Lines file.",
            show_default=False,
        ),
    ],
    table: Annotated[str | None, typer.Option(help="The table to read (database sources).")] = None,
    query: Annotated[str | None, typer.Option(help="A SELECT to read instead of a table.")] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(help="FIELD=COLUMN when a key or value field's column has another name (repeatable)."),
    ] = None,
    reconcile: Annotated[bool, typer.Option(help="Tombstone keys the topic has but the source no longer has.")] = False,
    restart: Annotated[bool, typer.Option(help="Discard an unfinished run's progress and start over.")] = False,
    work_dir: Annotated[
        Path | None, typer.Option(help="Checkpoint folder (default <state dir>/backfills/<stream>).")
    ] = None,
    page_size: Annotated[int, typer.Option(min=1, help="Rows per keyset page (database sources).")] = 10_000,
) -> None:
    """Publish every entity's current state into STREAM and register a manifest of it with the hub.

    Resumes an interrupted run from its last checkpoint when run again with the same source."""
    settings = settings_of(context)
    hub = hub_connection(settings)
    kafka = kafka_connection(settings, hub)
    folder = work_dir or settings.state_dir / "backfills" / stream
    if restart:
        (folder / CHECKPOINT_FILE).unlink(missing_ok=True)
    with open_hub(hub) as client:
        schemas = fetch_stream_schemas(client, stream)
    mapping = FieldMapping(schemas.key.field_names, schemas.value.field_names, _columns(column or []))
    reader = _source(source, table, query, mapping, page_size)
    if (folder / CHECKPOINT_FILE).exists():
        console.print(f"Resuming the unfinished backfill in {folder}", highlight=False)
    with _ProgressBar(stream) as bar:
        report = Backfill(stream, hub, kafka, reader, folder, reconcile, progress=bar.update).run()
    console.print(
        f"Published {report.keys:,} keys of {report.stream} from {report.source} in {report.seconds:.1f} s "
        f"({report.runs} run(s), {report.resent:,} record(s) sent again after a resume, "
        f"{report.tombstones:,} stale key(s) tombstoned); manifest {report.manifest_id} registered. "
        f"Certify it with `headwater streams certify {stream}`.",
        highlight=False,
    )


def _columns(pairs: list[str]) -> dict[str, str]:
    columns = {}
    for pair in pairs:
        field, separator, name = pair.partition("=")
        if not separator or not field or not name:
            raise SourceError(f"--column {pair!r} is not FIELD=COLUMN, e.g. --column order_id=id.")
        columns[field] = name
    return columns


def _source(source: str, table: str | None, query: str | None, mapping: FieldMapping, page_size: int) -> BackfillSource:
    if "://" in source:
        return SqlSource(source, mapping, table, query, page_size)
    if table or query:
        raise SourceError(f"--table and --query read databases; {source!r} is not a database URL.")
    path = Path(source)
    if path.suffix not in (".jsonl", ".ndjson"):
        raise SourceError(f"{source!r} is neither a database URL (scheme://...) nor a .jsonl file.")
    return JsonLinesSource(path, mapping)


class _ProgressBar:
    """Records sent, rate and time left, redrawn as the backfill reports."""

    def __init__(self, stream: str) -> None:
        self._progress = Progress(
            TextColumn(f"[bold]{stream}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} records/s"),
            TimeRemainingColumn(),
            console=console,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> _ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()

    def update(self, progress: BackfillProgress) -> None:
        if self._task is None:
            self._task = self._progress.add_task("backfill", total=progress.total, rate="-")
        task = self._progress.tasks[self._task]
        elapsed = task.elapsed or 0.0
        sent_now = progress.sent - progress.resumed_from
        rate = f"{sent_now / elapsed:,.0f}" if elapsed > 0.5 else "-"
        self._progress.update(self._task, completed=progress.sent, rate=rate)
