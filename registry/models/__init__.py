"""SQLAlchemy 2 tables, one module per aggregate. The schema changes only through `migrations/`."""

from headwater.registry.models.audit import AuditEntry
from headwater.registry.models.base import Base
from headwater.registry.models.catalog import AccessGrant, Domain, Job, JobStream, Stream, StreamField, StreamTag
from headwater.registry.models.certification import StreamCertification, StreamManifest
from headwater.registry.models.identity import Certificate, Identity
from headwater.registry.models.policy import PolicyWaiver
from headwater.registry.models.schema import (
    RegistryCounter,
    RegistrySetting,
    SchemaText,
    SubjectGrant,
    SubjectVersion,
)

__all__ = [
    "AccessGrant",
    "AuditEntry",
    "Base",
    "Certificate",
    "Domain",
    "Identity",
    "Job",
    "JobStream",
    "PolicyWaiver",
    "RegistryCounter",
    "RegistrySetting",
    "SchemaText",
    "Stream",
    "StreamCertification",
    "StreamField",
    "StreamManifest",
    "StreamTag",
    "SubjectGrant",
    "SubjectVersion",
]
