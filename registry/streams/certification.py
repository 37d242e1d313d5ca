"""Certify that a stream's topic holds the complete latest state its backfill published, and keep checking.

The hub reads the topic itself, as its admin, up to each partition's high watermark at the start, and
compares it with the newest manifest:

- every manifest key is at its manifest offset with the manifest's value hash, or was written again
  later (counted as changed or deleted since; fine);
- no live key outside the manifest unless written after the backfill began (a newer entity);
- tombstones after the backfill were written by the owner's producer (it names itself in a header);
- every record's schema ids belong to the stream's subjects;
- every partition still starts at offset 0, the topic is compacted with unlimited retention and a
  `delete.retention.ms` no lower than registered, with the registered partition count;
- only the owner holds WRITE on the topic.

A passing `certify` makes the stream CERTIFIED; a failing check of a certified stream (by `certify`
or the drift auditor) makes it DEGRADED, with the report stored and an audit entry.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import fastavro
from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourcePatternType,
    ResourceType,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.registry.errors import RegistryError
from headwater.registry.kafka_acls import ADMIN_TIMEOUT_S, principal
from headwater.registry.models import SchemaText, Stream, StreamCertification, SubjectVersion
from headwater.registry.services.audit import DONE, REFUSED, record_audit
from headwater.registry.streams.content_digest import ContentDigest
from headwater.registry.streams.errors import StreamWriteForbiddenError, TopicScanFailedError
from headwater.registry.streams.kafka_facts import TopicFacts, topic_facts
from headwater.registry.streams.manifests import (
    ManifestBook,
    ManifestRecord,
    manifest_positions,
    owned_stream,
    stream_schema_ids,
)
from headwater.registry.streams.registration import KafkaAdmin
from headwater.registry.streams.state import StreamState
from headwater.registry.streams.topic_scan import ClientConfig, PartitionScan, ScanError, scan_partition

logger = logging.getLogger(__name__)

KAFKA_DEFAULT_DELETE_RETENTION_MS: Final = 86_400_000
SAMPLES: Final = 5

CERTIFY, AUDIT, CONTENT_AUDIT = "certify", "audit", "content-audit"


@dataclass(frozen=True)
class Check:
    check: str
    passed: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CertificationOutcome:
    id: int | None
    """None for a passing minute audit, which is not stored."""
    stream: str
    kind: str
    manifest_id: int
    passed: bool
    state: str
    started_at: datetime
    finished_at: datetime
    scanned_offsets: dict[str, int]
    checks: list[Check]


class CertificationFailedError(RegistryError):
    status_code, error_code = 422, 42241

    def __init__(self, outcome: CertificationOutcome) -> None:
        self.outcome = outcome
        failed = "; ".join(f"{check.check}: {check.message}" for check in outcome.checks if not check.passed)
        super().__init__(
            f"Stream '{outcome.stream}' failed certification {outcome.id} against manifest {outcome.manifest_id} "
            f"(now {outcome.state}): {failed}."
        )

    def body_extras(self) -> dict[str, Any]:
        report = asdict(self.outcome)
        report["started_at"], report["finished_at"] = (
            self.outcome.started_at.isoformat(),
            self.outcome.finished_at.isoformat(),
        )
        return {"certification": report}


@dataclass(frozen=True)
class CertificationRecord:
    """A stored certification or drift finding."""

    id: int
    kind: str
    manifest_id: int
    requested_by: str
    passed: bool
    started_at: datetime
    finished_at: datetime
    scanned_offsets: dict[str, int]
    report: list[dict[str, Any]]


@dataclass(frozen=True)
class StreamFacts:
    """What a check needs of the catalog row, read in one short transaction."""

    name: str
    owner: str
    partitions: int
    delete_retention_ms: int
    schema_ids: frozenset[int]
    describe_key: Callable[[bytes], str]


class StreamCertifier:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        kafka_admin: KafkaAdmin,
        client_config: ClientConfig,
        manifests: ManifestBook,
        admin_identity: str,
    ) -> None:
        """`admin_identity` holds ALLOW ALL on every topic by design (the broker's only super user is the
        broker itself): it is not counted as a second writer of a stream."""
        self._sessions = sessions
        self._kafka_admin = kafka_admin
        self._client_config = client_config
        self._manifests = manifests
        self._admin_principal = principal(admin_identity)

    def certify(self, requester: Requester, name: str) -> CertificationOutcome:
        """Scan the whole topic against the newest manifest; CERTIFIED when every check passes."""
        with self._sessions() as session:
            owned_stream(session, requester, name, "certification")
        manifest = self._manifests.latest(name)
        return self._full_check(name, manifest, CERTIFY, requester.identity)

    def history(self, name: str, limit: int = 100) -> list[CertificationRecord]:
        """Certifications and drift findings of a stream, newest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(StreamCertification)
                .where(StreamCertification.stream == name)
                .order_by(StreamCertification.id.desc())
                .limit(limit)
            ).all()
            return [
                CertificationRecord(
                    row.id,
                    row.kind,
                    row.manifest_id,
                    row.requested_by,
                    row.passed,
                    row.started_at,
                    row.finished_at,
                    dict(row.scanned_offsets),
                    list(row.report),
                )
                for row in rows
            ]

    def stale_keys(self, requester: Requester, name: str, entries: bytes, start_offsets: dict[int, int]) -> list[bytes]:
        """Live keys missing from `entries` whose last write came before the backfill began: the keys a
        reconciling backfill tombstones."""
        with self._sessions() as session:
            facts = _stream_facts(session, owned_stream(session, requester, name, "reconciliation"))
        positions = manifest_positions(entries, name)
        stale: list[bytes] = []
        for partition, end in self._end_offsets(name).items():
            scan = self._scan(facts, partition, 0, end)
            known = positions.get(partition, {})
            start = start_offsets.get(partition, 0)
            stale += [
                key
                for key, latest in scan.latest.items()
                if latest.value_hash is not None and key not in known and latest.offset < start
            ]
        return stale

    def audit(self, name: str, manifest_id: int, cursor: dict[int, int], content: bool) -> CertificationOutcome:
        """The drift auditor's check of a certified (or degraded) stream: the topic's configuration, offsets and ACLs,
        and the records written since `cursor` (moved on to where this scan ended); with `content`, a
        full re-scan against the certified manifest instead."""
        manifest = self._manifests.get(manifest_id)
        if content:
            return self._full_check(name, manifest, CONTENT_AUDIT, "headwater-auditor")
        started = datetime.now(UTC)
        with self._sessions() as session:
            facts = _stream_facts(session, _stream(session, name))
        topic = self._topic_facts(name)
        checks = _topic_checks(facts, topic, self._write_principals(name))
        scans = []
        for offsets in topic.partitions:
            start = cursor.get(offsets.partition, offsets.latest)
            scans.append(self._scan(facts, offsets.partition, max(start, offsets.earliest), offsets.latest))
        foreign = [key for scan in scans for key in _foreign_tombstones(facts.owner, scan)]
        checks += [_schema_id_check(scans), _tombstone_check(facts, len(foreign), foreign[:SAMPLES])]
        for scan in scans:
            cursor[scan.partition] = scan.end_offset
        scanned = {str(scan.partition): scan.end_offset for scan in scans}
        return self._conclude(facts, manifest, AUDIT, "headwater-auditor", started, scanned, checks)

    def repair_topic_config(self, requester: Requester, name: str) -> CertificationOutcome:
        """The admin sets the registered compaction, retention and delete retention back, then the topic
        is certified again (a retention change may have removed records meanwhile)."""
        if not requester.is_admin:
            raise StreamWriteForbiddenError(requester.identity, "repair topic configuration (the hub admin does)")
        with self._sessions.begin() as session:
            stream = owned_stream(session, requester, name, "repair")
            config = {"retention.bytes": "-1", **stream.topic_config}
            record_audit(session, requester.identity, "stream.repair-topic-config", name, DONE, {"set": config})
        resource = ConfigResource(
            ResourceType.TOPIC,
            name,
            incremental_configs=[
                ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET) for key, value in config.items()
            ],
        )
        for future in (
            self._kafka_admin().incremental_alter_configs([resource], request_timeout=ADMIN_TIMEOUT_S).values()
        ):
            future.result()
        return self._full_check(name, self._manifests.latest(name), CERTIFY, requester.identity)

    def _full_check(self, name: str, manifest: ManifestRecord, kind: str, actor: str) -> CertificationOutcome:
        started = datetime.now(UTC)
        with self._sessions() as session:
            facts = _stream_facts(session, _stream(session, name))
        topic = self._topic_facts(name)
        checks = _topic_checks(facts, topic, self._write_principals(name))
        positions = manifest_positions(self._manifests.entries(manifest.id), name)
        starts = {partition.partition: partition.start_offset for partition in manifest.partitions}
        content = _ContentTally(facts, starts)
        scans = []
        for offsets in topic.partitions:
            scan = self._scan(facts, offsets.partition, offsets.earliest, offsets.latest)
            content.add(scan, positions.get(offsets.partition, {}))
            scan.latest.clear()  # one partition's keys in memory at a time
            scans.append(scan)
        checks += [_schema_id_check(scans), *content.checks(manifest)]
        scanned = {str(scan.partition): scan.end_offset for scan in scans}
        return self._conclude(facts, manifest, kind, actor, started, scanned, checks)

    def _conclude(
        self,
        facts: StreamFacts,
        manifest: ManifestRecord,
        kind: str,
        actor: str,
        started: datetime,
        scanned: dict[str, int],
        checks: list[Check],
    ) -> CertificationOutcome:
        passed = all(check.passed for check in checks)
        with self._sessions.begin() as session:
            stream = _stream(session, facts.name)
            before = stream.state
            if passed and kind == CERTIFY:
                stream.state = StreamState.CERTIFIED.value
            elif not passed and before == StreamState.CERTIFIED.value:
                stream.state = StreamState.DEGRADED.value
            finished = datetime.now(UTC)
            report = [asdict(check) for check in checks]
            row_id = None
            failed_checks = [check.check for check in checks if not check.passed]
            # A minute audit is stored when it finds something new: a failure other than the last one
            # stored (a degraded stream is audited on, so later drift is on record too).
            if kind != AUDIT or (failed_checks and failed_checks != _last_failed_checks(session, facts.name)):
                row = StreamCertification(
                    stream=facts.name,
                    manifest_id=manifest.id,
                    kind=kind,
                    requested_by=actor,
                    started_at=started,
                    finished_at=finished,
                    passed=passed,
                    scanned_offsets=scanned,
                    report=report,
                )
                session.add(row)
                session.flush()
                row_id = row.id
            if stream.state != before or kind == CERTIFY:
                stream.updated_at = finished
                details = {
                    "certification": row_id,
                    "kind": kind,
                    "manifest": manifest.id,
                    "failed_checks": failed_checks,
                }
                action = "stream.degraded" if stream.state == StreamState.DEGRADED.value else f"stream.{kind}"
                outcome = DONE if passed else REFUSED
                record_audit(
                    session, actor, action, facts.name, outcome, details, {"state": before}, {"state": stream.state}
                )
            if stream.state == StreamState.DEGRADED.value and stream.state != before:
                logger.warning("stream %s is DEGRADED: %s", facts.name, [c.message for c in checks if not c.passed])
            return CertificationOutcome(
                row_id, facts.name, kind, manifest.id, passed, stream.state, started, finished, scanned, checks
            )

    def _scan(self, facts: StreamFacts, partition: int, start: int, end: int) -> PartitionScan:
        try:
            return scan_partition(self._client_config, facts.name, partition, start, end, facts.schema_ids)
        except ScanError as error:
            raise TopicScanFailedError(facts.name, str(error)) from error

    def _topic_facts(self, name: str) -> TopicFacts:
        try:
            return topic_facts(self._kafka_admin(), name, lambda: [])
        except KafkaException as error:
            raise TopicScanFailedError(name, error.args[0].str()) from error

    def _end_offsets(self, name: str) -> dict[int, int]:
        return {offsets.partition: offsets.latest for offsets in self._topic_facts(name).partitions}

    def _write_principals(self, name: str) -> set[str]:
        """Principals allowed to WRITE the topic through any ACL that matches it (literal, prefixed, `*`)."""
        matching = AclBindingFilter(
            ResourceType.TOPIC,
            name,
            ResourcePatternType.MATCH,
            None,
            None,
            AclOperation.ANY,
            AclPermissionType.ALLOW,
        )
        try:
            bindings = self._kafka_admin().describe_acls(matching, request_timeout=ADMIN_TIMEOUT_S).result()
        except KafkaException as error:
            raise TopicScanFailedError(name, error.args[0].str()) from error
        writers = {
            binding.principal for binding in bindings if binding.operation in (AclOperation.WRITE, AclOperation.ALL)
        }
        return writers - {self._admin_principal}


class _ContentTally:
    """Compares partition scans with the manifest's positions, one partition at a time."""

    def __init__(self, facts: StreamFacts, start_offsets: dict[int, int]) -> None:
        self._facts = facts
        self._starts = start_offsets
        self.counts: dict[str, int] = dict.fromkeys(
            ("as_published", "changed_since", "deleted_since", "missing", "value_differs", "stale", "newer"), 0
        )
        self.samples: dict[str, list[bytes]] = {name: [] for name in self.counts}
        self.foreign_tombstones = 0
        self.foreign_samples: list[bytes] = []
        self.live = ContentDigest()

    def add(self, scan: PartitionScan, positions: dict[bytes, tuple[int, bytes]]) -> None:
        start = self._starts.get(scan.partition, 0)
        for key, (offset, digest) in positions.items():
            latest = scan.latest.get(key)
            if latest is None or latest.offset < offset:
                self._count("missing", key)
            elif latest.offset == offset:
                self._count("as_published" if latest.value_hash == digest else "value_differs", key)
            elif latest.value_hash is not None:
                self._count("changed_since", key)
            else:
                self._count("deleted_since", key)
        # Anywhere, not only on a manifest key's partition: a job rebuilding from every partition
        # would apply a misplaced tombstone too.
        foreign = _foreign_tombstones(self._facts.owner, scan)
        self.foreign_tombstones += len(foreign)
        self.foreign_samples += foreign[: SAMPLES - len(self.foreign_samples)]
        for key, latest in scan.latest.items():
            if latest.value_hash is None:
                continue
            self.live.add_entry(key, latest.value_hash)
            if key not in positions:
                self._count("stale" if latest.offset < start else "newer", key)

    def _count(self, name: str, key: bytes) -> None:
        self.counts[name] += 1
        _sample(self.samples[name], key)

    def checks(self, manifest: ManifestRecord) -> list[Check]:
        describe = self._facts.describe_key
        counts = self.counts
        problems = []
        if counts["missing"]:
            problems.append(
                f"{counts['missing']} of {manifest.keys} manifest keys are not in the topic at their manifest "
                f"offset or later (e.g. {_listed(self.samples['missing'], describe)})"
            )
        if counts["value_differs"]:
            problems.append(
                f"{counts['value_differs']} records at their manifest offset do not match the manifest's value "
                f"digest (e.g. {_listed(self.samples['value_differs'], describe)}): the manifest does not describe "
                "this topic"
            )
        if counts["stale"]:
            problems.append(
                f"{counts['stale']} live keys are not in the manifest and were last written before the backfill "
                f"began (e.g. {_listed(self.samples['stale'], describe)}): the source no longer has them; run "
                "the backfill with --reconcile to tombstone them"
            )
        changed = counts["changed_since"] + counts["deleted_since"] + counts["newer"]
        if problems:
            content = Check("content", False, "; ".join(problems), dict(counts), _all_samples(self.samples, describe))
        else:
            same = self.live.keys == manifest.keys and self.live.entry_digest == manifest.entry_digest
            digest_note = (
                "the topic's digest equals the manifest's"
                if same
                else f"{changed} keys were written since the backfill, so the digests differ by those"
            )
            message = (
                f"all {manifest.keys} manifest keys are present ({counts['as_published']} as published); {digest_note}"
            )
            content = Check("content", True, message, dict(counts))
        return [content, _tombstone_check(self._facts, self.foreign_tombstones, self.foreign_samples)]


def _topic_checks(facts: StreamFacts, topic: TopicFacts, writers: set[str]) -> list[Check]:
    checks = []
    count = len(topic.partitions)
    checks.append(
        Check(
            "partitions", count == facts.partitions, f"the topic has {count} partitions; registered {facts.partitions}"
        )
    )
    advanced = {offsets.partition: offsets.earliest for offsets in topic.partitions if offsets.earliest > 0}
    if advanced:
        listed = ", ".join(f"partition {p} starts at {earliest}" for p, earliest in sorted(advanced.items()))
        message = f"records were removed from the start of the log ({listed}): a rebuild would miss them"
        checks.append(Check("earliest-offsets", False, message, {"partitions": len(advanced)}))
    else:
        checks.append(Check("earliest-offsets", True, "every partition starts at offset 0"))
    checks.append(_config_check(facts, topic.config))
    foreign = sorted(writers - {principal(facts.owner)})
    if foreign:
        message = f"{', '.join(foreign)} may also WRITE the topic; only the owner {principal(facts.owner)} may"
        checks.append(Check("write-acls", False, message, {"other_writers": len(foreign)}, foreign))
    else:
        checks.append(Check("write-acls", True, f"only {principal(facts.owner)} may WRITE the topic"))
    return checks


def _config_check(facts: StreamFacts, config: dict[str, str]) -> Check:
    problems = []
    if config.get("cleanup.policy") != "compact":
        problems.append(f"cleanup.policy is {config.get('cleanup.policy')!r}, not 'compact'")
    for name in ("retention.ms", "retention.bytes"):
        if config.get(name, "-1") != "-1":
            problems.append(f"{name} is {config[name]} (records would expire); it must be -1")
    delete_retention = int(config.get("delete.retention.ms", KAFKA_DEFAULT_DELETE_RETENTION_MS))
    if delete_retention < facts.delete_retention_ms:
        problems.append(
            f"delete.retention.ms is {delete_retention}, below the registered {facts.delete_retention_ms} "
            "(consumers rebuilding could miss deletes)"
        )
    if problems:
        return Check(
            "topic-config", False, "; ".join(problems) + "; the hub admin can repair it", {"problems": len(problems)}
        )
    return Check("topic-config", True, "compacted, unlimited retention, delete retention as registered")


def _schema_id_check(scans: Sequence[PartitionScan]) -> Check:
    unknown: dict[int, int] = {}
    malformed = keyless = records = 0
    for scan in scans:
        for schema_id, count in scan.unknown_schema_ids.items():
            unknown[schema_id] = unknown.get(schema_id, 0) + count
        malformed, keyless, records = malformed + scan.not_wire_format, keyless + scan.keyless, records + scan.records
    counts = {
        "records": records,
        "unknown_schema_ids": sum(unknown.values()),
        "not_wire_format": malformed,
        "keyless": keyless,
    }
    if not (unknown or malformed or keyless):
        return Check("schema-ids", True, f"all {records} records read use the stream's schema ids", counts)
    problems = []
    if unknown:
        problems.append(f"{sum(unknown.values())} records use schema ids {sorted(unknown)} the stream does not have")
    if malformed:
        problems.append(f"{malformed} keys or values are not in the Confluent wire format")
    if keyless:
        problems.append(f"{keyless} records have no key")
    return Check("schema-ids", False, "; ".join(problems), counts, [str(schema_id) for schema_id in sorted(unknown)])


def _foreign_tombstones(owner: str, scan: PartitionScan) -> list[bytes]:
    """Keys whose latest record in the scan is a tombstone the owner's producer did not write."""
    return [key for key, latest in scan.latest.items() if latest.value_hash is None and latest.deleted_by != owner]


def _tombstone_check(facts: StreamFacts, count: int, samples: Sequence[bytes]) -> Check:
    if not count:
        return Check("tombstones", True, "every tombstone read came from the owner's producer")
    return Check(
        "tombstones",
        False,
        f"{count} tombstones were written outside the owner's producer "
        f"(e.g. {_listed(samples, facts.describe_key)}); run the backfill again to restore those keys",
        {"foreign_tombstones": count},
        [facts.describe_key(key) for key in samples],
    )


def _last_failed_checks(session: Session, name: str) -> list[str]:
    report = session.scalars(
        select(StreamCertification.report)
        .where(StreamCertification.stream == name)
        .order_by(StreamCertification.id.desc())
        .limit(1)
    ).first()
    return [check["check"] for check in report or [] if not check["passed"]]


def _stream(session: Session, name: str) -> Stream:
    row = session.get(Stream, name)
    assert row is not None
    return row


def _stream_facts(session: Session, stream: Stream) -> StreamFacts:
    configured = stream.topic_config.get("delete.retention.ms")
    return StreamFacts(
        name=stream.name,
        owner=stream.owner_identity,
        partitions=stream.partitions,
        delete_retention_ms=int(configured) if configured is not None else KAFKA_DEFAULT_DELETE_RETENTION_MS,
        schema_ids=frozenset(stream_schema_ids(session, stream)),
        describe_key=_key_describer(session, stream.key_subject),
    )


def _key_describer(session: Session, key_subject: str) -> Callable[[bytes], str]:
    """Keys shown as JSON through the stream's key schema (the key schema is frozen), else as hex."""
    text = session.scalars(
        select(SchemaText.text)
        .join(SubjectVersion, SubjectVersion.schema_id == SchemaText.id)
        .where(SubjectVersion.subject == key_subject)
        .order_by(SubjectVersion.version.desc())
        .limit(1)
    ).first()
    schema = fastavro.parse_schema(json.loads(text)) if text is not None else None

    def describe(key: bytes) -> str:
        if schema is None or len(key) < 5:
            return key.hex()
        try:
            decoded: Any = fastavro.schemaless_reader(io.BytesIO(key[5:]), schema, None)
        except Exception:  # any undecodable key is shown as bytes  # noqa: BLE001
            return key.hex()
        return json.dumps(decoded, default=str, sort_keys=True)

    return describe


def _sample(samples: list[bytes], key: bytes) -> None:
    if len(samples) < SAMPLES:
        samples.append(key)


def _listed(keys: Sequence[bytes], describe: Callable[[bytes], str]) -> str:
    return ", ".join(describe(key) for key in keys)


def _all_samples(samples: dict[str, list[bytes]], describe: Callable[[bytes], str]) -> list[str]:
    return [f"{name}: {describe(key)}" for name in ("missing", "value_differs", "stale") for key in samples[name]]
