"""Stream topics: compacted, kept forever, so they hold the latest state of every key."""

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from headwater.registry.errors import RegistryError

STREAM_TOPIC_CONFIG = {"cleanup.policy": "compact", "retention.ms": "-1"}


class TopicChangeError(RegistryError):
    status_code = 502
    error_code = 50211


class TopicConfigRejectedError(RegistryError):
    """The broker refused the topic's settings: the caller's to fix, not a failure of the hub."""

    status_code = 422
    error_code = 42236


_REJECTED_SETTINGS = (KafkaError.INVALID_CONFIG, KafkaError.INVALID_PARTITIONS, KafkaError.POLICY_VIOLATION)


def create_stream_topic(admin: AdminClient, name: str, partitions: int, config: dict[str, str] | None = None) -> bool:
    """Create the compacted topic; False when it exists already."""
    topic = NewTopic(
        name, num_partitions=partitions, replication_factor=1, config={**STREAM_TOPIC_CONFIG, **(config or {})}
    )
    for future in admin.create_topics([topic], request_timeout=30).values():
        try:
            future.result()
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                return False
            if error.code() in _REJECTED_SETTINGS:
                raise TopicConfigRejectedError(
                    f"The broker refused the settings of topic {name}: {error.str()}. Fix topic_config or partitions."
                ) from exc
            raise TopicChangeError(f"The broker refused to create topic {name}: {error.str()}") from exc
    return True


def topic_exists(admin: AdminClient, name: str) -> bool:
    try:
        metadata = admin.list_topics(topic=name, timeout=30)
    except KafkaException as exc:
        raise TopicChangeError(f"The broker did not describe topic {name}: {exc.args[0].str()}") from exc
    topic = metadata.topics.get(name)
    return topic is not None and topic.error is None


def delete_topic(admin: AdminClient, name: str) -> bool:
    """Delete the topic; False when it did not exist."""
    for future in admin.delete_topics([name], request_timeout=30).values():
        try:
            future.result()
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return False
            raise TopicChangeError(f"The broker refused to delete topic {name}: {error.str()}") from exc
    return True
