"""Read the type-checked syntax tree of a compiled CEL expression (`cel.expr.CheckedExpr`).

cel-expr-python serialises a compiled expression as a `google.protobuf.Any` holding a
`cel.expr.CheckedExpr` (https://github.com/google/cel-spec/blob/master/proto/cel/expr/checked.proto),
but ships no Python classes for it. The messages below mirror the parts of `syntax.proto` and
`checked.proto` that `cel_python` reads, with the spec's field numbers; fields left out (source
positions, struct literals, most of `Type`) stay unknown, which the translator treats as untranslatable.
"""

from __future__ import annotations

from typing import Any, Final

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory

_PACKAGE: Final = "headwater.policy.celexpr"
_F = descriptor_pb2.FieldDescriptorProto

# message -> (field, number, kind, repeated); a kind starting with "." names a message of this file.
_Fields = tuple[tuple[str, int, str, bool], ...]
_ONE_OF: Final = "kind"


def _add_message(
    container: Any, name: str, fields: _Fields, one_of: frozenset[str] = frozenset()
) -> descriptor_pb2.DescriptorProto:
    message: descriptor_pb2.DescriptorProto = container.add(name=name)
    if one_of:
        message.oneof_decl.add(name=_ONE_OF)
    for field_name, number, kind, repeated in fields:
        field = message.field.add(
            name=field_name, number=number, label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
        )
        if kind.startswith("."):
            field.type, field.type_name = _F.TYPE_MESSAGE, f".{_PACKAGE}{kind}"
        else:
            field.type = getattr(_F, f"TYPE_{kind.upper()}")
        if field_name in one_of:
            field.oneof_index = 0
    return message


def _build_file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(name="headwater_cel_checked.proto", package=_PACKAGE, syntax="proto3")
    constants = (
        ("null_value", 1, "int32", False),  # google.protobuf.NullValue: an enum, varint on the wire
        ("bool_value", 2, "bool", False),
        ("int64_value", 3, "int64", False),
        ("uint64_value", 4, "uint64", False),
        ("double_value", 5, "double", False),
        ("string_value", 6, "string", False),
        ("bytes_value", 7, "bytes", False),
    )
    _add_message(file.message_type, "Constant", constants, frozenset(name for name, *_ in constants))
    expression_kinds = (
        ("const_expr", 3, ".Constant", False),
        ("ident_expr", 4, ".Expr.Ident", False),
        ("select_expr", 5, ".Expr.Select", False),
        ("call_expr", 6, ".Expr.Call", False),
        ("list_expr", 7, ".Expr.CreateList", False),
        ("comprehension_expr", 9, ".Expr.Comprehension", False),
    )
    expr = _add_message(
        file.message_type,
        "Expr",
        (("id", 2, "int64", False), *expression_kinds),
        frozenset(name for name, *_ in expression_kinds),
    )
    _add_message(expr.nested_type, "Ident", (("name", 1, "string", False),))
    _add_message(
        expr.nested_type,
        "Select",
        (("operand", 1, ".Expr", False), ("field", 2, "string", False), ("test_only", 3, "bool", False)),
    )
    _add_message(
        expr.nested_type,
        "Call",
        (("target", 1, ".Expr", False), ("function", 2, "string", False), ("args", 3, ".Expr", True)),
    )
    _add_message(
        expr.nested_type, "CreateList", (("elements", 1, ".Expr", True), ("optional_indices", 2, "int32", True))
    )
    _add_message(
        expr.nested_type,
        "Comprehension",
        (
            ("iter_var", 1, "string", False),
            ("iter_range", 2, ".Expr", False),
            ("accu_var", 3, "string", False),
            ("accu_init", 4, ".Expr", False),
            ("loop_condition", 5, ".Expr", False),
            ("loop_step", 6, ".Expr", False),
            ("result", 7, ".Expr", False),
            ("iter_var2", 8, "string", False),
        ),
    )
    # What the translator reads of a type: a primitive's or a wrapper's kind (PrimitiveType enums, never
    # 0 when set; a wrapper is a nullable scalar) and whether it is a map (a select on a map reads a key).
    type_message = _add_message(
        file.message_type,
        "Type",
        (("primitive", 3, "int32", False), ("wrapper", 4, "int32", False), ("map_type", 7, ".Type.MapType", False)),
    )
    _add_message(type_message.nested_type, "MapType", ())
    _add_message(
        file.message_type,
        "Reference",
        (("name", 1, "string", False), ("overload_id", 3, "string", True), ("value", 4, ".Constant", False)),
    )
    checked = _add_message(
        file.message_type,
        "CheckedExpr",
        (
            ("reference_map", 2, ".CheckedExpr.ReferenceMapEntry", True),
            ("type_map", 3, ".CheckedExpr.TypeMapEntry", True),
            ("expr", 4, ".Expr", False),
        ),
    )
    for entry_name, value_type in (("ReferenceMapEntry", "Reference"), ("TypeMapEntry", "Type")):
        entry = checked.nested_type.add(name=entry_name)
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=_F.TYPE_INT64, label=_F.LABEL_OPTIONAL)
        entry.field.add(
            name="value",
            number=2,
            type=_F.TYPE_MESSAGE,
            type_name=f".{_PACKAGE}.{value_type}",
            label=_F.LABEL_OPTIONAL,
        )
    return file


_FILE: Final = _build_file()
_POOL: Final = descriptor_pool.DescriptorPool()
_POOL.Add(_FILE)
_CHECKED_EXPR: Final = message_factory.GetMessages([_FILE], pool=_POOL)[f"{_PACKAGE}.CheckedExpr"]
_TYPE_URL: Final = "type.googleapis.com/cel.expr.CheckedExpr"


def checked_expression(serialized: bytes) -> Any:
    """The `CheckedExpr` of `cel.Expression.serialize()` (a protobuf message of this module's pool)."""
    wrapper = any_pb2.Any()
    wrapper.ParseFromString(serialized)
    if wrapper.type_url != _TYPE_URL:
        raise ValueError(f"expected a serialised {_TYPE_URL}, got {wrapper.type_url!r}")
    checked = _CHECKED_EXPR()
    checked.ParseFromString(wrapper.value)
    return checked
