"""What policies add to a schema registration, end to end through the hub over mTLS.

Two hub processes on one database: the baseline loads no rules, the other loads the shipped rules plus
50 organisation rules in CEL (comprehensions over every field of a 50-field schema). Registrations of
fresh 50-field schemas alternate between them, so machine noise hits both alike. Prints p50/p99 of
each, the difference and the ratio, and the engine's own cost measured in-process.

Target (issue 4): policies add < 5 ms at p99.

    .venv/bin/python benchmarks/policies.py [--registrations 400]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from headwater.config import LocalSettings
from headwater.ledger import open_ledger
from headwater.local import hub as hub_server
from headwater.local import processes
from headwater.policies import DEFAULT_POLICY_FOLDER, Requester, evaluate, load_policies
from headwater.producers.connection import client_ssl_context
from headwater.registry.ca import CertificateKind
from headwater.registry.governance.contexts import schema_version_context
from headwater.registry.schemas import parse_schema

TARGET_ADDED_P99_MS = 5.0
FIELD_COUNT = 50

# (id, CEL expression): what an organisation's platform team writes about field naming, types and PII.
RULES: list[tuple[str, str]] = [
    ("snake-case-names", "schema.fields.all(f, f.name.matches('^[a-z][a-z0-9_]*$'))"),
    ("no-float-amounts", "!schema.fields.exists(f, f.name.contains('amount') && f.type in ['float', 'double'])"),
    ("field-count-bounded", "schema.fields.size() <= 200"),
    ("short-field-names", "schema.fields.all(f, size(f.name) <= 64)"),
    ("docs-are-sentences", "schema.fields.all(f, f.doc == '' || size(f.doc) >= 10)"),
    ("no-reserved-names", "!schema.fields.exists(f, f.name in ['class', 'type', 'default', 'namespace'])"),
    ("pii-is-nullable", "schema.fields.filter(f, 'pii' in f.tags).all(f, f.nullable)"),
    ("timestamps-are-long", "schema.fields.filter(f, f.name.endsWith('_at')).all(f, f.type == 'long')"),
    ("ids-are-strings", "schema.fields.filter(f, f.name.endsWith('_id')).all(f, f.type == 'string')"),
    (
        "booleans-read-as-questions",
        "schema.fields.filter(f, f.type == 'boolean').all(f, f.name.startsWith('is_') || f.name.startsWith('has_'))",
    ),
    ("has-updated-at", "schema.fields.exists(f, f.name == 'updated_at')"),
    ("has-an-id", "schema.fields.exists(f, f.name.endsWith('_id'))"),
    ("no-generic-names", "!schema.fields.exists(f, f.name in ['data', 'value', 'info', 'misc', 'blob'])"),
    ("nesting-depth-bounded", "schema.fields.all(f, f.path.split('.').size() <= 4)"),
    ("emails-are-pii", "schema.fields.filter(f, f.name.contains('email')).all(f, 'pii' in f.tags)"),
    ("phones-are-pii", "schema.fields.filter(f, f.name.contains('phone')).all(f, 'pii' in f.tags)"),
    ("addresses-are-pii", "schema.fields.filter(f, f.name.contains('address')).all(f, 'pii' in f.tags)"),
    ("names-are-pii", "schema.fields.filter(f, f.name in ['first_name', 'last_name']).all(f, 'pii' in f.tags)"),
    (
        "currencies-are-codes",
        "schema.fields.filter(f, f.name.endsWith('currency')).all(f, f.type in ['string', 'enum'])",
    ),
    ("counts-are-integers", "schema.fields.filter(f, f.name.endsWith('_count')).all(f, f.type in ['int', 'long'])"),
    ("ids-are-required", "schema.fields.filter(f, f.name.endsWith('_id')).all(f, !f.nullable)"),
    ("nullable-has-default", "schema.fields.filter(f, f.nullable).all(f, f.has_default)"),
    ("few-nullable-fields", "schema.fields.filter(f, f.nullable).size() <= 30"),
    ("tags-lower-case", "schema.fields.all(f, f.tags.all(t, t.matches('^[a-z]+$')))"),
    ("no-secrets", "!schema.fields.exists(f, f.name.contains('password') || f.name.contains('secret'))"),
    ("no-todo-docs", "schema.fields.all(f, !f.doc.contains('TODO'))"),
    ("root-is-record", "schema.root_type == 'record'"),
    ("subject-naming", "schema.subject.matches('^[a-z0-9.-]+-(key|value)$')"),
    ("requester-has-domain", "requester.domain != ''"),
    ("durations-in-ms", "schema.fields.filter(f, f.name.endsWith('_ms')).all(f, f.type == 'long')"),
    ("urls-are-strings", "schema.fields.filter(f, f.name.endsWith('_url')).all(f, f.type == 'string')"),
    ("codes-are-strings", "schema.fields.filter(f, f.name.endsWith('_code')).all(f, f.type in ['string', 'enum'])"),
    ("dates-are-ints", "schema.fields.filter(f, f.name.endsWith('_date')).all(f, f.type == 'int')"),
    ("percent-not-float", "!schema.fields.exists(f, f.name.endsWith('_pct') && f.type == 'float')"),
    ("lists-are-plural", "schema.fields.filter(f, f.type == 'array').all(f, f.name.endsWith('s'))"),
    ("maps-named-by", "schema.fields.filter(f, f.type == 'map').all(f, f.name.contains('_by_'))"),
    ("documented-pii", "schema.fields.filter(f, 'pii' in f.tags).all(f, f.doc != '')"),
    ("no-legacy-payments", "!schema.fields.exists(f, f.name in ['pmt_ref', 'txn_amt', 'cust_no'])"),
    ("no-legacy-ledger", "!schema.fields.exists(f, f.name in ['gl_code_old', 'acct_no', 'bal_amt'])"),
    ("no-legacy-cards", "!schema.fields.exists(f, f.name in ['pan', 'card_number', 'cvv'])"),
    ("no-legacy-users", "!schema.fields.exists(f, f.name in ['usr', 'uname', 'pwd'])"),
    ("no-legacy-orders", "!schema.fields.exists(f, f.name in ['ord_no', 'ord_amt', 'ord_dt'])"),
    ("no-abbreviated-ids", "!schema.fields.exists(f, f.name.endsWith('_no') || f.name.endsWith('_num'))"),
    ("no-trailing-underscore", "schema.fields.all(f, !f.name.endsWith('_'))"),
    ("no-double-underscore", "schema.fields.all(f, !f.name.contains('__'))"),
    ("no-digits-first-segment", "schema.fields.all(f, !f.name.matches('^[a-z]+[0-9]+_'))"),
    ("enum-fields-documented", "schema.fields.filter(f, f.type == 'enum').all(f, f.doc != '')"),
    ("record-fields-documented", "schema.fields.filter(f, f.type == 'record').all(f, f.doc != '')"),
    ("country-is-iso", "schema.fields.filter(f, f.name.endsWith('country')).all(f, f.type == 'string')"),
    (
        "amount-has-currency",
        "!schema.fields.exists(f, f.name.endsWith('_amount')) || schema.fields.exists(f, f.name.endsWith('currency'))",
    ),
]


def policy_file() -> str:
    lines = ["rules:"]
    for rule_id, expression in RULES:
        lines += [
            f"  - id: {rule_id}",
            f"    description: Benchmark rule {rule_id}.",
            "    applies_to: [schema_version]",
            "    severity: error",
            f"    cel: {json.dumps(expression)}",
            f"    message: Rule {rule_id} does not hold.",
            "    fix_hint: Follow the organisation's schema guide.",
        ]
    return "\n".join(lines) + "\n"


def schema_text(variant: int) -> str:
    """A 50-field record passing every rule; `variant` makes each text (and schema id) new."""
    kinds = [
        ("string", "_id"),
        ("long", "_at"),
        ("long", "_amount"),
        ("string", "_currency"),
        ("int", "_count"),
        ("boolean", None),
        ("string", "_code"),
        ("long", "_ms"),
        ("string", "_url"),
        ("int", "_date"),
    ]
    fields: list[dict[str, object]] = []
    for index in range(FIELD_COUNT - 2):
        avro_type, suffix = kinds[index % len(kinds)]
        name = f"is_flag_{index}" if avro_type == "boolean" else f"item_{index}{suffix}"
        fields.append({"name": name, "type": avro_type, "doc": f"Field {index} of the benchmark record."})
    fields.append({"name": "updated_at", "type": "long", "doc": f"Last change, variant {variant}."})
    fields.append(
        {
            "name": "contact_email",
            "type": ["null", "string"],
            "default": None,
            "doc": "Where to write to the customer.",
            "tags": ["pii"],
        }
    )
    return json.dumps({"type": "record", "name": "BenchRecord", "namespace": "bench", "fields": fields})


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


_HUB_SCRIPT = """
import sys
import uvicorn
from pathlib import Path
from headwater.config import LocalSettings
from headwater.local.hub import hub_config
from headwater.policies import PolicySet
from headwater.registry.governance.gate import PolicyGate

state_dir, policy_dir, port = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
settings = LocalSettings(state_dir=state_dir, policy_dir=Path(policy_dir) if policy_dir != "-" else None)
gate = PolicyGate(PolicySet(())) if policy_dir == "-" else None
uvicorn.Server(hub_config(settings, "127.0.0.1", port, gate=gate)).run()
"""


def start_hub(state_dir: Path, policy_dir: Path | None, log: Path) -> tuple[int, int]:
    port = processes.free_port()
    arguments = [str(state_dir), str(policy_dir) if policy_dir else "-", str(port)]
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", _HUB_SCRIPT, *arguments],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "HEADWATER_LOG_LEVEL": "warning"},
        )
    return process.pid, port


def wait_ready(client: httpx.Client, pid: int, log: Path) -> None:
    # /identity, not /health: these hubs have no broker, so health answers 503.
    failure = hub_server.wait_for_answer(client, pid, "/api/v1/identity", timeout_s=60)
    if failure is not None:
        raise SystemExit(f"a hub did not answer ({failure}); see {log}")


def register_ms(client: httpx.Client, subject: str, text: str) -> float:
    started = time.perf_counter()
    response = client.post(f"/subjects/{subject}/versions", json={"schema": text})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"registration failed: {response.status_code} {response.text}")
    return elapsed


def engine_ms(policy_folder: Path, runs: int) -> tuple[int, list[float]]:
    """The policy engine alone, in-process: context conversion plus every rule, per registration."""
    policy_set = load_policies([DEFAULT_POLICY_FOLDER, policy_folder])
    schema = parse_schema(schema_text(0))
    requester = Requester("bench-admin", "platform", is_admin=True)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        context = schema_version_context(requester, "bench-value", schema, schema)
        decision = evaluate(policy_set, context, [], datetime.now(UTC))
        timings.append((time.perf_counter() - started) * 1000)
        assert decision.allowed, decision.violations
    return len(policy_set.rules), timings


def main() -> None:
    # Imported here: run as a script, benchmarks/ is on sys.path; tests import this module from the root.
    from smoke import parse_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=400, help="per hub")
    count = parse_arguments(parser, registrations=20).registrations
    console = Console()
    assert len(RULES) == 50, len(RULES)

    with tempfile.TemporaryDirectory(prefix="headwater-bench-policies-") as folder:
        root = Path(folder)
        policy_folder = root / "policies"
        policy_folder.mkdir()
        (policy_folder / "organisation.yaml").write_text(policy_file())
        settings = LocalSettings(state_dir=root / "state")
        ledger = open_ledger(settings)
        admin = ledger.issue(settings.admin_identity, settings.platform_domain, CertificateKind.CLIENT)
        certificate, key = admin.write(root / "client")
        rule_count, engine_timings = engine_ms(policy_folder, 2000)

        hubs = {"no rules": None, f"{rule_count} rules": policy_folder}
        pids: list[int] = []
        clients: dict[str, httpx.Client] = {}
        try:
            for label, policy_dir in hubs.items():
                log = root / f"hub-{len(pids)}.log"
                pid, port = start_hub(settings.state_dir, policy_dir, log)
                pids.append(pid)
                context = client_ssl_context(settings.ca_file, certificate, key)
                clients[label] = httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context, timeout=30)
                wait_ready(clients[label], pid, log)
            timings: dict[str, list[float]] = {label: [] for label in hubs}
            labels = list(hubs)
            # Warm-up: first requests pay for imports, connection set-up and SQLite page cache.
            for index, label in enumerate(labels):
                for warm in range(20):
                    register_ms(clients[label], f"warm-{index}-{warm}-value", schema_text(-1 - warm - 100 * index))
            with Progress(console=console) as progress:
                task = progress.add_task("registering", total=count)
                for number in range(count):
                    # Alternate which hub goes first, so drift and caching favour neither.
                    for label in labels if number % 2 == 0 else reversed(labels):
                        index = labels.index(label)
                        subject = f"bench-{index}-{number}-value"
                        timings[label].append(register_ms(clients[label], subject, schema_text(number * 2 + index)))
                    progress.advance(task)
        finally:
            for client in clients.values():
                client.close()
            for pid in pids:
                processes.stop_process(pid)

    table = Table(title=f"Schema registration through the hub over mTLS ({count} per hub, {FIELD_COUNT}-field schemas)")
    for column in ("hub", "p50 ms", "p99 ms", "mean ms"):
        table.add_column(column, justify="right")
    for label, values in timings.items():
        table.add_row(
            label,
            f"{_percentile(values, 0.5):.2f}",
            f"{_percentile(values, 0.99):.2f}",
            f"{statistics.mean(values):.2f}",
        )
    table.add_row(
        "policy engine alone",
        f"{_percentile(engine_timings, 0.5):.2f}",
        f"{_percentile(engine_timings, 0.99):.2f}",
        f"{statistics.mean(engine_timings):.2f}",
    )
    console.print(table)
    base, ruled = timings[labels[0]], timings[labels[1]]
    base_p50, base_p99 = _percentile(base, 0.5), _percentile(base, 0.99)
    ruled_p50, ruled_p99 = _percentile(ruled, 0.5), _percentile(ruled, 0.99)
    added_p99 = ruled_p99 - base_p99
    console.print(
        f"added by {rule_count} rules: p50 {ruled_p50 - base_p50:+.2f} ms (ratio {ruled_p50 / base_p50:.2f}), "
        f"p99 {added_p99:+.2f} ms (ratio {ruled_p99 / base_p99:.2f}); "
        f"engine alone p99 {_percentile(engine_timings, 0.99):.2f} ms"
    )
    verdict = "[green]met[/]" if added_p99 < TARGET_ADDED_P99_MS else "[red]NOT met[/]"
    console.print(f"target: policies add < {TARGET_ADDED_P99_MS:.0f} ms at p99: {verdict}")


if __name__ == "__main__":
    main()
