"""`headwater ca init | issue | renew | revoke | list`: the hub's certificate authority."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.context import settings_of
from headwater.ledger import open_ledger
from headwater.registry.ca import CertificateAuthority, CertificateKind, IssuedCertificate
from headwater.registry.errors import CertificateAuthorityError

app = typer.Typer(help="Issue, renew and revoke identity certificates.", no_args_is_help=True)
console = Console()

OutOption = Annotated[Path, typer.Option("--out", help="Folder for NAME.crt and NAME.key (mode 0600).")]
LifetimeOption = Annotated[
    float | None, typer.Option("--lifetime-hours", help="Certificate lifetime (default from settings).")
]


def _lifetime(hours: float | None) -> timedelta | None:
    return timedelta(hours=hours) if hours is not None else None


def _written(issued: IssuedCertificate, out: Path) -> None:
    certificate_path, key_path = issued.write(out)
    console.print(
        f"Issued {issued.identity} (domain {issued.domain}, serial {issued.serial_hex}), "
        f"valid until {issued.not_after:%Y-%m-%d %H:%M} UTC:\n  {certificate_path}\n  {key_path}"
    )


@app.command()
def init(context: typer.Context) -> None:
    """Create the CA key and certificate (once)."""
    settings = settings_of(context)
    if CertificateAuthority.exists(settings.ca_dir):
        raise CertificateAuthorityError(f"A certificate authority already exists in {settings.ca_dir}.")
    authority = CertificateAuthority.create(settings.ca_dir, settings.trust_domain)
    open_ledger(settings, create_authority=False)
    console.print(f"Created the CA for trust domain {authority.trust_domain}: {authority.certificate_path}")


@app.command()
def issue(
    context: typer.Context,
    name: str,
    out: OutOption,
    domain: Annotated[str, typer.Option(help="Domain that owns the identity.")],
    server: Annotated[bool, typer.Option(help="Server certificate (SAN localhost, 127.0.0.1).")] = False,
    lifetime_hours: LifetimeOption = None,
) -> None:
    """Issue a certificate for an identity (created on first use)."""
    kind = CertificateKind.SERVER if server else CertificateKind.CLIENT
    ledger = open_ledger(settings_of(context), create_authority=False)
    _written(ledger.issue(name, domain, kind, _lifetime(lifetime_hours)), out)


@app.command()
def renew(context: typer.Context, name: str, out: OutOption, lifetime_hours: LifetimeOption = None) -> None:
    """Issue a fresh certificate for an existing identity; refused once the identity is revoked."""
    ledger = open_ledger(settings_of(context), create_authority=False)
    _written(ledger.renew(name, _lifetime(lifetime_hours)), out)


@app.command()
def revoke(
    context: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Identity to revoke with all its certificates.")] = None,
    serial: Annotated[str | None, typer.Option(help="Revoke only this certificate (hex serial).")] = None,
) -> None:
    """Revoke an identity (it can never be renewed) or a single certificate."""
    if (name is None) == (serial is None):
        raise typer.BadParameter("give either an identity NAME or --serial, not both")
    ledger = open_ledger(settings_of(context), create_authority=False)
    if name is not None:
        serials = ledger.revoke_identity(name)
        console.print(f"Revoked identity {name} and {len(serials)} certificate(s).")
    else:
        record = ledger.revoke_certificate(serial or "")
        console.print(f"Revoked certificate {record.serial} of {record.identity}.")


@app.command("list")
def list_certificates(
    context: typer.Context,
    identity: Annotated[str | None, typer.Option(help="Only this identity.")] = None,
) -> None:
    """List issued certificates with their status."""
    ledger = open_ledger(settings_of(context), create_authority=False)
    now = datetime.now(UTC)
    table = Table("identity", "domain", "kind", "serial", "not after (UTC)", "status")
    for record in ledger.list_certificates(identity):
        table.add_row(
            record.identity,
            record.domain,
            record.kind.value,
            record.serial,
            f"{record.not_after:%Y-%m-%d %H:%M}",
            record.status(now).value,
        )
    console.print(table)
