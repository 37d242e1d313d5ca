"""A parsed, valid Avro schema and its two textual identities."""

from dataclasses import dataclass, field

from .canonical import canonical_text_of
from .normalize import normalized_text_of
from .parse import build_tree, load_schema_json
from .types import AvroType


@dataclass(frozen=True)
class AvroSchema:
    """A valid Avro schema. Two schemas are equal when their canonical texts are.

    `canonical_text` is the submitted JSON re-serialised compactly with sorted keys: texts differing only
    in whitespace or key order share it, and nothing the author wrote is rewritten, so it serves as the
    identity of a schema for id assignment.
    `normalized_text` (Confluent's `normalize=true`) additionally rewrites equivalent spellings: primitives
    as plain strings, named types by full name without redundant namespace keys, aliases as sorted full
    names, keys in one fixed order; field order, symbol order, defaults, doc and aliases are kept.
    """

    root: AvroType = field(compare=False)
    canonical_text: str
    normalized_text: str = field(compare=False)


def parse_schema(text: str) -> AvroSchema:
    """Parse and validate Avro schema text; raises InvalidSchemaError with the path of the first problem."""
    raw = load_schema_json(text)
    root = build_tree(raw)
    return AvroSchema(root, canonical_text_of(raw), normalized_text_of(root))
