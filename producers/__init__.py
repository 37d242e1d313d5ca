"""The producer SDK: publish a catalog stream's records as its owner (`StreamProducer`), and backfill a
stream's full history from a database, a JSON Lines file or any iterable (`Backfill`).

    from headwater.producers import HubConnection, MtlsConnection, StreamProducer
"""

from headwater.producers.backfill import Backfill, BackfillProgress, BackfillReport
from headwater.producers.backfill_sources import (
    BackfillSource,
    FieldMapping,
    IterableSource,
    JsonLinesSource,
    SourceRecord,
    SqlSource,
)
from headwater.producers.connection import HubConnection, MtlsConnection
from headwater.producers.errors import (
    CheckpointMismatchError,
    DataRuleViolationError,
    DeliveryFailedError,
    DuplicateKeyError,
    FlushTimeoutError,
    IdentityFilesDifferError,
    KeyRequiredError,
    NotAStreamMessageError,
    ProducerError,
    RecordRejectedError,
    SourceError,
    StreamNotWritableError,
    StreamRulesUnusableError,
)
from headwater.producers.hub import HubRefusedError, HubUnreachableError
from headwater.producers.stream_producer import ProducerTuning, StreamProducer

__all__ = [
    "Backfill",
    "BackfillProgress",
    "BackfillReport",
    "BackfillSource",
    "CheckpointMismatchError",
    "DataRuleViolationError",
    "DeliveryFailedError",
    "DuplicateKeyError",
    "FieldMapping",
    "FlushTimeoutError",
    "HubConnection",
    "HubRefusedError",
    "HubUnreachableError",
    "IdentityFilesDifferError",
    "IterableSource",
    "JsonLinesSource",
    "KeyRequiredError",
    "MtlsConnection",
    "NotAStreamMessageError",
    "ProducerError",
    "ProducerTuning",
    "RecordRejectedError",
    "SourceError",
    "SourceRecord",
    "SqlSource",
    "StreamNotWritableError",
    "StreamProducer",
    "StreamRulesUnusableError",
]
