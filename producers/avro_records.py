"""Encode and decode one schema version's records: an Avro body framed with the schema id.

The hot path is a writer compiled for the schema (`avro_encoder`); fastavro encodes what it defers.

Encoding is strict: a record with a field the schema does not know, or without a field that has no
default, is refused rather than silently trimmed or filled in (that would lose data unnoticed).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import fastavro
from fastavro.validation import ValidationError, validate

from headwater.policies.avro_cel_types import record_field_names
from headwater.producers.avro_encoder import compile_writer
from headwater.producers.errors import RecordRejectedError
from headwater.producers.wire_format import frame, unframe

_SHOWN_VALUE_CHARS = 60


class RecordCodec:
    def __init__(self, stream: str, role: str, schema_id: int, schema_text: str) -> None:
        self.stream, self.role, self.schema_id = stream, role, schema_id
        definition = json.loads(schema_text)
        self.definition = definition
        """The schema as JSON data."""
        self.field_names = record_field_names(definition)
        """A record schema's top-level fields; empty for other schemas (a string key, say)."""
        self._schema = fastavro.parse_schema(definition)
        header = frame(schema_id, b"")
        # The fallback holds no reference to the codec: the writer (C, not garbage-collected) must not
        # sit in a reference cycle.
        fallback = _FastavroEncoder(stream, role, self._schema, header)
        writer = compile_writer(definition, header, fallback)
        self.encode: Callable[[object], bytes] = writer.encode if writer is not None else fallback
        """The record in the wire format: the compiled writer, or fastavro for what it does not take (or
        for a schema it does not cover); RecordRejectedError when the record misfits the schema."""

    def decode(self, message: bytes) -> Any:
        """The record of a framed message written with this codec's schema."""
        _, body = unframe(message)
        return fastavro.schemaless_reader(io.BytesIO(body), self._schema, None)


class _FastavroEncoder:
    """fastavro's encoding of a record, framed; RecordRejectedError naming every field that misfits."""

    def __init__(self, stream: str, role: str, schema: Any, header: bytes) -> None:
        self._stream, self._role, self._schema, self._header = stream, role, schema, header

    def __call__(self, record: object) -> bytes:
        buffer = io.BytesIO()
        buffer.write(self._header)
        try:
            fastavro.schemaless_writer(buffer, self._schema, record, strict_allow_default=True)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as error:
            raise RecordRejectedError(self._stream, self._role, self._problems(record, error)) from None
        return buffer.getvalue()

    def _problems(self, record: object, error: Exception) -> list[str]:
        # The writer stops at the first problem and does not always name the field; the validator
        # names every field with its value, so it explains what the writer refused.
        try:
            validate(record, self._schema, raise_errors=True)
        except ValidationError as invalid:
            return [
                f"{f'field {problem.field}' if problem.field else 'the record'} = {_shown(problem.datum)} "
                f"is not {_type_name(problem.schema)}"
                for problem in invalid.errors
            ]
        return [str(error)]


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_VALUE_CHARS else f"{text[:_SHOWN_VALUE_CHARS]}..."


def _type_name(schema: object) -> str:
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "enum":
            return f"one of the symbols {schema.get('symbols')}"
        return f"a {schema.get('logicalType') or kind}" + (f" '{schema['name']}'" if "name" in schema else "")
    if isinstance(schema, list):
        return "any of " + ", ".join(_type_name(branch) for branch in schema)
    return f"a {schema}"
