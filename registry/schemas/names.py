"""Avro naming rules: valid names, full names and namespace resolution (specification, "Names").

A name containing a dot is a full name and its namespace is the part before the last dot; otherwise the
namespace comes from the `namespace` attribute or, failing that, from the enclosing named type. The empty
namespace "" is the null namespace and is represented as None.
"""

import re

from .types import PrimitiveKind

NAME_RULE = "[A-Za-z_][A-Za-z0-9_]*"
_NAME_PATTERN = re.compile(rf"{NAME_RULE}\Z")
PRIMITIVE_NAMES = frozenset(kind.value for kind in PrimitiveKind)


def is_valid_name(name: str) -> bool:
    """Whether `name` is a simple (undotted) Avro name."""
    return _NAME_PATTERN.match(name) is not None


def is_valid_full_name(full_name: str) -> bool:
    """Whether every dot-separated part of `full_name` is a valid simple name."""
    return all(is_valid_name(part) for part in full_name.split("."))


def full_name_of(name: str, namespace: str | None) -> str:
    """Resolve `name` against `namespace`: a dotted name is already full."""
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def namespace_of(full_name: str) -> str | None:
    """The namespace part of a full name, None for the null namespace."""
    return full_name.rpartition(".")[0] or None
