"""Read a stream definition from a YAML spec file (`headwater policy check`, `headwater streams register`).

    name: payments.order
    description: Orders accepted by checkout, latest state per order id.
    owner_team: payments-core
    contact: payments-core@example.com
    partitions: 12
    tags: [finance]
    key_schema: {type: record, name: OrderKey, fields: [{name: order_id, type: string, doc: Order id.}]}
    value_schema_file: order-value.avsc     # a path relative to the spec file, instead of an inline schema

Each schema is given inline (YAML or a JSON string) as `key_schema`/`value_schema`, or as a file with
`key_schema_file`/`value_schema_file`. Other keys are those of `StreamDefinition`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from headwater.registry.errors import RegistryError
from headwater.registry.streams.definition import StreamDefinition

_SCHEMA_KEYS = ("key_schema", "value_schema")


class SpecFileError(RegistryError):
    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


def load_stream_definition(path: Path) -> StreamDefinition:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecFileError(path, f"cannot read it ({exc})") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
        raise SpecFileError(path, f"line {line}: invalid YAML: {exc.problem}") from exc
    if not isinstance(document, dict):
        raise SpecFileError(path, "a stream spec is a YAML mapping of keys such as name, partitions, key_schema")
    for key in _SCHEMA_KEYS:
        document = _resolve_schema(path, document, key)
    try:
        return StreamDefinition.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}" for error in exc.errors()
        )
        raise SpecFileError(path, f"invalid stream spec: {problems}") from exc


def _resolve_schema(path: Path, document: dict[str, Any], key: str) -> dict[str, Any]:
    """Turn `<key>_file` or an inline YAML schema into the JSON text `StreamDefinition` expects."""
    file_key = f"{key}_file"
    resolved = {name: value for name, value in document.items() if name != file_key}
    if file_key in document:
        if key in document:
            raise SpecFileError(path, f"give either '{key}' or '{file_key}', not both")
        schema_file = path.parent / str(document[file_key])
        try:
            resolved[key] = schema_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecFileError(path, f"{file_key}: cannot read {schema_file} ({exc})") from exc
    elif isinstance(document.get(key), dict | list):
        resolved[key] = json.dumps(document[key])
    return resolved
