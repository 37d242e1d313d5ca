"""The parser's own limits (JSON nesting, type nesting, lone surrogates): what lies beyond them is
refused with an error naming the limit, not a RecursionError; what lies within them parses and checks."""

import json

import pytest

from headwater.registry.schemas import CompatibilityLevel, InvalidSchemaError, check_compatibility, parse_schema
from headwater.registry.schemas.errors import JsonTooDeepError, SchemaJsonTooDeepError, SchemaNestingTooDeepError
from headwater.registry.schemas.json_text import MAX_JSON_DEPTH, decode_json, first_string_problem, refused_character_in
from headwater.registry.schemas.parse import MAX_AVRO_NESTING, nesting_of


def nested_records(depth: int) -> str:
    """A record whose only field is a record, `depth` records deep."""
    schema: dict[str, object] = {"type": "record", "name": f"R{depth}", "fields": []}
    for level in range(depth - 1, 0, -1):
        schema = {"type": "record", "name": f"R{level}", "fields": [{"name": "inner", "type": schema}]}
    return json.dumps(schema)


def referenced_records(depth: int) -> str:
    """Records each holding the one defined before it, all defined as fields of the root: shallow JSON,
    a type tree `depth` + 2 levels deep (the root, the records, the innermost int)."""
    fields: list[dict[str, object]] = [
        {"name": "f1", "type": {"type": "record", "name": "C1", "fields": [{"name": "x", "type": "int"}]}}
    ]
    for level in range(2, depth + 1):
        record = {"type": "record", "name": f"C{level}", "fields": [{"name": "x", "type": f"C{level - 1}"}]}
        fields.append({"name": f"f{level}", "type": record})
    return json.dumps({"type": "record", "name": "Root", "fields": fields})


def test_records_nested_200_deep_are_refused_naming_the_json_limit() -> None:
    # 200 records are 600 JSON levels: beyond the JSON limit before the type limit.
    with pytest.raises(SchemaJsonTooDeepError, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        parse_schema(nested_records(200))


def test_records_nested_beyond_the_type_limit_are_refused_with_the_path() -> None:
    with pytest.raises(SchemaNestingTooDeepError, match=f"deeper than {MAX_AVRO_NESTING} levels") as refused:
        parse_schema(nested_records(MAX_AVRO_NESTING + 1))
    assert refused.value.path is not None and refused.value.path.startswith("/fields/inner/type/fields/inner")


def test_references_count_the_levels_of_the_type_they_name() -> None:
    assert nesting_of(parse_schema(referenced_records(MAX_AVRO_NESTING - 2)).root) == MAX_AVRO_NESTING
    with pytest.raises(SchemaNestingTooDeepError):
        parse_schema(referenced_records(MAX_AVRO_NESTING - 1))
    with pytest.raises(SchemaNestingTooDeepError):
        parse_schema(referenced_records(200))


def test_a_recursive_record_counts_its_levels_once() -> None:
    linked = {"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]}
    assert nesting_of(parse_schema(json.dumps(linked)).root) == 3  # record, union, null (or Node again)


def test_schemas_at_the_limits_parse_and_check_against_themselves() -> None:
    for text in (nested_records(MAX_AVRO_NESTING), referenced_records(MAX_AVRO_NESTING - 2)):
        schema = parse_schema(text)
        assert check_compatibility(CompatibilityLevel.FULL_TRANSITIVE, schema, [schema]) == []
        assert (
            parse_schema(schema.normalized_text).canonical_text == parse_schema(schema.normalized_text).canonical_text
        )


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 2_500, 100_000])
def test_schema_text_nested_beyond_the_json_limit_is_refused(depth: int) -> None:
    with pytest.raises(SchemaJsonTooDeepError):
        parse_schema("[" * depth + '"int"' + "]" * depth)


def test_a_lone_surrogate_anywhere_in_the_schema_is_refused_escaped() -> None:
    symbol = '{"type": "enum", "name": "E", "symbols": ["\\ud800"]}'
    with pytest.raises(InvalidSchemaError, match=r"/symbols/0: a string holds the lone surrogate \\ud800") as refused:
        parse_schema(symbol)
    str(refused.value).encode()  # the message itself is valid UTF-8
    key = '{"type": "record", "name": "R", "fields": [], "x\\udfff": 1}'
    with pytest.raises(InvalidSchemaError, match="lone surrogate"):
        parse_schema(key)
    pair = '{"type": "record", "name": "R", "doc": "\\ud83d\\ude00", "fields": []}'
    assert "\U0001f600" in parse_schema(pair).canonical_text


def test_json_depth_is_measured_exactly_and_without_recursion() -> None:
    assert decode_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(JsonTooDeepError):
        decode_json("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    with pytest.raises(JsonTooDeepError):
        decode_json(b'{"a": ' * 5_000 + b"0" + b"}" * 5_000)
    # Brackets inside strings are text.
    assert decode_json(json.dumps(["[" * 1_000, {"a": None}])) == ["[" * 1_000, {"a": None}]


def test_the_first_refused_string_is_found_with_its_path() -> None:
    document = {"a": [1, {"b": "fine\tline\n", "c": "bell\x07"}], "d": "\x00"}
    assert first_string_problem(document, refused_character_in) == ("/a/1/c", "a control character \\x07")
    assert first_string_problem({"k\ud800": 1}, refused_character_in) == ("/k\ud800", "a lone surrogate \\ud800")
    assert first_string_problem("\x00", refused_character_in) == ("/", "a NUL character (U+0000)")
    assert first_string_problem({"a": ["b", None, 2.5, True]}, refused_character_in) is None
