"""SQLAlchemy 2 tables, one module per aggregate. The schema changes only through `migrations/`."""

from headwater.registry.models.base import Base
from headwater.registry.models.identity import Certificate, Identity
from headwater.registry.models.schema import RegistrySetting, SchemaText, SubjectGrant, SubjectVersion

__all__ = ["Base", "Certificate", "Identity", "RegistrySetting", "SchemaText", "SubjectGrant", "SubjectVersion"]
