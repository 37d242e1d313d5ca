"""The Confluent Schema Registry REST API, at the root paths stock Confluent clients call.

A subject is one path segment; clients percent-encode `/` in subject names (see `encoded_slashes`)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import PlainTextResponse

from headwater.registry.api.deps import Caller, CurrentIdentity, HubDep
from headwater.registry.api.encoded_slashes import restore_slashes
from headwater.registry.api.identifiers import SchemaId
from headwater.registry.api.payloads import (
    CompatibilityCheckResponse,
    CompatibilityLevelResponse,
    CompatibilityRequest,
    CompatibilityUpdateResponse,
    ModeRequest,
    ModeResponse,
    RegisteredSchemaResponse,
    SchemaByIdResponse,
    SchemaIdResponse,
    SchemaRequest,
    SubjectVersionResponse,
)
from headwater.registry.schema_registry_errors import (
    InvalidCompatibilityLevelError,
    SchemaRegistryError,
    SubjectWriteForbiddenError,
)
from headwater.registry.services.schema_registry import RegisteredVersion, SchemaRegistry, SchemaSubmission

router = APIRouter(tags=["schema registry (Confluent API)"])


async def _registry(hub: HubDep) -> SchemaRegistry:  # async: pure, no thread-pool hop
    return hub.schema_registry


Registry = Annotated[SchemaRegistry, Depends(_registry)]


async def _subject(subject: Annotated[str, Path()]) -> str:
    return restore_slashes(subject)


Subject = Annotated[str, Depends(_subject)]
"""A subject from the path, slashes included (see `encoded_slashes`)."""
Flag = Annotated[bool, Query()]


class AssociationNotFoundError(SchemaRegistryError):
    status_code, error_code = 404, 40410


def _authorize_subject_write(registry: SchemaRegistry, caller: Caller, subject: str) -> None:
    if not caller.is_admin and not registry.may_write(subject, caller.identity):
        raise SubjectWriteForbiddenError(caller.identity, subject)


def _authorize_global_write(caller: Caller) -> None:
    if not caller.is_admin:
        raise SubjectWriteForbiddenError(caller.identity, "(global settings)")


def _submission(body: SchemaRequest) -> SchemaSubmission:
    return SchemaSubmission(
        text=body.schema_text,
        schema_type=body.schemaType,
        has_references=bool(body.references),
        schema_id=body.id,
        version=body.version,
    )


def _response(registered: RegisteredVersion) -> RegisteredSchemaResponse:
    return RegisteredSchemaResponse(
        subject=registered.subject,
        version=registered.version,
        id=registered.schema_id,
        schemaType=registered.schema_type,
        schema_text=registered.text,
        deleted=registered.deleted,
    )


@router.get("/")
def root() -> dict[str, str]:
    return {}


@router.get("/schemas/types")
def schema_types() -> list[str]:
    return ["AVRO"]


@router.get("/contexts")
def contexts() -> list[str]:
    return ["."]


@router.get("/schemas/ids/{schema_id}", response_model_by_alias=True)
def schema_by_id(schema_id: SchemaId, registry: Registry, _caller: CurrentIdentity) -> SchemaByIdResponse:
    row = registry.schema_by_id(schema_id)
    return SchemaByIdResponse(schemaType=row.schema_type, schema_text=row.text)


@router.get("/schemas/ids/{schema_id}/schema", response_class=PlainTextResponse)
def raw_schema_by_id(schema_id: SchemaId, registry: Registry, _caller: CurrentIdentity) -> str:
    return registry.schema_by_id(schema_id).text


@router.get("/schemas/ids/{schema_id}/subjects")
def subjects_of_schema(
    schema_id: SchemaId, registry: Registry, _caller: CurrentIdentity, deleted: Flag = False
) -> list[str]:
    return sorted({subject for subject, _ in registry.versions_of_schema(schema_id, deleted)})


@router.get("/schemas/ids/{schema_id}/versions")
def versions_of_schema(
    schema_id: SchemaId, registry: Registry, _caller: CurrentIdentity, deleted: Flag = False
) -> list[SubjectVersionResponse]:
    return [
        SubjectVersionResponse(subject=subject, version=version)
        for subject, version in registry.versions_of_schema(schema_id, deleted)
    ]


@router.get("/subjects")
def subjects(
    registry: Registry,
    _caller: CurrentIdentity,
    deleted: Flag = False,
    deleted_only: Flag = False,
    deletedOnly: Flag = False,  # noqa: N803 - Confluent's server spelling; the Python client sends deleted_only
    subject: str | None = None,
    subjectPrefix: str | None = None,  # noqa: N803
) -> list[str]:
    return registry.subjects(deleted, deleted_only or deletedOnly, subjectPrefix or subject)


@router.post("/subjects/{subject}/versions", response_model_exclude_none=True)
def register(
    subject: Subject, body: SchemaRequest, registry: Registry, caller: CurrentIdentity, normalize: Flag = False
) -> SchemaIdResponse:
    _authorize_subject_write(registry, caller, subject)
    registered = registry.register(subject, _submission(body), normalize, caller.requester)
    return SchemaIdResponse(id=registered.schema_id)


@router.get("/subjects/{subject}/versions/{version}/schema", response_class=PlainTextResponse)
def raw_schema_of_version(subject: Subject, version: str, registry: Registry, _caller: CurrentIdentity) -> str:
    return registry.version(subject, version, include_deleted=False).text


@router.get("/subjects/{subject}/versions/{version}/referencedby")
def referenced_by(subject: Subject, version: str, registry: Registry, _caller: CurrentIdentity) -> list[int]:
    registry.version(subject, version, include_deleted=True)
    return []  # schema references are refused at registration, so nothing can refer to a version


@router.get("/subjects/{subject}/versions/{version}", response_model_by_alias=True)
def get_version(
    subject: Subject, version: str, registry: Registry, _caller: CurrentIdentity, deleted: Flag = False
) -> RegisteredSchemaResponse:
    return _response(registry.version(subject, version, deleted))


@router.delete("/subjects/{subject}/versions/{version}")
def delete_version(
    subject: Subject, version: str, registry: Registry, caller: CurrentIdentity, permanent: Flag = False
) -> int:
    _authorize_subject_write(registry, caller, subject)
    return registry.delete_version(subject, version, permanent, caller.identity)


@router.get("/subjects/{subject}/versions")
def list_versions(
    subject: Subject,
    registry: Registry,
    _caller: CurrentIdentity,
    deleted: Flag = False,
    deleted_only: Flag = False,
    deletedOnly: Flag = False,  # noqa: N803
) -> list[int]:
    return registry.versions(subject, deleted, deleted_only or deletedOnly)


@router.post("/subjects/{subject}", response_model_by_alias=True)
def lookup(
    subject: Subject,
    body: SchemaRequest,
    registry: Registry,
    _caller: CurrentIdentity,
    normalize: Flag = False,
    deleted: Flag = False,
) -> RegisteredSchemaResponse:
    return _response(registry.lookup(subject, _submission(body), deleted))


@router.delete("/subjects/{subject}")
def delete_subject(subject: Subject, registry: Registry, caller: CurrentIdentity, permanent: Flag = False) -> list[int]:
    _authorize_subject_write(registry, caller, subject)
    return registry.delete_subject(subject, permanent, caller.identity)


@router.post("/compatibility/subjects/{subject}/versions/{version}", response_model_exclude_none=True)
def check_against_version(
    subject: Subject,
    version: str,
    body: SchemaRequest,
    registry: Registry,
    _caller: CurrentIdentity,
    verbose: Flag = False,
) -> CompatibilityCheckResponse:
    return _verdict(registry.check_against_version(subject, version, _submission(body)), verbose)


@router.post("/compatibility/subjects/{subject}/versions", response_model_exclude_none=True)
def check_against_level(
    subject: Subject, body: SchemaRequest, registry: Registry, _caller: CurrentIdentity, verbose: Flag = False
) -> CompatibilityCheckResponse:
    return _verdict(registry.check_against_level(subject, _submission(body)), verbose)


def _verdict(problems: list[str], verbose: bool) -> CompatibilityCheckResponse:
    return CompatibilityCheckResponse(is_compatible=not problems, messages=problems if verbose else None)


@router.get("/config")
def global_compatibility(registry: Registry, _caller: CurrentIdentity) -> CompatibilityLevelResponse:
    return CompatibilityLevelResponse(compatibilityLevel=registry.compatibility(None, default_to_global=True))


@router.put("/config")
def set_global_compatibility(
    body: CompatibilityRequest, registry: Registry, caller: CurrentIdentity
) -> CompatibilityUpdateResponse:
    _authorize_global_write(caller)
    return CompatibilityUpdateResponse(compatibility=registry.set_compatibility(None, _level(body), caller.identity))


@router.delete("/config")
def reset_global_compatibility(registry: Registry, caller: CurrentIdentity) -> CompatibilityLevelResponse:
    _authorize_global_write(caller)
    return CompatibilityLevelResponse(compatibilityLevel=registry.delete_compatibility(None, caller.identity))


@router.get("/config/{subject}")
def subject_compatibility(
    subject: Subject,
    registry: Registry,
    _caller: CurrentIdentity,
    defaultToGlobal: Flag = False,  # noqa: N803
) -> CompatibilityLevelResponse:
    return CompatibilityLevelResponse(compatibilityLevel=registry.compatibility(subject, defaultToGlobal))


@router.put("/config/{subject}")
def set_subject_compatibility(
    subject: Subject, body: CompatibilityRequest, registry: Registry, caller: CurrentIdentity
) -> CompatibilityUpdateResponse:
    _authorize_subject_write(registry, caller, subject)
    return CompatibilityUpdateResponse(compatibility=registry.set_compatibility(subject, _level(body), caller.identity))


@router.delete("/config/{subject}")
def delete_subject_compatibility(
    subject: Subject, registry: Registry, caller: CurrentIdentity
) -> CompatibilityLevelResponse:
    _authorize_subject_write(registry, caller, subject)
    return CompatibilityLevelResponse(compatibilityLevel=registry.delete_compatibility(subject, caller.identity))


def _level(body: CompatibilityRequest) -> str:
    level = body.compatibility or body.compatibilityLevel
    if level is None:
        raise InvalidCompatibilityLevelError('Give the level as {"compatibility": "BACKWARD"} (or another level).')
    return level


@router.get("/mode")
def global_mode(registry: Registry, _caller: CurrentIdentity) -> ModeResponse:
    return ModeResponse(mode=registry.mode(None, default_to_global=True))


@router.put("/mode")
def set_global_mode(
    body: ModeRequest, registry: Registry, caller: CurrentIdentity, force: Flag = False
) -> ModeResponse:
    _authorize_global_write(caller)
    return ModeResponse(mode=registry.set_mode(None, body.mode, force, caller.identity))


@router.get("/mode/{subject}")
def subject_mode(
    subject: Subject,
    registry: Registry,
    _caller: CurrentIdentity,
    defaultToGlobal: Flag = False,  # noqa: N803
) -> ModeResponse:
    return ModeResponse(mode=registry.mode(subject, defaultToGlobal))


@router.put("/mode/{subject}")
def set_subject_mode(
    subject: Subject, body: ModeRequest, registry: Registry, caller: CurrentIdentity, force: Flag = False
) -> ModeResponse:
    _authorize_subject_write(registry, caller, subject)
    return ModeResponse(mode=registry.set_mode(subject, body.mode, force, caller.identity))


@router.delete("/mode/{subject}")
def delete_subject_mode(subject: Subject, registry: Registry, caller: CurrentIdentity) -> ModeResponse:
    _authorize_subject_write(registry, caller, subject)
    return ModeResponse(mode=registry.delete_mode(subject, caller.identity))


@router.get("/associations/resources/{namespace}/{name}")
def associations(namespace: str, name: str, _caller: CurrentIdentity) -> list[str]:
    # Confluent clients (2.14+) ask for associations first and fall back to the `<topic>-value`
    # subject on a 404; any other answer would make serialisation fail.
    raise AssociationNotFoundError(f"No associations for resource {namespace}/{name}: subjects follow <topic>-value.")
