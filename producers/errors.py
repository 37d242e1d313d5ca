"""What the producer SDK refuses, each saying what is wrong and what to do."""

from __future__ import annotations

from headwater.policies.data_contract import DataRuleViolation
from headwater.registry.errors import RegistryError


class ProducerError(RegistryError):
    """Base of the SDK's errors (a RegistryError, so the CLI prints it as one line)."""


class RecordRejectedError(ProducerError):
    """A record does not match its schema; nothing was sent."""

    def __init__(self, stream: str, role: str, problems: list[str]) -> None:
        self.stream, self.role, self.problems = stream, role, problems
        listed = "; ".join(problems)
        super().__init__(f"The {role} does not match the schema of '{stream}', so nothing was sent: {listed}")


class KeyRequiredError(ProducerError):
    def __init__(self, stream: str) -> None:
        super().__init__(
            f"Records of '{stream}' need a key: a compacted stream keeps the latest record per key, and "
            "the broker refuses keyless records. Pass the entity's key."
        )


class NotAStreamMessageError(ProducerError):
    def __init__(self, problem: str) -> None:
        super().__init__(f"Not a Confluent wire-format message ({problem}): expected magic byte 0 and a schema id.")


class StreamNotWritableError(ProducerError):
    def __init__(self, stream: str, state: str) -> None:
        super().__init__(f"'{stream}' is {state}: it takes no new records. Ask its owner which stream replaced it.")


class StreamRulesUnusableError(ProducerError):
    def __init__(self, stream: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"The data rules of '{stream}' do not fit its latest value schema ({'; '.join(problems)}), so no "
            f"record could be checked. The stream's owner replaces them: PUT /api/v1/streams/{stream}/data-rules."
        )


class IdentityFilesDifferError(ProducerError):
    def __init__(self, hub_certificate: object, kafka_certificate: object) -> None:
        super().__init__(
            f"The hub connection uses {hub_certificate} but the Kafka connection {kafka_certificate}: "
            "give both the same identity's files, which the producer renews in place before they expire."
        )


class DeliveryFailedError(ProducerError):
    """Records the broker did not acknowledge; none is reported as sent."""

    def __init__(self, stream: str, failed: int, first_error: str) -> None:
        self.failed = failed
        super().__init__(
            f"{failed} record(s) of '{stream}' were not delivered (first error: {first_error}); "
            "send them again: under compaction a resent record is harmless."
        )


class FlushTimeoutError(ProducerError):
    def __init__(self, stream: str, pending: int, timeout_s: float) -> None:
        self.pending = pending
        super().__init__(
            f"{pending} record(s) of '{stream}' were still unacknowledged after {timeout_s:g} s; "
            "check that the broker is reachable, then flush again."
        )


class SourceError(ProducerError):
    """The backfill source cannot be read (or holds what the stream cannot take); the message says where."""


class CheckpointMismatchError(ProducerError):
    def __init__(self, folder: object, recorded: str, given: str) -> None:
        super().__init__(
            f"{folder} holds an unfinished backfill of {recorded}, not of {given}. Finish that one (run it "
            "again with the same source), or start over with --restart, which discards its progress."
        )


class DuplicateKeyError(ProducerError):
    def __init__(self, stream: str, key: object, position: object) -> None:
        super().__init__(
            f"The source gives key {key!r} of '{stream}' twice (again at {position!r}): a stream keeps one "
            "latest state per key. Map the key to unique columns (the primary key), or fix the source."
        )


class DataRuleViolationError(ProducerError):
    """A value breaks the stream's data-contract rules; nothing was sent."""

    def __init__(self, stream: str, violations: list[DataRuleViolation]) -> None:
        self.violations = violations
        listed = "; ".join(str(violation) for violation in violations)
        super().__init__(
            f"The record breaks the data rules of '{stream}', so nothing was sent: {listed}. Fix the record, "
            "or open the producer with a dead-letter stream to set such records aside."
        )
