"""`headwater access request|approve|deny|revoke|list` and
`headwater identities issue|renew|revoke|revoke-certificate|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.context import settings_of
from headwater.cli.hub_client import hub_client
from headwater.producers.hub import HubClient
from headwater.producers.identity_files import write_identity_files
from headwater.registry.ca.authority import new_signing_request

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


def _certify_new_key(hub: HubClient, path: str, identity: str, out: Path, **fields: str) -> None:
    """Make a key pair here, have the hub certify it, write both: the key never leaves this machine."""
    csr_pem, private_key_pem = new_signing_request(identity)
    signed = hub.post(path, {**fields, "csr_pem": csr_pem.decode()})
    certificate, key = write_identity_files(signed, private_key_pem, out)
    console.print(
        f"Issued {signed['identity']} (domain {signed['domain']}, serial {signed['serial']}), valid until "
        f"{signed['not_after'][:19]}:\n  {certificate}\n  {key}  (key made here; the hub never saw it)",
        highlight=False,
    )


@identities_app.command("issue")
def issue(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="Service name (certificate CN).", show_default=False)],
    domain: Annotated[str, typer.Option(help="Its domain.", show_default=False)],
    out: OutOption = Path("."),
) -> None:
    """Create a service identity of your domain: a key pair made here, its certificate from the hub."""
    with hub_client(settings_of(context)) as hub:
        _certify_new_key(hub, "/identities", name, out, name=name, domain=domain)


@identities_app.command("renew")
def renew(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="Your own identity.", show_default=False)],
    out: OutOption = Path("."),
) -> None:
    """Renew your own identity with a new key pair; the certificate you call with stops working after a grace period."""
    with hub_client(settings_of(context)) as hub:
        _certify_new_key(hub, f"/identities/{name}/renew", name, out)


@identities_app.command("revoke-certificate")
def revoke_certificate(
    context: typer.Context, serial: Annotated[str, typer.Argument(help="Hexadecimal serial.", show_default=False)]
) -> None:
    """Revoke one certificate (a leaked key): the hub refuses it at once, the broker within seconds."""
    with hub_client(settings_of(context)) as hub:
        record = hub.post(f"/certificates/{serial}/revoke", {})
    console.print(f"Revoked certificate {record['serial']} of {record['identity']}.", highlight=False)


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
