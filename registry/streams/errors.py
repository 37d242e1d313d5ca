"""Errors of the catalog's streams and domains, each with a stable code and the fix in its message.

RegistryError
├── InvalidStreamNameError          422 42230
├── StreamSubjectsInUseError        409 40932  `<stream>-key`/`-value` already hold versions
├── StreamTopicExistsError          409 40933  a topic of that name exists outside the catalog
├── StreamAlreadyExistsError        409 40930
├── DomainAlreadyExistsError        409 40931
├── DomainNotFoundError             404 40430
├── StreamNotFoundError             404 40431
├── StreamWriteForbiddenError       403 40330  neither the domain's identity, the stream owner nor the admin
├── OwnerOutsideDomainError         422 42232
├── KeySchemaFrozenError            422 42231  a new key schema on a registered stream
├── StreamSubjectDeleteError        422 42233  a stream's subject deleted on its own
├── InvalidQueryError               422 42234  a catalog search parameter or cursor
├── AccessGrantNotFoundError        404 40432
├── AccessGrantStateError           409 40934  e.g. approving a denied grant
├── AccessAlreadyOpenError          409 40935  a second request while one is open
├── StreamNotActiveError            409 40936  e.g. access to a deleted stream, deleting before the sunset
├── InvalidDataRulesError           422 42236  a data-contract rule that does not compile or reads unknown fields
├── SchemaBreaksDataRulesError      422 42242  a new value schema version the stream's data rules cannot read
├── SunsetError                     422 42235  (lifecycle.py) a sunset in the past, without timezone, no message
├── ManifestInvalidError            422 42240  entries that do not add up to the manifest's own figures
├── CertificationFailedError        422 42241  (certification.py) a check failed; the report is in the body
├── ManifestNotFoundError           404 40433  certification before any backfill registered a manifest
├── TopicScanFailedError            502 50231  the broker stopped answering while the hub read the topic
└── RegistrationStepFailedError     502 50230  a step failed; what ran before was undone
"""

from __future__ import annotations

from collections.abc import Sequence

from headwater.registry.errors import RegistryError


class InvalidStreamNameError(RegistryError):
    status_code, error_code = 422, 42230

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(
            f"Stream name {name!r} is invalid: {problem}. Use <domain>.<entity>, lowercase letters, digits "
            "and '-', e.g. payments.order."
        )


class StreamAlreadyExistsError(RegistryError):
    status_code, error_code = 409, 40930

    def __init__(self, name: str, state: str) -> None:
        super().__init__(
            f"Stream '{name}' already exists ({state}). Pick another entity name, or change the existing stream."
        )


class DomainAlreadyExistsError(RegistryError):
    status_code, error_code = 409, 40931

    def __init__(self, name: str) -> None:
        super().__init__(f"Domain '{name}' already exists. List domains with `headwater domains list`.")


class StreamSubjectsInUseError(RegistryError):
    status_code, error_code = 409, 40932

    def __init__(self, name: str, subjects: Sequence[str]) -> None:
        super().__init__(
            f"Subjects {', '.join(subjects)} already hold schema versions outside the catalog, so stream '{name}' "
            "cannot own them. Delete them (soft, then permanent) or pick another stream name."
        )


class StreamTopicExistsError(RegistryError):
    status_code, error_code = 409, 40933

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Topic '{name}' already exists on the broker but not in the catalog. Delete it, or pick another "
            "stream name: the catalog registers only topics it creates."
        )


class DomainNotFoundError(RegistryError):
    status_code, error_code = 404, 40430

    def __init__(self, name: str) -> None:
        super().__init__(f"Domain '{name}' does not exist. The hub admin creates it with `headwater domains create`.")


class StreamNotFoundError(RegistryError):
    status_code, error_code = 404, 40431

    def __init__(self, name: str) -> None:
        super().__init__(f"Stream '{name}' does not exist. Search the catalog with GET /api/v1/streams?q=...")


class StreamWriteForbiddenError(RegistryError):
    status_code, error_code = 403, 40330

    def __init__(self, identity: str, what: str) -> None:
        super().__init__(f"Identity '{identity}' may not {what}. Ask the domain's owners or the hub admin.")


class OwnerOutsideDomainError(RegistryError):
    status_code, error_code = 422, 42232

    def __init__(self, owner: str, owner_domain: str, domain: str) -> None:
        super().__init__(
            f"Owner identity '{owner}' belongs to domain '{owner_domain}', not '{domain}'. "
            "Name an identity of the stream's domain as owner."
        )


class RegistrationStepFailedError(RegistryError):
    status_code, error_code = 502, 50230

    def __init__(self, name: str, step: str, reason: str, undone: Sequence[str] | None) -> None:
        """`undone` is None when undoing failed too (the reconciler then finishes it)."""
        self.step = step
        if undone is None:
            outcome = (
                "Undoing it failed as well; the hub's reconciler removes what is left once the registration's "
                "lease runs out (HEADWATER_REGISTRATION_LEASE_S), then the registration can be retried."
            )
        else:
            undone_text = ", ".join(undone) if undone else "nothing had been done yet"
            outcome = f"Undone: {undone_text}; nothing is left behind, so the registration can simply be retried."
        super().__init__(f"Registering stream '{name}' failed at step '{step}': {reason}. {outcome}")


class KeySchemaFrozenError(RegistryError):
    status_code, error_code = 422, 42231

    def __init__(self, stream: str) -> None:
        super().__init__(
            f"The key schema of stream '{stream}' is frozen: a new key schema would change key bytes, move keys "
            "between partitions and break compaction. Register a new stream for a new key."
        )


class StreamSubjectDeleteError(RegistryError):
    status_code, error_code = 422, 42233

    def __init__(self, subject: str, stream: str) -> None:
        super().__init__(
            f"Subject '{subject}' belongs to stream '{stream}', whose records carry its schema ids; it is deleted "
            "with the stream (deprecate, then delete it through the catalog), not on its own."
        )


class InvalidQueryError(RegistryError):
    status_code, error_code = 422, 42234

    def __init__(self, problem: str) -> None:
        super().__init__(f"Invalid catalog query: {problem}.")


class AccessGrantNotFoundError(RegistryError):
    status_code, error_code = 404, 40432

    def __init__(self, grant_id: int) -> None:
        super().__init__(f"No access grant with id {grant_id}. List grants with `headwater access list`.")


class AccessGrantStateError(RegistryError):
    status_code, error_code = 409, 40934

    def __init__(self, grant_id: int, state: str, action: str, allowed_from: str) -> None:
        super().__init__(f"Access grant {grant_id} is {state}; only {allowed_from} grants can be {action}.")


class AccessAlreadyOpenError(RegistryError):
    status_code, error_code = 409, 40935

    def __init__(self, identity: str, stream: str, grant_id: int, state: str) -> None:
        super().__init__(
            f"Identity '{identity}' already has access grant {grant_id} ({state}) on stream '{stream}'; "
            "wait for its decision or have it revoked first."
        )


class StreamNotActiveError(RegistryError):
    status_code, error_code = 409, 40936

    def __init__(self, stream: str, state: str, action: str) -> None:
        super().__init__(f"Stream '{stream}' is {state}: {action} is not possible in that state.")


class ManifestInvalidError(RegistryError):
    status_code, error_code = 422, 42240

    def __init__(self, stream: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"The manifest for '{stream}' was not registered: {'; '.join(problems)}. A manifest must describe "
            "exactly what the backfill wrote; run `headwater backfill` again (it resumes) to produce one."
        )


class ManifestNotFoundError(RegistryError):
    status_code, error_code = 404, 40433

    def __init__(self, stream: str) -> None:
        super().__init__(
            f"Stream '{stream}' has no manifest yet: certification compares the topic with what a backfill "
            f"published. Run `headwater backfill {stream} --from ...` first."
        )


class TopicScanFailedError(RegistryError):
    status_code, error_code = 502, 50231

    def __init__(self, stream: str, problem: str) -> None:
        super().__init__(f"The hub could not read the topic of '{stream}' ({problem}); nothing was recorded. Retry.")


class _DataRuleProblemsError(RegistryError):
    """Data rules that cannot be used, every problem listed in the body's `problems` too."""

    def __init__(self, message: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(message)

    def body_extras(self) -> dict[str, object]:
        return {"problems": self.problems}


class SchemaBreaksDataRulesError(_DataRuleProblemsError):
    status_code, error_code = 422, 42242

    def __init__(self, stream: str, problems: Sequence[str]) -> None:
        super().__init__(
            f"This value schema breaks the data rules of '{stream}': {'; '.join(problems)}. Keep what the "
            f"rules read, or change the rules first (PUT /api/v1/streams/{stream}/data-rules).",
            problems,
        )


class InvalidDataRulesError(_DataRuleProblemsError):
    status_code, error_code = 422, 42236

    def __init__(self, stream: str, problems: Sequence[str]) -> None:
        super().__init__(
            f"The data rules of '{stream}' cannot be used: {'; '.join(problems)}. A rule is a CEL condition "
            "over `record` (the value's fields), e.g. record.amount_minor >= 0.",
            problems,
        )
