"""Parsing Avro schema text: the typed tree, validation errors, namespaces, canonical and normalised text."""

import json
from typing import Any

import pytest

from headwater.registry.schemas import AvroSchema, InvalidSchemaError, parse_schema
from headwater.registry.schemas.types import (
    Array,
    DecimalLogicalType,
    Enum,
    FieldOrder,
    Fixed,
    LogicalType,
    Map,
    Primitive,
    PrimitiveKind,
    Record,
    Union,
)


def record_text(*fields: dict[str, Any], **attributes: Any) -> str:
    return json.dumps({"type": "record", "name": "Payment", "fields": list(fields), **attributes})


def parse_record(text: str) -> Record:
    root = parse_schema(text).root
    assert isinstance(root, Record)
    return root


# -- good input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PrimitiveKind))
def test_every_primitive_parses_as_a_name_and_as_an_object(kind: PrimitiveKind) -> None:
    assert parse_schema(json.dumps(kind.value)).root == Primitive(kind)
    assert parse_schema(json.dumps({"type": kind.value})).root == Primitive(kind)


def test_a_record_parses_into_typed_fields() -> None:
    record = parse_record(
        record_text(
            {"name": "id", "type": "long", "doc": "the key", "aliases": ["key"]},
            {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
            {"name": "totals", "type": {"type": "map", "values": "double"}, "order": "descending"},
            {"name": "note", "type": ["null", "string"], "default": None},
            doc="A payment",
            aliases=["Transfer"],
        )
    )

    assert (record.full_name, record.doc, record.aliases) == ("Payment", "A payment", ("Transfer",))
    identifier, tags, totals, note = record.fields
    assert (identifier.name, identifier.type, identifier.doc, identifier.aliases) == (
        "id",
        Primitive(PrimitiveKind.LONG),
        "the key",
        ("key",),
    )
    assert identifier.default is None
    assert tags.type == Array(Primitive(PrimitiveKind.STRING))
    assert tags.default is not None and tags.default.value == []
    assert (totals.type, totals.order) == (Map(Primitive(PrimitiveKind.DOUBLE)), FieldOrder.DESCENDING)
    assert note.type == Union((Primitive(PrimitiveKind.NULL), Primitive(PrimitiveKind.STRING)))
    assert note.default is not None and note.default.value is None


def test_an_enum_and_a_fixed_parse_with_their_attributes() -> None:
    enum = parse_schema('{"type": "enum", "name": "Suit", "symbols": ["HEARTS", "SPADES"], "default": "HEARTS"}').root
    fixed = parse_schema('{"type": "fixed", "name": "Hash", "size": 16}').root

    assert enum == Enum("Suit", ("HEARTS", "SPADES"), default="HEARTS")
    assert fixed == Fixed("Hash", 16)


@pytest.mark.parametrize(
    ("type_json", "logical_type", "properties"),
    [
        ({"type": "int", "logicalType": "date"}, LogicalType("date"), ()),
        ({"type": "long", "logicalType": "timestamp-millis"}, LogicalType("timestamp-millis"), ()),
        ({"type": "string", "logicalType": "uuid"}, LogicalType("uuid"), ()),
        (
            {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
            DecimalLogicalType(precision=9, scale=2),
            (),
        ),
        ({"type": "bytes", "logicalType": "decimal", "precision": 9}, DecimalLogicalType(precision=9, scale=0), ()),
        # Invalid logical types are ignored, as the specification says; their attributes stay as properties.
        ({"type": "string", "logicalType": "date"}, None, (("logicalType", "date"),)),
        ({"type": "bytes", "logicalType": "decimal"}, None, (("logicalType", "decimal"),)),
        (
            {"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 3},
            None,
            (("logicalType", "decimal"), ("precision", 2), ("scale", 3)),
        ),
        ({"type": "long", "logicalType": "money"}, None, (("logicalType", "money"),)),
        ({"type": "string", "connect.name": "x"}, None, (("connect.name", "x"),)),
    ],
)
def test_logical_types_are_kept_when_valid_and_ignored_when_not(
    type_json: dict[str, Any], logical_type: object, properties: tuple[tuple[str, Any], ...]
) -> None:
    root = parse_schema(json.dumps(type_json)).root

    assert isinstance(root, Primitive)
    assert (root.logical_type, root.properties) == (logical_type, properties)


@pytest.mark.parametrize(("size", "precision", "valid"), [(4, 9, True), (4, 10, False), (16, 38, True), (0, 1, False)])
def test_a_decimal_on_fixed_is_valid_only_within_the_digits_its_size_holds(
    size: int, precision: int, valid: bool
) -> None:
    text = json.dumps({"type": "fixed", "name": "D", "size": size, "logicalType": "decimal", "precision": precision})
    root = parse_schema(text).root

    assert isinstance(root, Fixed)
    assert (root.logical_type is not None) == valid


def test_a_recursive_record_refers_to_its_own_node() -> None:
    node = parse_record('{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}')

    next_type = node.fields[0].type
    assert isinstance(next_type, Union)
    assert next_type.branches[1] is node


def test_a_recursive_record_default_is_checked_through_the_cycle() -> None:
    text = json.dumps(
        {
            "type": "record",
            "name": "Node",
            "fields": [
                {"name": "value", "type": "int", "default": 0},
                {"name": "next", "type": ["null", "Node"], "default": None},
                {"name": "first", "type": {"type": "array", "items": "Node"}, "default": [{"value": 1}]},
            ],
        }
    )

    assert parse_record(text).fields[2].default is not None


def test_a_reference_resolves_to_the_same_node_as_the_definition() -> None:
    record = parse_record(
        record_text(
            {"name": "from_account", "type": {"type": "fixed", "name": "Iban", "size": 34}},
            {"name": "to_account", "type": "Iban"},
        )
    )

    assert record.fields[0].type is record.fields[1].type


# -- namespaces -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "full_name"),
    [
        ({"name": "Inner"}, "com.acme.Inner"),
        ({"name": "Inner", "namespace": "org.other"}, "org.other.Inner"),
        ({"name": "org.dotted.Inner", "namespace": "ignored.when.dotted"}, "org.dotted.Inner"),
        ({"name": "Inner", "namespace": ""}, "Inner"),
    ],
)
def test_a_nested_named_type_takes_its_namespace_per_the_specification(
    definition: dict[str, Any], full_name: str
) -> None:
    text = json.dumps(
        {
            "type": "record",
            "name": "Outer",
            "namespace": "com.acme",
            "fields": [{"name": "inner", "type": {"type": "enum", "symbols": ["A"], **definition}}],
        }
    )

    inner = parse_record(text).fields[0].type
    assert isinstance(inner, Enum)
    assert (inner.full_name, inner.name, inner.namespace) == (full_name, "Inner", full_name.rpartition(".")[0] or None)


def test_names_are_resolved_in_the_enclosing_namespace_first_then_the_null_namespace() -> None:
    text = json.dumps(
        {
            "type": "record",
            "name": "Outer",
            "fields": [
                {"name": "plain", "type": {"type": "enum", "name": "Code", "symbols": ["A"]}},
                {
                    "name": "nested",
                    "type": {
                        "type": "record",
                        "name": "Inner",
                        "namespace": "com.acme",
                        "fields": [
                            {"name": "scoped", "type": {"type": "enum", "name": "Code", "symbols": ["B"]}},
                            {"name": "same_namespace", "type": "Code"},
                            {"name": "full", "type": "com.acme.Code"},
                            {"name": "outer_record", "type": ["null", "Outer"]},
                        ],
                    },
                },
            ],
        }
    )

    outer = parse_record(text)
    inner = outer.fields[1].type
    assert isinstance(inner, Record)
    scoped, same_namespace, full, outer_record = inner.fields
    assert same_namespace.type is scoped.type and full.type is scoped.type
    assert isinstance(outer_record.type, Union) and outer_record.type.branches[1] is outer


def test_aliases_become_full_names_relative_to_the_type_namespace() -> None:
    text = '{"type":"fixed","name":"Hash","namespace":"com.acme","size":4,"aliases":["Digest","org.other.Sum"]}'
    fixed = parse_schema(text).root

    assert isinstance(fixed, Fixed)
    assert fixed.aliases == ("com.acme.Digest", "org.other.Sum")


# -- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"type": }', "schema text is not valid JSON: Expecting value at line 1 column 10"),
        ("NaN", "schema text is not valid JSON: NaN is not a JSON value"),
        ("[1e999]", "schema text is not valid JSON: number 1e999 is out of range"),
        ('"Foo"', "/: unknown type name 'Foo'"),
        ("3", "/: a type must be a type name, an array (a union) or an object, got 3"),
        ("{}", "/: missing required attribute 'type'"),
        ('{"type": 3}', "/type: type must be a string, got 3"),
        ('{"type": "record"}', "/: missing required attribute 'name'"),
        ('{"type": "error", "name": "E", "fields": []}', "/type: unknown type name 'error'"),
        ('{"type": "array"}', "/: missing required attribute 'items'"),
        ('{"type": "map", "values": "moneyy"}', "/values: unknown type name 'moneyy'"),
        (record_text({"name": "amount", "type": "moneyy"}), "/fields/amount/type: unknown type name 'moneyy'"),
        (
            record_text(
                {"name": "a", "type": "B"}, {"name": "b", "type": {"type": "record", "name": "B", "fields": []}}
            ),
            "/fields/a/type: unknown type name 'B'",
        ),
        (
            record_text({"name": "id", "type": "int"}, {"name": "id", "type": "long"}),
            "/fields/1/name: duplicate field name 'id'",
        ),
        (
            record_text({"name": "amount", "type": "long", "default": "abc"}),
            '/fields/amount/default: default "abc" does not match type long',
        ),
        (
            record_text({"name": "1st", "type": "int"}),
            "/fields/0/name: invalid field name '1st': it must match [A-Za-z_][A-Za-z0-9_]*",
        ),
        (
            record_text({"name": "a", "type": "int", "aliases": ["b-c"]}),
            "/fields/a/aliases/0: invalid alias 'b-c': it must match [A-Za-z_][A-Za-z0-9_]*",
        ),
        (record_text({"name": "a"}), "/fields/a: missing required attribute 'type'"),
        (record_text({"type": "int"}), "/fields/0: missing required attribute 'name'"),
        ('{"type": "record", "name": "R"}', "/: missing required attribute 'fields'"),
        ('{"type": "record", "name": "R", "fields": {}}', "/fields: fields must be an array, got {}"),
        ('{"type": "record", "name": "R", "fields": [3]}', "/fields/0: a field must be an object, got 3"),
        (
            record_text({"name": "a", "type": "int", "order": "up"}),
            "/fields/a/order: order must be one of ascending, descending, ignore, got 'up'",
        ),
        (record_text(aliases=["Old", 3]), "/aliases/1: aliases must be strings, got 3"),
        (record_text(doc=7), "/doc: doc must be a string, got 7"),
        (
            '{"type": "record", "name": "1abc", "fields": []}',
            "/name: invalid name '1abc': each dot-separated part must match [A-Za-z_][A-Za-z0-9_]*",
        ),
        (
            '{"type": "record", "name": "R", "namespace": "a..b", "fields": []}',
            "/namespace: invalid namespace 'a..b': each dot-separated part must match [A-Za-z_][A-Za-z0-9_]*",
        ),
        (
            '{"type": "record", "name": "int", "fields": []}',
            "/name: invalid name 'int': a primitive type name cannot be redefined",
        ),
        (
            record_text({"name": "a", "type": {"type": "enum", "name": "Payment", "symbols": ["A"]}}),
            "/fields/a/type/name: name 'Payment' is already defined",
        ),
        ('{"type": "enum", "name": "E", "symbols": ["A", "B", "A"]}', "/symbols/2: duplicate symbol 'A'"),
        (
            '{"type": "enum", "name": "E", "symbols": ["A", "1B"]}',
            "/symbols/1: invalid symbol '1B': it must match [A-Za-z_][A-Za-z0-9_]*",
        ),
        ('{"type": "enum", "name": "E"}', "/: missing required attribute 'symbols'"),
        (
            '{"type": "enum", "name": "E", "symbols": ["A"], "default": "Z"}',
            "/default: default 'Z' is not one of the symbols",
        ),
        ('{"type": "fixed", "name": "F"}', "/: missing required attribute 'size'"),
        ('{"type": "fixed", "name": "F", "size": -1}', "/size: size must be a non-negative integer, got -1"),
        ('{"type": "fixed", "name": "F", "size": "4"}', '/size: size must be a non-negative integer, got "4"'),
        ('{"type": "fixed", "name": "F", "size": true}', "/size: size must be a non-negative integer, got true"),
        ('["string", "null", "string"]', "/2: the union already has a branch 'string'"),
        (
            '["null", {"type": "array", "items": "int"}, {"type": "array", "items": "long"}]',
            "/2: the union already has a branch 'array'",
        ),
        ('["null", ["int"]]', "/1: a union cannot directly contain another union"),
    ],
)
def test_invalid_schema_is_refused_with_the_path_of_the_problem(text: str, message: str) -> None:
    with pytest.raises(InvalidSchemaError) as raised:
        parse_schema(text)

    assert str(raised.value) == message


def test_a_union_may_hold_several_named_types_of_one_kind() -> None:
    text = json.dumps(
        [
            {"type": "record", "name": "Card", "fields": []},
            {"type": "record", "name": "Transfer", "fields": []},
        ]
    )

    assert isinstance(parse_schema(text).root, Union)


# -- defaults ---------------------------------------------------------------------------------------------

POINT = {
    "type": "record",
    "name": "Point",
    "fields": [{"name": "x", "type": "int"}, {"name": "y", "type": "int", "default": 0}],
}


@pytest.mark.parametrize(
    ("field_type", "default", "message"),
    [
        ("null", None, None),
        ("null", 0, "/fields/value/default: default 0 does not match type null"),
        ("boolean", True, None),
        ("boolean", 1, "/fields/value/default: default 1 does not match type boolean"),
        ("int", -(2**31), None),
        ("int", 2**31 - 1, None),
        ("int", 2**31, "/fields/value/default: default 2147483648 does not match type int"),
        ("int", 1.0, "/fields/value/default: default 1.0 does not match type int"),
        ("int", True, "/fields/value/default: default true does not match type int"),
        ("long", 2**63 - 1, None),
        ("long", 2**63, "/fields/value/default: default 9223372036854775808 does not match type long"),
        ("float", 1, None),
        ("float", 1.5, None),
        ("double", -2, None),
        ("double", "NaN", '/fields/value/default: default "NaN" does not match type double'),
        ("string", "", None),
        ("string", 3, "/fields/value/default: default 3 does not match type string"),
        ("bytes", "\u00ff\u0000", None),
        ("bytes", "\u0100", '/fields/value/default: default "\u0100" does not match type bytes'),
        ({"type": "fixed", "name": "Pair", "size": 2}, "ab", None),
        (
            {"type": "fixed", "name": "Pair", "size": 2},
            "abc",
            '/fields/value/default: default "abc" does not match type fixed Pair',
        ),
        ({"type": "enum", "name": "Suit", "symbols": ["HEARTS"]}, "HEARTS", None),
        (
            {"type": "enum", "name": "Suit", "symbols": ["HEARTS"]},
            "CLUBS",
            '/fields/value/default: default "CLUBS" does not match type enum Suit',
        ),
        ({"type": "array", "items": "int"}, [1, 2], None),
        ({"type": "array", "items": "int"}, [1, "2"], '/fields/value/default/1: default "2" does not match type int'),
        ({"type": "map", "values": "long"}, {"a": 1}, None),
        (
            {"type": "map", "values": "long"},
            {"a": None},
            "/fields/value/default/a: default null does not match type long",
        ),
        ({"type": "map", "values": "long"}, [], "/fields/value/default: default [] does not match type map"),
        (POINT, {"x": 1}, None),
        (POINT, {"x": 1, "y": 2, "unknown": "ignored"}, None),
        (
            POINT,
            {"y": 1},
            """/fields/value/default: default {"y": 1} lacks field 'x', which has no default of its own""",
        ),
        (POINT, {"x": "one"}, '/fields/value/default/x: default "one" does not match type int'),
        (["null", "string"], None, None),
        (
            ["null", "string"],
            "text",
            """/fields/value/default: default "text" does not match type null (a union's default must match its """
            """first branch)""",
        ),
        (["string", "null"], "text", None),
        ([], None, "/fields/value/default: default null is not allowed: the union has no branches"),
    ],
)
def test_field_defaults_must_match_the_field_type(field_type: Any, default: Any, message: str | None) -> None:
    text = record_text({"name": "value", "type": field_type, "default": default})

    if message is None:
        parse_schema(text)
        return
    with pytest.raises(InvalidSchemaError) as raised:
        parse_schema(text)
    assert str(raised.value) == message


# -- canonical and normalised text ------------------------------------------------------------------------

RICH_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "com.acme",
    "doc": "An order",
    "aliases": ["Purchase"],
    "fields": [
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"], "default": "NEW"}},
        {"name": "previous_status", "type": ["null", "Status"], "default": None},
        {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [
            {"name": "sku", "type": "string", "aliases": ["code"]},
            {"name": "next", "type": ["null", "Line"], "default": None},
        ]}}},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "namespace": "org.crypto", "size": 4}},
        {"name": "attributes", "type": {"type": "map", "values": "string"}, "default": {}},
    ],
}  # fmt: skip


def test_canonical_text_ignores_whitespace_and_key_order() -> None:
    compact = json.dumps(RICH_SCHEMA, separators=(",", ":"))
    spread_and_reordered = json.dumps(_reversed_keys(RICH_SCHEMA), indent=4)

    assert parse_schema(compact).canonical_text == parse_schema(spread_and_reordered).canonical_text
    assert parse_schema(compact) == parse_schema(spread_and_reordered)


def test_canonical_text_keeps_every_spelling_the_author_chose() -> None:
    assert parse_schema('{"type": "int"}').canonical_text == '{"type":"int"}'
    assert parse_schema('"int"').canonical_text == '"int"'
    assert parse_schema('"int"') != parse_schema('{"type": "int"}')


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ('{"type": "int"}', '"int"'),
        (
            '{"type":"record","name":"R","namespace":"com.acme","fields":[{"name":"a","type":{"type":"long"}}]}',
            '{"type":"record","name":"com.acme.R","fields":[{"name":"a","type":"long"}]}',
        ),
        (
            '{"type":"enum","name":"E","namespace":"ns","symbols":["A"],"aliases":["Z","ns.Y"]}',
            '{"aliases":["ns.Y","ns.Z"],"symbols":["A"],"name":"ns.E","type":"enum"}',
        ),
        (
            '{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"ascending"}]}',
            '{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}',
        ),
        (
            '{"type":"bytes","logicalType":"decimal","precision":4}',
            '{"type":"bytes","logicalType":"decimal","precision":4,"scale":0}',
        ),
    ],
)
def test_equivalent_spellings_share_one_normalized_text(first: str, second: str) -> None:
    assert parse_schema(first).normalized_text == parse_schema(second).normalized_text


def test_normalized_text_writes_full_names_once_and_keeps_what_carries_meaning() -> None:
    normalized = json.loads(parse_schema(json.dumps(RICH_SCHEMA)).normalized_text)

    assert list(normalized) == ["type", "name", "doc", "aliases", "fields"]
    assert (normalized["name"], normalized["aliases"]) == ("com.acme.Order", ["com.acme.Purchase"])
    assert [field["name"] for field in normalized["fields"]] == [field["name"] for field in RICH_SCHEMA["fields"]]
    assert normalized["fields"][3] == {"name": "previous_status", "type": ["null", "com.acme.Status"], "default": None}
    assert normalized["fields"][5]["type"] == {"type": "fixed", "name": "org.crypto.Hash", "size": 4}


def test_normalized_text_keeps_the_null_namespace_of_a_type_nested_in_a_namespace() -> None:
    fixed = {"type": "fixed", "name": "F", "namespace": "", "size": 1}
    text = json.dumps({"type": "record", "name": "R", "namespace": "ns", "fields": [{"name": "a", "type": fixed}]})
    normalized = parse_schema(text).normalized_text

    assert '{"type":"fixed","name":"F","namespace":"","size":1}' in normalized
    reparsed = parse_record(normalized).fields[0].type
    assert isinstance(reparsed, Fixed) and reparsed.full_name == "F"


@pytest.mark.parametrize("text", [json.dumps(RICH_SCHEMA), '"string"', '{"type":"map","values":["null","long"]}'])
def test_canonical_and_normalized_texts_round_trip(text: str) -> None:
    schema = parse_schema(text)
    normalized = parse_schema(schema.normalized_text)

    assert parse_schema(schema.canonical_text).canonical_text == schema.canonical_text
    assert normalized.normalized_text == schema.normalized_text


def test_an_avro_schema_is_equal_by_canonical_text_only() -> None:
    schema = parse_schema(json.dumps(RICH_SCHEMA))

    assert schema == AvroSchema(parse_schema('"null"').root, schema.canonical_text, "")
    assert hash(schema) == hash(parse_schema(json.dumps(RICH_SCHEMA, indent=2)))


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value
