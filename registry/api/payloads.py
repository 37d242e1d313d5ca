"""Request and response bodies of the Confluent-compatible schema-registry API (field names are
Confluent's, camelCase included, because stock clients send and read exactly these)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from headwater.registry.api.identifiers import MAX_SCHEMA_ID
from headwater.registry.bounds import at_most
from headwater.registry.services.subjects import MAX_VERSION


class SchemaReference(BaseModel):
    name: str
    subject: str
    version: int


class SchemaMetadata(BaseModel):
    """Data-contract metadata; accepted so Confluent clients can send it (not stored yet)."""

    tags: Annotated[dict[str, Annotated[list[str], Field(max_length=100)]], at_most(100)] | None = None
    properties: Annotated[dict[str, str], at_most(1000)] | None = None
    sensitive: list[str] | None = Field(default=None, max_length=1000)


class SchemaRule(BaseModel):
    name: str
    kind: str | None = None
    mode: str | None = None
    type: str | None = None
    expr: str | None = None
    doc: str | None = None
    tags: list[str] | None = Field(default=None, max_length=100)
    params: Annotated[dict[str, str], at_most(100)] | None = None
    onSuccess: str | None = None  # noqa: N815 - Confluent's field name
    onFailure: str | None = None  # noqa: N815
    disabled: bool | None = None


class SchemaRuleSet(BaseModel):
    migrationRules: list[SchemaRule] | None = Field(default=None, max_length=100)  # noqa: N815
    domainRules: list[SchemaRule] | None = Field(default=None, max_length=100)  # noqa: N815
    encodingRules: list[SchemaRule] | None = Field(default=None, max_length=100)  # noqa: N815


class SchemaRequest(BaseModel):
    """What a client sends to register, look up or check a schema."""

    model_config = ConfigDict(extra="ignore")

    schema_text: str = Field(alias="schema", description="The schema as a JSON string (not a nested object).")
    schemaType: str = "AVRO"  # noqa: N815
    references: list[SchemaReference] = Field(default_factory=list, max_length=100)
    metadata: SchemaMetadata | None = None
    ruleSet: SchemaRuleSet | None = None  # noqa: N815
    id: int | None = Field(default=None, ge=1, le=MAX_SCHEMA_ID, description="IMPORT mode only: keep this schema id.")
    version: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="IMPORT mode only: keep this version number."
    )


class SchemaIdResponse(BaseModel):
    id: int


class RegisteredSchemaResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    subject: str
    version: int
    id: int
    schemaType: str  # noqa: N815
    schema_text: str = Field(serialization_alias="schema")
    deleted: bool = False


class SchemaByIdResponse(BaseModel):
    schemaType: str  # noqa: N815
    schema_text: str = Field(serialization_alias="schema")


class SubjectVersionResponse(BaseModel):
    subject: str
    version: int


class CompatibilityRequest(BaseModel):
    compatibility: str | None = None
    compatibilityLevel: str | None = None  # noqa: N815 - Confluent's set_config sends this spelling


class CompatibilityUpdateResponse(BaseModel):
    compatibility: str


class CompatibilityLevelResponse(BaseModel):
    compatibilityLevel: str  # noqa: N815


class ModeRequest(BaseModel):
    mode: str


class ModeResponse(BaseModel):
    mode: str


class CompatibilityCheckResponse(BaseModel):
    is_compatible: bool
    messages: list[str] | None = None
