"""Full-history publishing: backfill manifests, reconciliation, certification and repair
(`/api/v1/streams/{name}/manifests|stale-keys|certify|certifications|repair-topic-config`)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from headwater.registry.api.deps import CurrentIdentity, HubDep
from headwater.registry.api.identifiers import MAX_INT32, MAX_SCHEMA_ID
from headwater.registry.bounds import at_most
from headwater.registry.streams.certification import CertificationFailedError, CertificationOutcome, CertificationRecord
from headwater.registry.streams.manifests import ManifestFigures, ManifestPartition, ManifestRecord

router = APIRouter(tags=["certification"])
MAX_PARTITIONS_LISTED = 10_000
"""Partitions a manifest or stale-key request may list: far beyond a topic's, and a bound on the work."""

StreamName = Annotated[str, Path(description="`<domain>.<entity>`")]


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise ValueError(f"not base64 ({error})") from error


def _base64(text: str) -> str:
    _decoded(text)
    return text


EncodedEntries = Annotated[
    str,
    AfterValidator(_base64),
    Field(description="Base64 of the zlib-compressed entries (see `headwater.registry.streams.content_digest`)."),
]


class ManifestPartitionPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partition: int = Field(ge=0, le=MAX_INT32)
    start_offset: int = Field(ge=0, description="The partition's end offset when the backfill began.")
    last_offset: int = Field(ge=-1, description="The offset of the backfill's last write there; -1 if none.")


class ManifestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, description="Where the records came from, without credentials.")
    keys: int = Field(ge=0, le=MAX_INT32)
    key_digest: str = Field(pattern="^[0-9a-f]{32}$")
    entry_digest: str = Field(pattern="^[0-9a-f]{32}$")
    partitions: list[ManifestPartitionPayload] = Field(max_length=MAX_PARTITIONS_LISTED)
    schema_ids: list[Annotated[int, Field(ge=0, le=MAX_SCHEMA_ID)]] = Field(max_length=10_000)
    details: dict[str, Any] = Field(default_factory=dict)
    entries: EncodedEntries


class StaleKeysRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: EncodedEntries
    start_offsets: Annotated[dict[int, int], at_most(MAX_PARTITIONS_LISTED)] = Field(
        description="Per partition, its end offset when the backfill began."
    )


class StaleKeysPayload(BaseModel):
    keys: list[str] = Field(description="Base64 of each stale key's bytes (Confluent wire format).")


@router.post("/streams/{name}/manifests", status_code=201)
def register_manifest(name: StreamName, body: ManifestRequest, hub: HubDep, caller: CurrentIdentity) -> ManifestRecord:
    """The owner's backfill registers what it published; the hub refuses figures its entries contradict."""
    figures = ManifestFigures(
        source=body.source,
        keys=body.keys,
        key_digest=body.key_digest,
        entry_digest=body.entry_digest,
        partitions=[ManifestPartition(**partition.model_dump()) for partition in body.partitions],
        schema_ids=body.schema_ids,
        details=body.details,
        entries=_decoded(body.entries),
    )
    return hub.manifests.register(caller.requester, name, figures)


@router.get("/streams/{name}/manifests/latest")
def latest_manifest(name: StreamName, hub: HubDep, _caller: CurrentIdentity) -> ManifestRecord:
    return hub.manifests.latest(name)


@router.post("/streams/{name}/stale-keys")
def stale_keys(name: StreamName, body: StaleKeysRequest, hub: HubDep, caller: CurrentIdentity) -> StaleKeysPayload:
    """Live keys the backfill did not write and that were last written before it began: what a
    reconciling backfill tombstones."""
    keys = hub.certifier.stale_keys(caller.requester, name, _decoded(body.entries), body.start_offsets)
    return StaleKeysPayload(keys=[base64.b64encode(key).decode() for key in keys])


@router.post("/streams/{name}/certify")
def certify_stream(name: StreamName, hub: HubDep, caller: CurrentIdentity) -> CertificationOutcome:
    """Scan the topic against the newest manifest. 200 and CERTIFIED when every check passes; 422
    (42241) with the report, stored, when one fails."""
    outcome = hub.certifier.certify(caller.requester, name)
    if not outcome.passed:
        raise CertificationFailedError(outcome)
    return outcome


@router.post("/streams/{name}/repair-topic-config")
def repair_topic_config(name: StreamName, hub: HubDep, caller: CurrentIdentity) -> CertificationOutcome:
    """Hub admin only: set the registered topic configuration back, then certify again."""
    outcome = hub.certifier.repair_topic_config(caller.requester, name)
    if not outcome.passed:
        raise CertificationFailedError(outcome)
    return outcome


@router.get("/streams/{name}/certifications")
def list_certifications(name: StreamName, hub: HubDep, _caller: CurrentIdentity) -> list[CertificationRecord]:
    """Certifications and drift findings, newest first (the last 100)."""
    return hub.certifier.history(name)
