"""SQLAlchemy 2 tables, one module per aggregate. The schema changes only through `migrations/`."""

from headwater.registry.models.base import Base
from headwater.registry.models.identity import Certificate, Identity

__all__ = ["Base", "Certificate", "Identity"]
