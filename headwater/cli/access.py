"""`headwater access request|approve|deny|revoke|list` and `headwater identities issue|renew|revoke|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.context import settings_of
from headwater.cli.hub_client import hub_client
from headwater.producers.identity_files import write_issued_certificate

access_app = typer.Typer(help="Read access to streams: request, decide, revoke.", no_args_is_help=True)
identities_app = typer.Typer(help="Service identities of a domain: issue, renew, revoke.", no_args_is_help=True)
console = Console()

GrantArgument = Annotated[int, typer.Argument(help="The access grant's id (see `headwater access list`).")]
OutOption = Annotated[Path, typer.Option("--out", help="Folder for NAME.crt and NAME.key (key mode 0600).")]


def _print_grant(grant: dict[str, Any]) -> None:
    console.print(
        f"Access grant {grant['id']}: {grant['consumer']} on {grant['stream']} is {grant['state']} "
        f"(purpose: {grant['purpose']}).",
        highlight=False,
    )


@access_app.command("request")
def request(
    context: typer.Context,
    stream: Annotated[str, typer.Argument(help="The stream to read.", show_default=False)],
    purpose: Annotated[str, typer.Option(help="Why you need it (required for streams with PII).", show_default=False)],
) -> None:
    """Ask for read access as your identity; the stream's owner approves or denies."""
    with hub_client(settings_of(context)) as hub:
        _print_grant(hub.post(f"/streams/{stream}/access", {"purpose": purpose}))


@access_app.command("approve")
def approve(context: typer.Context, grant: GrantArgument) -> None:
    """Approve (stream owner or admin): the consumer may read the topic with groups named `<identity>.*`."""
    with hub_client(settings_of(context)) as hub:
        _print_grant(hub.post(f"/access/{grant}/approve", {}))


@access_app.command("deny")
def deny(context: typer.Context, grant: GrantArgument) -> None:
    with hub_client(settings_of(context)) as hub:
        _print_grant(hub.post(f"/access/{grant}/deny", {}))


@access_app.command("revoke")
def revoke(context: typer.Context, grant: GrantArgument) -> None:
    """End an approved grant; the broker refuses the consumer's next fetch."""
    with hub_client(settings_of(context)) as hub:
        _print_grant(hub.post(f"/access/{grant}/revoke", {}))


@access_app.command("list")
def list_grants(
    context: typer.Context,
    stream: Annotated[str | None, typer.Option(help="Only grants on this stream.")] = None,
    consumer: Annotated[str | None, typer.Option(help="Only grants of this identity.")] = None,
    state: Annotated[str | None, typer.Option(help="REQUESTED, APPROVED, DENIED or REVOKED.")] = None,
) -> None:
    with hub_client(settings_of(context)) as hub:
        grants = hub.get("/access", stream=stream, consumer=consumer, state=state)
    table = Table(title=f"{len(grants)} access grant(s)")
    for column in ("id", "stream", "consumer", "state", "purpose", "decided by"):
        table.add_column(column, overflow="fold")
    for grant in grants:
        table.add_row(
            str(grant["id"]),
            grant["stream"],
            grant["consumer"],
            grant["state"],
            grant["purpose"],
            grant["decided_by"] or "",
        )
    console.print(table)


def _write_certificate(issued: dict[str, Any], out: Path) -> None:
    certificate, key = write_issued_certificate(issued, out)
    console.print(
        f"Issued {issued['identity']} (domain {issued['domain']}, serial {issued['serial']}), valid until "
        f"{issued['not_after'][:19]}:\n  {certificate}\n  {key}",
        highlight=False,
    )


@identities_app.command("issue")
def issue(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="Service name (certificate CN).", show_default=False)],
    domain: Annotated[str, typer.Option(help="Its domain.", show_default=False)],
    out: OutOption = Path("."),
) -> None:
    """Create a service identity of your domain and write its certificate and key."""
    with hub_client(settings_of(context)) as hub:
        _write_certificate(hub.post("/identities", {"name": name, "domain": domain}), out)


@identities_app.command("renew")
def renew(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="The identity.", show_default=False)],
    out: OutOption = Path("."),
) -> None:
    with hub_client(settings_of(context)) as hub:
        _write_certificate(hub.post(f"/identities/{name}/renew", {}), out)


@identities_app.command("revoke")
def revoke_identity(
    context: typer.Context, name: Annotated[str, typer.Argument(help="The identity.", show_default=False)]
) -> None:
    """Revoke every certificate and remove every ACL: the hub and the broker refuse it from now on."""
    with hub_client(settings_of(context)) as hub:
        record = hub.post(f"/identities/{name}/revoke", {})
    console.print(f"Revoked identity {record['name']} at {record['revoked_at'][:19]}.", highlight=False)


@identities_app.command("list")
def list_identities(
    context: typer.Context, domain: Annotated[str | None, typer.Option(help="Only this domain.")] = None
) -> None:
    with hub_client(settings_of(context)) as hub:
        records = hub.get("/identities", domain=domain)
    table = Table(title=f"{len(records)} identit{'y' if len(records) == 1 else 'ies'}")
    for column in ("name", "domain", "kind", "created", "revoked"):
        table.add_column(column)
    for record in records:
        revoked = record["revoked_at"][:19] if record["revoked_at"] else ""
        table.add_row(record["name"], record["domain"], record["kind"], record["created_at"][:19], revoked)
    console.print(table)
