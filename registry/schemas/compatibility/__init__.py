"""Avro reader/writer compatibility and the registry's compatibility levels."""

from .incompatibility import Incompatibility
from .levels import CompatibilityLevel, check_compatibility
from .reader_writer import check_reader_writer

__all__ = ["CompatibilityLevel", "Incompatibility", "check_compatibility", "check_reader_writer"]
