"""Reader/writer compatibility and the registry's compatibility levels."""

import json
from typing import Any

import pytest

from headwater.registry.schemas import (
    AvroSchema,
    CompatibilityLevel,
    Incompatibility,
    check_compatibility,
    check_reader_writer,
    parse_schema,
)


def record(*fields: dict[str, Any], name: str = "Payment", **attributes: Any) -> AvroSchema:
    return parse_schema(json.dumps({"type": "record", "name": name, "fields": list(fields), **attributes}))


def enum_field(*symbols: str, **attributes: Any) -> dict[str, Any]:
    return {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": list(symbols), **attributes}}


ID = {"name": "id", "type": "long"}
NOTE = {"name": "note", "type": "string"}
NOTE_WITH_DEFAULT = {"name": "note", "type": "string", "default": ""}

# (id, previous fields, new fields, backward compatible, forward compatible)
EVOLUTIONS = [
    ("add-field-with-default", [ID], [ID, NOTE_WITH_DEFAULT], True, True),
    ("add-field-without-default", [ID], [ID, NOTE], False, True),
    ("remove-field-without-default", [ID, NOTE], [ID], True, False),
    ("remove-field-with-default", [ID, NOTE_WITH_DEFAULT], [ID], True, True),
    ("promote-int-to-long", [{"name": "id", "type": "int"}], [ID], True, False),
    ("promote-string-to-bytes", [NOTE], [{"name": "note", "type": "bytes"}], True, True),
    ("change-long-to-string", [ID], [{"name": "id", "type": "string"}], False, False),
    ("enum-symbol-added", [enum_field("NEW")], [enum_field("NEW", "PAID")], True, False),
    (
        "enum-symbol-added-previous-has-default",
        [enum_field("NEW", default="NEW")],
        [enum_field("NEW", "PAID")],
        True,
        True,
    ),
    ("enum-symbol-removed", [enum_field("NEW", "PAID")], [enum_field("NEW")], False, True),
    (
        "enum-symbol-removed-new-has-default",
        [enum_field("NEW", "PAID")],
        [enum_field("NEW", default="NEW")],
        True,
        True,
    ),
    (
        "union-widened",
        [{"name": "note", "type": ["null", "string"]}],
        [{"name": "note", "type": ["null", "string", "long"]}],
        True,
        False,
    ),
    (
        "union-narrowed",
        [{"name": "note", "type": ["null", "string", "long"]}],
        [{"name": "note", "type": ["null", "string"]}],
        False,
        True,
    ),
    ("field-made-optional", [NOTE], [{"name": "note", "type": ["null", "string"], "default": None}], True, False),
    ("field-renamed-with-alias", [NOTE], [{"name": "remark", "type": "string", "aliases": ["note"]}], True, False),
]

# For each level: whether it needs the backward check, the forward check.
LEVEL_DIRECTIONS = {
    CompatibilityLevel.NONE: (False, False),
    CompatibilityLevel.BACKWARD: (True, False),
    CompatibilityLevel.BACKWARD_TRANSITIVE: (True, False),
    CompatibilityLevel.FORWARD: (False, True),
    CompatibilityLevel.FORWARD_TRANSITIVE: (False, True),
    CompatibilityLevel.FULL: (True, True),
    CompatibilityLevel.FULL_TRANSITIVE: (True, True),
}


@pytest.mark.parametrize("level", list(CompatibilityLevel))
@pytest.mark.parametrize(
    ("previous_fields", "new_fields", "backward", "forward"),
    [evolution[1:] for evolution in EVOLUTIONS],
    ids=[evolution[0] for evolution in EVOLUTIONS],
)
def test_each_level_accepts_exactly_the_evolutions_its_directions_allow(
    level: CompatibilityLevel,
    previous_fields: list[dict[str, Any]],
    new_fields: list[dict[str, Any]],
    backward: bool,
    forward: bool,
) -> None:
    needs_backward, needs_forward = LEVEL_DIRECTIONS[level]
    expected = (backward or not needs_backward) and (forward or not needs_forward)

    incompatibilities = check_compatibility(level, record(*new_fields), [record(*previous_fields)])

    assert (incompatibilities == []) == expected, [str(problem) for problem in incompatibilities]


def test_backward_checks_the_latest_version_and_backward_transitive_every_version() -> None:
    history = [record(ID), record(ID, NOTE_WITH_DEFAULT)]
    new = record(ID, NOTE)

    assert check_compatibility(CompatibilityLevel.BACKWARD, new, history) == []
    assert check_compatibility(CompatibilityLevel.BACKWARD_TRANSITIVE, new, history) == [
        Incompatibility(
            "/fields/note",
            "backward: the new schema as reader of previous[0]: reader field note has no default and writer record "
            "Payment has no field of that name or alias",
        )
    ]


def test_forward_checks_the_latest_version_and_forward_transitive_every_version() -> None:
    history = [record(ID, NOTE), record(ID, NOTE_WITH_DEFAULT)]
    new = record(ID)

    assert check_compatibility(CompatibilityLevel.FORWARD, new, history) == []
    assert [str(problem) for problem in check_compatibility(CompatibilityLevel.FORWARD_TRANSITIVE, new, history)] == [
        "/fields/note: forward: previous[0] as reader of the new schema: reader field note has no default and "
        "writer record Payment has no field of that name or alias"
    ]


def test_full_reports_both_directions_newest_version_first() -> None:
    history = [record({"name": "id", "type": "int"}), record({"name": "id", "type": "string"})]
    new = record({"name": "id", "type": "long"})

    problems = [str(problem) for problem in check_compatibility(CompatibilityLevel.FULL_TRANSITIVE, new, history)]

    assert problems == [
        "/fields/id: backward: the new schema as reader of previous[1]: "
        "reader type long cannot read writer type string",
        "/fields/id: forward: previous[1] as reader of the new schema: reader type string cannot read writer type long",
        "/fields/id: forward: previous[0] as reader of the new schema: reader type int cannot read writer type long",
    ]


@pytest.mark.parametrize("level", list(CompatibilityLevel))
def test_a_first_version_is_compatible_at_every_level(level: CompatibilityLevel) -> None:
    assert check_compatibility(level, record(ID), []) == []


def test_none_accepts_any_change() -> None:
    assert check_compatibility(CompatibilityLevel.NONE, parse_schema('"int"'), [record(ID)]) == []


# -- what the reader/writer check reports -----------------------------------------------------------------


def test_every_incompatibility_is_reported_with_its_path_in_the_reader() -> None:
    writer = record(
        {"name": "id", "type": "int"},
        enum_field("NEW", "PAID", "VOID"),
        {"name": "amount", "type": "string"},
        {"name": "tags", "type": {"type": "array", "items": "long"}},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
    )
    reader = record(
        {"name": "id", "type": "long"},
        enum_field("NEW", "PAID"),
        {"name": "amount", "type": "long"},
        {"name": "tags", "type": {"type": "array", "items": "int"}},
        {"name": "hash", "type": {"type": "fixed", "name": "Digest", "size": 8}},
        {"name": "currency", "type": "string"},
    )

    assert [str(problem) for problem in check_reader_writer(reader, writer)] == [
        "/fields/status: reader enum Status lacks writer symbols VOID and has no default",
        "/fields/amount: reader type long cannot read writer type string",
        "/fields/tags/items: reader type int cannot read writer type long",
        "/fields/hash: reader fixed Digest cannot read writer fixed Hash: the names differ and no reader alias matches",
        "/fields/hash: reader fixed Digest has size 8 but writer fixed has size 4",
        "/fields/currency: reader field currency has no default and writer record Payment has no field of that name "
        "or alias",
    ]


@pytest.mark.parametrize(
    ("reader", "writer", "messages"),
    [
        ('"int"', '["int", "string", "null"]', ["/: reader type int cannot read writer type string",
                                                 "/: reader type int cannot read writer type null"]),
        ('["int", "string"]', '"long"', ["/: no branch of the reader union can read writer type long"]),
        ('["int", "string"]', '["string", "long"]',
         ["/: no branch of the reader union can read writer union branch 1 (long)"]),
        ('{"type": "map", "values": "int"}', '{"type": "map", "values": "double"}',
         ["/values: reader type int cannot read writer type double"]),
        ('{"type": "array", "items": "int"}', '{"type": "map", "values": "int"}',
         ["/: reader type array cannot read writer type map"]),
        ('{"type": "enum", "name": "A", "symbols": ["X"]}', '{"type": "enum", "name": "B", "symbols": ["X"]}',
         ["/: reader enum A cannot read writer enum B: the names differ and no reader alias matches"]),
    ],
)  # fmt: skip
def test_unions_containers_and_names_report_precise_messages(reader: str, writer: str, messages: list[str]) -> None:
    problems = check_reader_writer(parse_schema(reader), parse_schema(writer))

    assert [str(problem) for problem in problems] == messages


def test_named_types_match_by_unqualified_name_or_reader_alias() -> None:
    writer = record(ID, name="Payment", namespace="com.acme.v1")

    assert check_reader_writer(record(ID, name="Payment", namespace="com.acme.v2"), writer) == []
    assert check_reader_writer(record(ID, name="Transfer", aliases=["com.acme.v1.Payment"]), writer) == []
    assert check_reader_writer(record(ID, name="Transfer", aliases=["Payment"]), writer) != []


def test_a_reader_field_matching_several_writer_fields_is_reported() -> None:
    reader = record({"name": "note", "type": "string", "aliases": ["remark"]})
    writer = record(NOTE, {"name": "remark", "type": "string"})

    assert [str(problem) for problem in check_reader_writer(reader, writer)] == [
        "/fields/note: reader field note matches several writer fields by name and alias: note, remark"
    ]


def test_a_shared_named_type_is_reported_under_every_path_that_uses_it() -> None:
    money = {"type": "record", "name": "Money", "fields": [{"name": "units", "type": "long"}]}
    reader_money = {"type": "record", "name": "Money", "fields": [{"name": "units", "type": "int"}]}
    writer = record({"name": "price", "type": money}, {"name": "tax", "type": "Money"})
    reader = record({"name": "price", "type": reader_money}, {"name": "tax", "type": "Money"})

    assert [problem.path for problem in check_reader_writer(reader, writer)] == [
        "/fields/price/fields/units",
        "/fields/tax/fields/units",
    ]


def test_recursive_schemas_are_checked_without_endless_recursion() -> None:
    def tree(value_type: str) -> AvroSchema:
        children = {"type": "array", "items": "Tree"}
        fields = [{"name": "value", "type": value_type}, {"name": "children", "type": children}]
        return parse_schema(json.dumps({"type": "record", "name": "Tree", "fields": fields}))

    assert check_reader_writer(tree("long"), tree("int")) == []
    assert [str(problem) for problem in check_reader_writer(tree("int"), tree("long"))] == [
        "/fields/value: reader type int cannot read writer type long"
    ]


def test_mutually_recursive_schemas_are_checked_without_endless_recursion() -> None:
    def ping_pong(count_type: str) -> AvroSchema:
        pong = {"type": "record", "name": "Pong", "fields": [{"name": "ping", "type": ["null", "Ping"]}]}
        fields = [{"name": "count", "type": count_type}, {"name": "pong", "type": pong}]
        return parse_schema(json.dumps({"type": "record", "name": "Ping", "fields": fields}))

    assert check_reader_writer(ping_pong("double"), ping_pong("float")) == []
    assert check_reader_writer(ping_pong("float"), ping_pong("double")) == [
        Incompatibility("/fields/count", "reader type float cannot read writer type double")
    ]


SELF_COMPATIBLE_SCHEMAS = [
    '"null"',
    '["null", "string", {"type": "array", "items": "long"}, {"type": "map", "values": "bytes"}]',
    '{"type": "enum", "name": "Suit", "symbols": ["HEARTS", "SPADES"], "aliases": ["Card"]}',
    '{"type": "fixed", "name": "Hash", "size": 32, "logicalType": "decimal", "precision": 10}',
    '{"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"], "default": null}]}',
    json.dumps(
        {
            "type": "record",
            "name": "Order",
            "namespace": "com.acme",
            "fields": [
                {"name": "id", "type": {"type": "string", "logicalType": "uuid"}, "aliases": ["key"]},
                {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW"], "default": "NEW"}},
                {"name": "previous", "type": ["null", "Status"], "default": None},
                {
                    "name": "lines",
                    "type": {
                        "type": "array",
                        "items": {
                            "type": "record",
                            "name": "Line",
                            "fields": [
                                {"name": "amount", "type": {"type": "fixed", "name": "Amount", "size": 8}},
                                {"name": "parent", "type": ["null", "Order"], "default": None},
                            ],
                        },
                    },
                },
                {"name": "attributes", "type": {"type": "map", "values": ["null", "double"]}, "default": {}},
            ],
        }
    ),
]


@pytest.mark.parametrize("text", SELF_COMPATIBLE_SCHEMAS)
def test_a_schema_is_compatible_with_itself(text: str) -> None:
    schema = parse_schema(text)

    assert check_reader_writer(schema, schema) == []
    assert check_reader_writer(schema, parse_schema(text)) == []
    assert check_compatibility(CompatibilityLevel.FULL_TRANSITIVE, schema, [parse_schema(text), schema]) == []


# -- levels -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("backward", CompatibilityLevel.BACKWARD),
        ("FULL_TRANSITIVE", CompatibilityLevel.FULL_TRANSITIVE),
        ("Forward_Transitive", CompatibilityLevel.FORWARD_TRANSITIVE),
        ("none", CompatibilityLevel.NONE),
    ],
)
def test_a_level_is_parsed_in_any_letter_case(text: str, level: CompatibilityLevel) -> None:
    assert CompatibilityLevel.parse(text) is level


@pytest.mark.parametrize("text", ["", "backwards", "FULL TRANSITIVE", "transitive"])
def test_an_unknown_level_is_refused_with_confluents_message(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        CompatibilityLevel.parse(text)

    assert str(raised.value) == (
        "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, "
        "forward_transitive, and full_transitive"
    )


def test_an_incompatibility_reads_as_path_then_message() -> None:
    problem = Incompatibility("/fields/amount", "reader type long cannot read writer type string")

    assert str(problem) == "/fields/amount: reader type long cannot read writer type string"
