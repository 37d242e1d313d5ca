"""`headwater registry export | import | grant`: move a hub's schema registry, let identities write subjects.

The hub database is the one the settings name: `HEADWATER_DATABASE_URL`, or the state folder's SQLite file.

RegistryError
├── RegistryTransferFileError     the export file cannot be written, read or parsed
└── HubDatabaseUnavailableError   the database cannot be reached, or its SQLite file does not exist
"""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from headwater.cli.context import settings_of
from headwater.cli.progress import steps
from headwater.ledger import open_hub_database
from headwater.registry.config import RegistrySettings
from headwater.registry.errors import RegistryError
from headwater.registry.governance.gate import PolicyGate
from headwater.registry.services.registry_transfer import TransferCounts, dumps, export_registry, import_registry
from headwater.registry.services.schema_registry import SchemaRegistry

app = typer.Typer(help="Export, import and authorise the hub's schema registry.", no_args_is_help=True)
console = Console()

FileArgument = Annotated[Path, typer.Argument(help="The export file (JSON).", show_default=False)]


class RegistryTransferFileError(RegistryError):
    """The export file cannot be written, read or parsed."""


class HubDatabaseUnavailableError(RegistryError):
    def __init__(self, database: str, problem: str) -> None:
        super().__init__(
            f"Cannot open the hub database {database}: {problem}. Check HEADWATER_DATABASE_URL or --state-dir."
        )


def _database_name(settings: RegistrySettings) -> str:
    """The database URL without its password, safe to print."""
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def _open_database(settings: RegistrySettings) -> sessionmaker[Session]:
    try:
        return open_hub_database(settings)
    except OperationalError as exc:
        # The driver's message runs over several lines; its first one names the problem.
        problem = str(exc.orig or exc).strip().splitlines()[0]
        raise HubDatabaseUnavailableError(_database_name(settings), problem) from exc


def _open_existing_database(settings: RegistrySettings) -> sessionmaker[Session]:
    """Like `_open_database`, but a missing SQLite file is an error rather than a new, empty hub."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        raise HubDatabaseUnavailableError(
            _database_name(settings), f"{url.database} does not exist (is --state-dir the hub's state folder?)"
        )
    return _open_database(settings)


def _counted(counts: TransferCounts) -> str:
    return f"{counts.schemas} schema(s), {counts.versions} subject version(s) and {counts.settings} setting(s)"


def _read_export(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryTransferFileError(f"Cannot read the export file {path}: {exc}.") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryTransferFileError(
            f"The export file {path} is not valid JSON ({exc}); give a file written by `headwater registry export`."
        ) from exc
    if not isinstance(document, dict):
        raise RegistryTransferFileError(
            f"The export file {path} holds a JSON {type(document).__name__}, not an object; "
            "give a file written by `headwater registry export`."
        )
    return document


def _write_export(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RegistryTransferFileError(f"Cannot write the export file {path}: {exc}.") from exc


@app.command()
def export(context: typer.Context, file: FileArgument) -> None:
    """Write every schema (with its id), subject version (soft-deleted ones too) and setting to FILE."""
    settings = settings_of(context)
    with steps(console, "Exporting the schema registry") as report:
        sessions = _open_existing_database(settings)
        report(f"Opened the hub database {_database_name(settings)}")
        document = export_registry(sessions)
        counts = TransferCounts(len(document["schemas"]), len(document["versions"]), len(document["settings"]))
        report(f"Read {_counted(counts)}")
        _write_export(file, dumps(document))
    console.print(f"Exported {_counted(counts)} to {file}.", highlight=False, soft_wrap=True)


@app.command("import")
def import_(context: typer.Context, file: FileArgument) -> None:
    """Load FILE into the hub database, keeping every schema id; refused unless the registry is empty."""
    settings = settings_of(context)
    with steps(console, "Importing the schema registry") as report:
        document = _read_export(file)
        report(f"Read {file}")
        sessions = _open_database(settings)
        report(f"Opened the hub database {_database_name(settings)}")
        counts = import_registry(sessions, document)
    console.print(f"Imported {_counted(counts)} into {_database_name(settings)}.", highlight=False, soft_wrap=True)


@app.command()
def grant(
    context: typer.Context,
    subject: Annotated[str, typer.Argument(help="Subject, e.g. payments-value.", show_default=False)],
    identity: Annotated[str, typer.Argument(help="Identity (certificate CN) that may write it.", show_default=False)],
) -> None:
    """Let a non-admin IDENTITY write SUBJECT: register versions, delete them, set its config and mode."""
    settings = settings_of(context)
    registry = SchemaRegistry(_open_existing_database(settings), PolicyGate.from_settings(settings))
    registry.grant_subject(subject, identity)
    console.print(
        f"Granted identity {identity} write access to subject {subject} (register, delete, config, mode).",
        highlight=False,
        soft_wrap=True,
    )
