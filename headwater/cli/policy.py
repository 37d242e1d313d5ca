"""`headwater policy list | check | validate | waive | waivers | revoke-waiver`: governance rules as code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.context import settings_of
from headwater.cli.hub_client import hub_client
from headwater.cli.spec_file import load_stream_definition
from headwater.policies import DEFAULT_POLICY_FOLDER, load_policies
from headwater.registry.governance.errors import WaiverRefusedError

app = typer.Typer(
    help="Governance rules: list them, dry-run a change, validate files, grant waivers.", no_args_is_help=True
)
console = Console()


@app.command("list")
def list_rules(context: typer.Context) -> None:
    """The rules the hub enforces, with the file and line that define each."""
    with hub_client(settings_of(context)) as hub:
        rules = hub.get("/policies")
    table = Table(title=f"{len(rules)} rules in force")
    # The id and `file:line` stay whole (people copy them); the description wraps instead.
    for column in ("id", "severity", "applies to", "kind", "defined at", "description"):
        table.add_column(column, no_wrap=column in ("id", "defined at"), overflow="fold")
    for rule in rules:
        severity = "[red]error[/]" if rule["severity"] == "error" else "[yellow]warn[/]"
        table.add_row(
            rule["id"], severity, ", ".join(rule["applies_to"]), rule["kind"], rule["source"], rule["description"]
        )
    console.print(table)


@app.command()
def check(
    context: typer.Context,
    spec: Annotated[Path | None, typer.Argument(help="A stream spec (YAML), checked as a registration.")] = None,
    subject: Annotated[str | None, typer.Option(help="Check a new schema version of this subject instead.")] = None,
    schema: Annotated[Path | None, typer.Option(help="With --subject: the Avro schema file (.avsc).")] = None,
) -> None:
    """Dry run: every violation the change would meet (rule, path, message, fix). Exit code 1 when refused."""
    body = _check_body(spec, subject, schema)
    with hub_client(settings_of(context)) as hub:
        result = hub.post("/policies/check", body)
    for change in result["checks"]:
        _print_change(change)
    if result["allowed"]:
        console.print("[green]Allowed[/]: no blocking violation.")
    else:
        blocking = sum(len(change["violations"]) for change in result["checks"])
        console.print(f"[red]Refused[/]: {blocking} blocking violation(s).")
        raise typer.Exit(1)


def _check_body(spec: Path | None, subject: str | None, schema: Path | None) -> dict[str, Any]:
    if spec is not None and subject is None and schema is None:
        return {"stream": load_stream_definition(spec).model_dump()}
    if spec is None and subject is not None and schema is not None:
        try:
            text = schema.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {schema} ({exc})", param_hint="--schema") from exc
        return {"schema_version": {"subject": subject, "schema": text}}
    raise typer.BadParameter("give a stream SPEC file, or --subject with --schema")


def _print_change(change: dict[str, Any]) -> None:
    verdict = "[green]passes[/]" if change["allowed"] else "[red]refused[/]"
    console.print(f"\n[bold]{change['scope']}[/] {change['target']}: {verdict}", highlight=False)
    rows = [("error", item) for item in change["violations"]] + [("warn", item) for item in change["warnings"]]
    rows += [("waived", item) for item in change["waived"]]
    if not rows:
        return
    table = Table(show_header=True)
    for column in ("", "rule", "path", "message", "fix"):
        table.add_column(column, overflow="fold")
    styles = {"error": "[red]error[/]", "warn": "[yellow]warn[/]", "waived": "[cyan]waived[/]"}
    for kind, item in rows:
        message = item["message"]
        if kind == "waived":
            message += f" (waived by {item['waiver_granted_by']} until {item['waiver_expires_at']})"
        table.add_row(styles[kind], item["rule_id"], item["path"], message, item["fix_hint"])
    console.print(table)


@app.command()
def validate(
    context: typer.Context,
    folder: Annotated[Path | None, typer.Argument(help="Policy folder (default: HEADWATER_POLICY_DIR).")] = None,
) -> None:
    """Load the shipped rules and FOLDER's files as the hub would, and report every problem with file and line."""
    chosen = folder or settings_of(context).policy_dir
    policy_set = load_policies([DEFAULT_POLICY_FOLDER, *([chosen] if chosen is not None else [])])
    origin = f" (shipped defaults and {chosen})" if chosen is not None else " (shipped defaults)"
    console.print(f"{len(policy_set.rules)} rules load cleanly{origin}.", highlight=False)


@app.command()
def waive(
    context: typer.Context,
    rule: Annotated[str, typer.Argument(help="The rule id to waive.", show_default=False)],
    target: Annotated[str, typer.Argument(help="The subject or stream it is waived for.", show_default=False)],
    reason: Annotated[str, typer.Option(help="Why breaking the rule is acceptable for now.", show_default=False)],
    hours: Annotated[float | None, typer.Option(help="Waive for this many hours.")] = None,
    until: Annotated[
        datetime | None, typer.Option(help="Waive until this time (ISO 8601; UTC when no zone is given).")
    ] = None,
) -> None:
    """Grant a time-limited waiver of RULE for TARGET (hub admin only); it is audited."""
    expires_at = _expiry(hours, until)
    with hub_client(settings_of(context)) as hub:
        waiver = hub.post(
            "/policies/waivers",
            {"rule_id": rule, "target": target, "expires_at": expires_at.isoformat(), "reason": reason},
        )
    console.print(
        f"Waiver {waiver['id']}: rule {waiver['rule_id']} is waived for {waiver['target']} "
        f"until {waiver['expires_at']}.",
        highlight=False,
    )


def _expiry(hours: float | None, until: datetime | None) -> datetime:
    if (hours is None) == (until is None):
        raise WaiverRefusedError("Give exactly one of --hours or --until for the waiver's expiry.")
    if hours is not None:
        return datetime.now(UTC) + timedelta(hours=hours)
    assert until is not None
    return until if until.tzinfo is not None else until.replace(tzinfo=UTC)


@app.command()
def waivers(
    context: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include expired and revoked waivers.")] = False,
) -> None:
    """The waivers in force (or all of them)."""
    with hub_client(settings_of(context)) as hub:
        rows = hub.get("/policies/waivers", include_inactive=all_)
    table = Table(title=f"{len(rows)} waiver(s)")
    for column in ("id", "rule", "target", "expires", "granted by", "reason", "revoked"):
        table.add_column(column, overflow="fold")
    for row in rows:
        revoked = f"{row['revoked_at']} by {row['revoked_by']}" if row["revoked_at"] else ""
        table.add_row(
            str(row["id"]), row["rule_id"], row["target"], row["expires_at"], row["granted_by"], row["reason"], revoked
        )
    console.print(table)


@app.command("revoke-waiver")
def revoke_waiver(
    context: typer.Context, waiver_id: Annotated[int, typer.Argument(help="The waiver's id.", show_default=False)]
) -> None:
    """End a waiver now (hub admin only); it is audited."""
    with hub_client(settings_of(context)) as hub:
        waiver = hub.delete(f"/policies/waivers/{waiver_id}")
    console.print(
        f"Waiver {waiver['id']} of rule {waiver['rule_id']} for {waiver['target']} is revoked.", highlight=False
    )
