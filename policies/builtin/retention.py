"""Source streams keep their full history; tombstones outlive a consumer rebuild."""

from headwater.policies.context import PolicyContext
from headwater.policies.rule import Params
from headwater.policies.violation import Finding

# Kafka's broker default for delete.retention.ms, used when the topic does not set it.
KAFKA_DEFAULT_DELETE_RETENTION_MS = 86_400_000
SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000


def _config_path(key: str) -> str:
    return f'stream.topic_config["{key}"]'


def check_source_stream_compacted_forever(context: PolicyContext, params: Params) -> list[Finding]:
    stream = context.stream
    if stream is None or not stream.is_source:
        return []
    findings = []
    cleanup_policy = stream.topic_config.get("cleanup.policy", "delete")
    if cleanup_policy != "compact":
        findings.append(
            Finding(
                _config_path("cleanup.policy"),
                f"Source stream '{stream.name}' has cleanup.policy '{cleanup_policy}', not 'compact'.",
            )
        )
    retention_ms = stream.topic_config.get("retention.ms", "604800000")
    if retention_ms != "-1":
        findings.append(
            Finding(
                _config_path("retention.ms"),
                f"Source stream '{stream.name}' has retention.ms {retention_ms}, not unlimited (-1).",
            )
        )
    return findings


def check_delete_retention_covers_rebuild_window(context: PolicyContext, params: Params) -> list[Finding]:
    stream = context.stream
    if stream is None:
        return []
    window_ms = params["rebuild_window_ms"]
    configured = stream.topic_config.get("delete.retention.ms")
    delete_retention_ms = int(configured) if configured is not None else KAFKA_DEFAULT_DELETE_RETENTION_MS
    if delete_retention_ms >= window_ms:
        return []
    source = "" if configured is not None else " (Kafka default)"
    return [
        Finding(
            _config_path("delete.retention.ms"),
            f"Stream '{stream.name}' keeps tombstones for {delete_retention_ms} ms{source}, "
            f"less than the consumer rebuild window of {window_ms} ms.",
        )
    ]
