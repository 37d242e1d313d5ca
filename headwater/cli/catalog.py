"""`headwater domains create | list` and `headwater streams register | list | show`: the catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.context import settings_of
from headwater.cli.hub_client import hub_client
from headwater.cli.progress import steps
from headwater.cli.spec_file import load_stream_definition
from headwater.producers.hub import HubRefusedError
from headwater.producers.identity_files import write_identity_files

domains_app = typer.Typer(help="Business domains: the first part of stream names.", no_args_is_help=True)
streams_app = typer.Typer(help="Register, find and inspect domain streams.", no_args_is_help=True)
console = Console()


@domains_app.command("create")
def create_domain(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="Domain name, e.g. payments.", show_default=False)],
    owning_team: Annotated[str, typer.Option(help="The team that owns the domain.", show_default=False)],
    contact: Annotated[str, typer.Option(help="How to reach it.", show_default=False)],
) -> None:
    """Create a domain (hub admin only)."""
    with hub_client(settings_of(context)) as hub:
        domain = hub.post("/domains", {"name": name, "owning_team": owning_team, "contact": contact})
    console.print(f"Created domain {domain['name']}, owned by {domain['owning_team']}.", highlight=False)


@domains_app.command("list")
def list_domains(context: typer.Context) -> None:
    with hub_client(settings_of(context)) as hub:
        domains = hub.get("/domains")
    table = Table(title=f"{len(domains)} domain(s)")
    for column in ("name", "owning team", "contact", "created"):
        table.add_column(column)
    for domain in domains:
        table.add_row(domain["name"], domain["owning_team"], domain["contact"], domain["created_at"][:19])
    console.print(table)


@streams_app.command("register")
def register(
    context: typer.Context,
    spec: Annotated[Path, typer.Argument(help="The stream spec (YAML); see the README.", show_default=False)],
    certificate_dir: Annotated[
        Path, typer.Option(help="Where to write the owner's certificate and key if the hub issues them.")
    ] = Path("."),
) -> None:
    """Register a stream: policies, schemas, compacted topic, owner ACLs (and certificate); all or nothing."""
    definition = load_stream_definition(spec)
    with steps(console, f"Registering {definition.name}") as report, hub_client(settings_of(context)) as hub:
        report(f"Read {spec}")
        registered = hub.post("/streams", definition.model_dump())
        report(
            f"Registered {registered['name']} (key schema id {registered['key_schema_id']}, "
            f"value schema id {registered['value_schema_id']})"
        )
    issued = registered["owner_certificate"]
    if issued is not None:
        certificate, key = write_identity_files(issued, issued["private_key_pem"].encode(), certificate_dir)
        console.print(
            f"Issued owner identity {issued['identity']} (valid until {issued['not_after'][:19]}):\n"
            f"  {certificate}\n  {key}  (the hub keeps no copy of the key)",
            highlight=False,
        )
    console.print(
        f"Stream {registered['name']} is {registered['state']}; owner {registered['owner']}.", highlight=False
    )


@streams_app.command("list")
def list_streams(
    context: typer.Context,
    query: Annotated[str | None, typer.Argument(help="Search names, descriptions and field names.")] = None,
    domain: Annotated[str | None, typer.Option(help="Only this domain.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only streams of this owner identity.")] = None,
    state: Annotated[str | None, typer.Option(help="Only this lifecycle state.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only streams with this tag.")] = None,
    pii: Annotated[bool | None, typer.Option("--pii/--no-pii", help="Only streams with (or without) PII.")] = None,
    sort: Annotated[str, typer.Option(help="name, -name, created_at or -created_at.")] = "name",
    limit: Annotated[int, typer.Option(help="Streams per page.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="The next-page cursor a previous listing printed.")] = None,
) -> None:
    """Search the catalog."""
    with hub_client(settings_of(context)) as hub:
        page = hub.get(
            "/streams",
            q=query,
            domain=domain,
            owner=owner,
            state=state,
            tag=tag,
            has_pii=pii,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
    table = Table(title=f"{len(page['items'])} stream(s)")
    for column in ("name", "state", "owner", "partitions", "tags", "pii", "description"):
        table.add_column(column, no_wrap=column == "name", overflow="fold")
    for item in page["items"]:
        table.add_row(
            item["name"],
            item["state"],
            item["owner"],
            str(item["partitions"]),
            ", ".join(item["tags"]),
            "yes" if item["has_pii"] else "",
            item["description"],
        )
    console.print(table)
    if page["next_cursor"]:
        console.print(f"More: --cursor {page['next_cursor']}", highlight=False)


@streams_app.command("deprecate")
def deprecate(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="<domain>.<entity>", show_default=False)],
    message: Annotated[str, typer.Option(help="What consumers should use instead.", show_default=False)],
    days: Annotated[float, typer.Option(help="Days until the sunset, when the stream may be deleted.")] = 30.0,
) -> None:
    """Announce a stream's end (owner or admin): consumers see the message and the sunset date."""
    sunset = datetime.now(UTC) + timedelta(days=days)
    with hub_client(settings_of(context)) as hub:
        detail = hub.post(f"/streams/{name}/deprecate", {"sunset_at": sunset.isoformat(), "message": message})
    console.print(
        f"{name} is {detail['summary']['state']} until {detail['summary']['sunset_at'][:19]}.", highlight=False
    )


@streams_app.command("delete")
def delete(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="<domain>.<entity>", show_default=False)],
    delete_topic: Annotated[bool, typer.Option(help="Also delete the topic and every record in it.")] = False,
) -> None:
    """After the sunset: remove every ACL, soft-delete the subjects, and the topic only with --delete-topic."""
    with hub_client(settings_of(context)) as hub:
        result = hub.delete(f"/streams/{name}?delete_topic={'true' if delete_topic else 'false'}")
    kept = "deleted" if result["topic_deleted"] else "kept"
    console.print(f"{name} is {result['state']}; its topic was {kept}.", highlight=False)


@streams_app.command("show")
def show(
    context: typer.Context, name: Annotated[str, typer.Argument(help="<domain>.<entity>", show_default=False)]
) -> None:
    """One stream: owner, schemas, fields, consumers, lineage and what the broker says right now."""
    with hub_client(settings_of(context)) as hub:
        detail = hub.get(f"/streams/{name}")
    summary = detail["summary"]
    console.print(f"[bold]{summary['name']}[/] ({summary['state']}) — {summary['description']}", highlight=False)
    console.print(
        f"owner {summary['owner']} · team {detail['owner_team']} · contact {detail['contact']} · "
        f"{detail['compatibility']} · tags {', '.join(summary['tags']) or '-'}",
        highlight=False,
    )
    if summary["deprecation_message"]:
        console.print(f"[yellow]deprecated[/]: {summary['deprecation_message']} (sunset {summary['sunset_at']})")
    _print_versions(detail)
    _print_fields(detail["fields"])
    _print_live(detail)
    consumers = ", ".join(f"{item['identity']} ({item['purpose']})" for item in detail["consumers"]) or "none"
    lineage = ", ".join(f"{item['job']} ({item['direction']})" for item in detail["lineage"]) or "none"
    console.print(f"consumers: {consumers}\njobs: {lineage}", highlight=False)


def _print_versions(detail: dict[str, Any]) -> None:
    for role in ("key", "value"):
        versions = ", ".join(
            f"v{item['version']} (id {item['schema_id']}{', deleted' if item['deleted'] else ''})"
            for item in detail[f"{role}_versions"]
        )
        console.print(f"{detail[f'{role}_subject']}: {versions}", highlight=False)


def _print_fields(fields: list[dict[str, Any]]) -> None:
    table = Table(title="fields")
    for column in ("role", "path", "type", "tags", "doc"):
        table.add_column(column, overflow="fold")
    for field in fields:
        table.add_row(field["role"], field["path"], field["type"], ", ".join(field["tags"]), field["doc"])
    console.print(table)


def _print_live(detail: dict[str, Any]) -> None:
    live = detail["live"]
    if live is None:
        console.print(f"[yellow]broker[/]: {detail['live_error']}", highlight=False)
        return
    table = Table(title=f"topic: {live['size_bytes']:,} bytes ({live['size_source']})")
    for column in ("partition", "earliest", "latest", "records (upper bound)"):
        table.add_column(column, justify="right")
    for partition in live["partitions"]:
        records = partition["latest"] - partition["earliest"]
        table.add_row(str(partition["partition"]), str(partition["earliest"]), str(partition["latest"]), str(records))
    console.print(table)
    settings = ", ".join(
        f"{key}={live['config'][key]}"
        for key in ("cleanup.policy", "retention.ms", "delete.retention.ms")
        if key in live["config"]
    )
    console.print(f"config: {settings}", highlight=False)


_SCAN_TIMEOUT_S = 900.0
"""Certification reads the whole topic; a large one takes minutes."""


@streams_app.command("certify")
def certify(
    context: typer.Context, name: Annotated[str, typer.Argument(help="<domain>.<entity>", show_default=False)]
) -> None:
    """Have the hub scan the topic against the newest backfill manifest: CERTIFIED, or a report of what fails."""
    _run_certification(context, f"/streams/{name}/certify", f"Certifying {name}")


@streams_app.command("repair")
def repair(
    context: typer.Context, name: Annotated[str, typer.Argument(help="<domain>.<entity>", show_default=False)]
) -> None:
    """Hub admin: set a drifted topic's registered configuration back, then certify it again."""
    _run_certification(context, f"/streams/{name}/repair-topic-config", f"Repairing {name}")


@streams_app.command("certifications")
def certifications(
    context: typer.Context, name: Annotated[str, typer.Argument(help="<domain>.<entity>", show_default=False)]
) -> None:
    """Certifications and drift findings of a stream, newest first."""
    with hub_client(settings_of(context)) as hub:
        rows = hub.get(f"/streams/{name}/certifications")
    table = Table(title=f"{name}: {len(rows)} check(s)")
    for column in ("id", "kind", "manifest", "by", "finished", "result", "failed checks"):
        table.add_column(column)
    for row in rows:
        failed = ", ".join(item["check"] for item in row["report"] if not item["passed"]) or "-"
        result = "[green]passed[/]" if row["passed"] else "[red]failed[/]"
        table.add_row(
            str(row["id"]),
            row["kind"],
            str(row["manifest_id"]),
            row["requested_by"],
            row["finished_at"][:19],
            result,
            failed,
        )
    console.print(table)


def _run_certification(context: typer.Context, path: str, title: str) -> None:
    try:
        with steps(console, title) as report, hub_client(settings_of(context), _SCAN_TIMEOUT_S) as hub:
            report("The hub reads the topic up to its current end and compares it with the manifest")
            outcome = hub.post(path, {})
    except HubRefusedError as refusal:
        if "certification" not in refusal.body:
            raise
        _print_certification(refusal.body["certification"])
        raise typer.Exit(1) from None
    _print_certification(outcome)


def _print_certification(outcome: dict[str, Any]) -> None:
    table = Table(title=f"{outcome['stream']}: certification {outcome['id']} against manifest {outcome['manifest_id']}")
    for column in ("check", "result", "what the hub found"):
        table.add_column(column)
    for check in outcome["checks"]:
        result = "[green]pass[/]" if check["passed"] else "[red]FAIL[/]"
        samples = f" [dim](e.g. {'; '.join(check['samples'])})[/]" if check["samples"] and not check["passed"] else ""
        table.add_row(check["check"], result, check["message"] + samples)
    console.print(table)
    console.print(f"{outcome['stream']} is {outcome['state']}.", highlight=False)
