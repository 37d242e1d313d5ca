"""Flattening Avro schemas into the field tree policy rules read."""

import json

from headwater.policies import SchemaField
from headwater.registry.governance.schema_tree import schema_tree, subject_role
from headwater.registry.schemas import parse_schema

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "com.example",
    "fields": [
        {"name": "id", "type": "string", "doc": "Order id."},
        {
            "name": "buyer",
            "type": {
                "type": "record",
                "name": "Buyer",
                "fields": [
                    {"name": "email", "type": ["null", "string"], "default": None, "tags": ["pii"]},
                    {"name": "phone", "type": "string", "confluent:tags": ["PII", "contact"]},
                ],
            },
        },
        {
            "name": "lines",
            "type": {
                "type": "array",
                "items": {"type": "record", "name": "Line", "fields": [{"name": "sku", "type": "string"}]},
            },
        },
        {"name": "attributes", "type": {"type": "map", "values": "long"}},
        {"name": "amount", "type": ["null", "long", "double"]},
    ],
}


def _tree(schema: object, subject: str = "payments.order-value"):
    return schema_tree(subject, parse_schema(json.dumps(schema)))


def test_every_nested_field_has_a_dotted_path_parents_first() -> None:
    tree = _tree(ORDER)
    assert [field.path for field in tree.fields] == [
        "id",
        "buyer",
        "buyer.email",
        "buyer.phone",
        "lines",
        "lines.sku",
        "attributes",
        "amount",
    ]
    assert tree.root_type == "record"
    assert tree.role == "value"


def test_field_facts_docs_tags_defaults_and_nullability() -> None:
    fields = {field.path: field for field in _tree(ORDER).fields}
    assert fields["id"] == SchemaField("id", "id", "string", doc="Order id.")
    assert fields["buyer.email"] == SchemaField(
        "buyer.email", "email", "string", tags=("pii",), has_default=True, nullable=True
    )
    assert fields["buyer.phone"].tags == ("PII", "contact")
    assert fields["lines"].type == "array"
    assert fields["attributes"].type == "map"
    # A union with several non-null branches has no single type.
    assert (fields["amount"].type, fields["amount"].nullable) == ("union", True)


def test_recursive_record_is_expanded_once() -> None:
    node = {
        "type": "record",
        "name": "Node",
        "fields": [{"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"], "default": None}],
    }
    assert [field.path for field in _tree(node).fields] == ["value", "next"]


def test_primitive_key_schema_has_no_fields_and_the_key_role() -> None:
    tree = _tree("string", subject="payments.order-key")
    assert (tree.role, tree.root_type, tree.fields) == ("key", "string", ())


def test_role_follows_the_topic_name_strategy_suffix() -> None:
    assert subject_role("payments.order-key") == "key"
    assert subject_role("payments.order-value") == "value"
    assert subject_role("anything-else") == "value"
