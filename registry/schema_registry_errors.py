"""Schema-registry errors, with the HTTP status and error code Confluent's registry uses for each,
so stock Confluent clients react to headwater exactly as to Confluent.

RegistryError
└── SchemaRegistryError
    ├── SubjectNotFoundError            404 40401
    ├── VersionNotFoundError            404 40402
    ├── SchemaNotFoundError             404 40403
    ├── SubjectSoftDeletedError         404 40404
    ├── SubjectNotSoftDeletedError      404 40405
    ├── VersionSoftDeletedError         404 40406
    ├── VersionNotSoftDeletedError      404 40407
    ├── SubjectCompatibilityNotConfiguredError 404 40408
    ├── SubjectModeNotConfiguredError   404 40409
    ├── IncompatibleSchemaVersionError  409 40901
    ├── InvalidSchemaVersionError       422 42201 (unparseable or invalid schema, references, type)
    ├── InvalidVersionError             422 42202
    ├── InvalidCompatibilityLevelError  422 42203
    ├── InvalidModeError                422 42204
    ├── OperationNotPermittedError      422 42205 (READONLY mode, IMPORT without ids)
    ├── SchemaIdConflictError           422 42207 (IMPORT: id holds another schema)
    ├── InvalidSubjectError             422 42208
    ├── TypeNestingTooDeepError         422 42251 (headwater's own: types nested beyond the parser's limit)
    └── SubjectWriteForbiddenError      403 40301 (caller neither admin nor granted the subject)
"""

from collections.abc import Sequence

from headwater.registry.errors import RegistryError


class SchemaRegistryError(RegistryError):
    pass


class SubjectNotFoundError(SchemaRegistryError):
    status_code, error_code = 404, 40401

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' not found. List subjects with GET /subjects.")


class VersionNotFoundError(SchemaRegistryError):
    status_code, error_code = 404, 40402

    def __init__(self, subject: str, version: int | str) -> None:
        super().__init__(f"Version {version} not found. List the versions with GET /subjects/{subject}/versions.")


class SchemaNotFoundError(SchemaRegistryError):
    status_code, error_code = 404, 40403

    def __init__(self, detail: str) -> None:
        super().__init__(detail)


class SubjectSoftDeletedError(SchemaRegistryError):
    status_code, error_code = 404, 40404

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently")


class SubjectNotSoftDeletedError(SchemaRegistryError):
    status_code, error_code = 404, 40405

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject '{subject}' was not deleted first before being permanently deleted. "
            f"Soft-delete it first with DELETE /subjects/{subject}."
        )


class VersionSoftDeletedError(SchemaRegistryError):
    status_code, error_code = 404, 40406

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently"
        )


class VersionNotSoftDeletedError(SchemaRegistryError):
    status_code, error_code = 404, 40407

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' Version {version} was not deleted first before being permanently deleted. "
            "Soft-delete it first (without permanent=true)."
        )


class SubjectCompatibilityNotConfiguredError(SchemaRegistryError):
    status_code, error_code = 404, 40408

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject '{subject}' does not have subject-level compatibility configured. "
            "Add defaultToGlobal=true to get the global level."
        )


class SubjectModeNotConfiguredError(SchemaRegistryError):
    status_code, error_code = 404, 40409

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' does not have subject-level mode configured.")


class IncompatibleSchemaVersionError(SchemaRegistryError):
    status_code, error_code = 409, 40901

    def __init__(self, subject: str, level: str, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__(
            f'Schema being registered is incompatible with an earlier schema for subject "{subject}" '
            f"(compatibility {level}), details: [{'; '.join(self.messages)}]"
        )


class InvalidSchemaVersionError(SchemaRegistryError):
    status_code, error_code = 422, 42201


class InvalidVersionError(SchemaRegistryError):
    status_code, error_code = 422, 42202

    def __init__(self, version: str) -> None:
        shown = version if len(version) <= 40 else f"{version[:40]}..."
        super().__init__(
            f"The specified version '{shown}' is not a valid version id. "
            'Allowed values are between [1, 2^31-1], in ASCII digits without leading zeros, and the string "latest"'
        )


class InvalidCompatibilityLevelError(SchemaRegistryError):
    status_code, error_code = 422, 42203


class InvalidModeError(SchemaRegistryError):
    status_code, error_code = 422, 42204

    def __init__(self, mode: str) -> None:
        super().__init__(f"Invalid mode '{mode}'. Valid values are READWRITE, READONLY and IMPORT.")


class OperationNotPermittedError(SchemaRegistryError):
    status_code, error_code = 422, 42205


class SchemaIdConflictError(SchemaRegistryError):
    status_code, error_code = 422, 42207


class InvalidSubjectError(SchemaRegistryError):
    status_code, error_code = 422, 42208

    def __init__(self, subject: str, rule: str) -> None:
        super().__init__(f"The specified subject '{subject}' is not valid: {rule}.")


class TypeNestingTooDeepError(SchemaRegistryError):
    status_code, error_code = 422, 42251

    def __init__(self, limit: int, path: str) -> None:
        super().__init__(
            f"Invalid AVRO schema: at {path} its types nest deeper than {limit} levels, the hub's limit "
            "(records, arrays, maps and unions count a level each; a named type counts its own levels where it "
            "is used). Flatten the schema, e.g. by moving inner records up into fields of their own."
        )


class SubjectWriteForbiddenError(SchemaRegistryError):
    status_code, error_code = 403, 40301

    def __init__(self, identity: str, subject: str) -> None:
        super().__init__(
            f"Identity '{identity}' may not write subject '{subject}': only the hub admin or an identity "
            "granted the subject may. Ask the subject's owner or the hub admin."
        )
