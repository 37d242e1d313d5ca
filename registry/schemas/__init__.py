"""Pure Avro schema layer: parse and validate schema text, and check compatibility. No I/O, no clock."""

from .avro import AvroSchema, parse_schema
from .compatibility import CompatibilityLevel, Incompatibility, check_compatibility, check_reader_writer
from .errors import InvalidSchemaError

__all__ = [
    "AvroSchema",
    "CompatibilityLevel",
    "Incompatibility",
    "InvalidSchemaError",
    "check_compatibility",
    "check_reader_writer",
    "parse_schema",
]
