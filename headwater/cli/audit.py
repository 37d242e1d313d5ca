"""`headwater audit`: the hub's append-only log of changes made and refused, newest first."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from headwater.cli.context import settings_of
from headwater.cli.hub_client import hub_client

console = Console()


def show(
    context: typer.Context,
    target: Annotated[str | None, typer.Option(help="Only entries about this subject or stream.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. schema.register.")] = None,
    limit: Annotated[int, typer.Option(help="How many entries.")] = 20,
) -> None:
    """Show the audit log: who changed (or tried to change) what, when, and the policy decision."""
    with hub_client(settings_of(context)) as hub:
        entries = hub.get("/audit", target=target, action=action, limit=limit)
    table = Table(title=f"{len(entries)} audit entr{'y' if len(entries) == 1 else 'ies'}")
    for column in ("id", "at", "actor", "action", "target", "outcome", "details"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        outcome = "[green]done[/]" if entry["outcome"] == "done" else f"[red]{entry['outcome']}[/]"
        table.add_row(
            str(entry["id"]),
            entry["at"],
            entry["actor"],
            entry["action"],
            entry["target"],
            outcome,
            _summary(entry),
        )
    console.print(table)


def _summary(entry: dict[str, object]) -> str:
    details = entry["details"]
    policy = details.get("policy") if isinstance(details, dict) else None
    if isinstance(policy, dict):
        counts = {kind: len(policy[kind]) for kind in ("violations", "warnings", "waived")}
        broken = ", ".join(violation["rule_id"] for violation in policy["violations"])
        return (
            f"{len(policy['rules'])} rules; "
            + ", ".join(f"{count} {kind}" for kind, count in counts.items())
            + (f" ({broken})" if broken else "")
        )
    return json.dumps({"details": details, "before": entry["before"], "after": entry["after"]}, default=str)
