"""Raw Avro schema JSON as the mutation generator sees it: where each type sits, what it defines, valid defaults.

Everything here works on JSON (dicts, lists, strings) rather than a parsed tree, because the generator
edits schemas in place and must be able to produce invalid ones to notice and undo them.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Raw Avro schema JSON, edited in place while mutating; it never leaves the generator except as text.
SchemaJson = Any
# The containers above a type, outermost first: ("array", None), ("record", "<full name>"), ...
Path = tuple[tuple[str, str | None], ...]

PRIMITIVES = ("boolean", "int", "long", "float", "double", "bytes", "string")
NAMED_KINDS = ("record", "enum", "fixed")
NO_DEFAULT = object()


# Walking a schema: where every type sits, which names it defines and uses, and what makes it invalid


@dataclass(frozen=True)
class Slot:
    """A place holding a type, replaceable through `parent[key]`; `path` is the containers above it."""

    parent: Any
    key: str | int
    path: Path
    in_union: bool


@dataclass(frozen=True)
class Definition:
    node: dict[str, Any]
    full_name: str
    path: Path  # where the definition sits
    inner_path: Path  # where its fields sit (records only)


@dataclass
class Walk:
    slots: list[Slot] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)
    references: list[tuple[Slot, str]] = field(default_factory=list)
    names: dict[str, dict[str, Any]] = field(default_factory=dict)
    recursive: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Definition]:
        return [definition for definition in self.definitions if definition.node["type"] == kind]

    def tags(self, path: Path) -> list[str]:
        kinds = sorted({kind for kind, _ in path})
        tags = [f"inside {kind}" for kind in kinds] or ["top-level"]
        if any(name in self.recursive for _, name in path):
            tags.append("inside recursive record")
        return tags


def walk_schema(holder: list[SchemaJson]) -> Walk:
    walk = Walk()
    _visit(walk, holder, 0, "", (), False, ())
    return walk


def _visit(
    walk: Walk, parent: Any, key: str | int, namespace: str, path: Path, in_union: bool, open_names: tuple[str, ...]
) -> None:
    node = parent[key]
    slot = Slot(parent, key, path, in_union)
    walk.slots.append(slot)
    if isinstance(node, str):
        if node not in PRIMITIVES and node != "null":
            walk.references.append((slot, node))
            if node not in walk.names:
                walk.problems.append(f"{node} is used before it is defined")
            if node in open_names:
                walk.recursive.add(node)
    elif isinstance(node, list):
        kinds = [_branch_kind(branch, namespace) for branch in node]
        if in_union or len(set(kinds)) != len(kinds) or "union" in kinds:
            walk.problems.append(f"invalid union {kinds}")
        for index in range(len(node)):
            _visit(walk, node, index, namespace, path + (("union", None),), True, open_names)
    elif node["type"] in NAMED_KINDS:
        _visit_named(walk, node, namespace, path, open_names, is_root=not open_names)
    else:
        child = "items" if node["type"] == "array" else "values"
        _visit(walk, node, child, namespace, path + ((node["type"], None),), False, open_names)


def _visit_named(
    walk: Walk, node: dict[str, Any], namespace: str, path: Path, open_names: tuple[str, ...], is_root: bool
) -> None:
    own_namespace = node.get("namespace", namespace)
    full_name = f"{own_namespace}.{node['name']}"
    if not own_namespace or full_name in walk.names:
        walk.problems.append(f"{full_name} has no namespace or is defined twice")
    walk.names[full_name] = node
    # Fields of the root record are "top-level"; fields of any other record are "inside record".
    inner_path = path if is_root and not path else path + (("record", full_name),)
    walk.definitions.append(Definition(node, full_name, path, inner_path))
    if node["type"] == "enum":
        symbols = node["symbols"]
        if len(set(symbols)) != len(symbols) or node.get("default", symbols[0]) not in symbols:
            walk.problems.append(f"invalid enum {full_name}")
    elif node["type"] == "record":
        names = [record_field["name"] for record_field in node["fields"]]
        if len(set(names)) != len(names) or not names:
            walk.problems.append(f"duplicate or no fields in {full_name}")
        for record_field in node["fields"]:
            _visit(walk, record_field, "type", own_namespace, inner_path, False, open_names + (full_name,))


def _branch_kind(branch: SchemaJson, namespace: str) -> str:
    if isinstance(branch, str):
        return branch
    if isinstance(branch, list):
        return "union"
    if branch["type"] in NAMED_KINDS:
        return f"{branch.get('namespace', namespace)}.{branch['name']}"
    return str(branch["type"])


# ---------------------------------------------------------------------------------------------------------
# Defaults: valid for Java's parser (which validates them since 1.9) and for any other sane parser


def _is_valid_default(schema: SchemaJson, value: Any, names: dict[str, dict[str, Any]]) -> bool:
    if isinstance(schema, list):
        return bool(schema) and _is_valid_default(schema[0], value, names)
    if isinstance(schema, str):
        return (
            _is_valid_primitive(schema, value)
            if schema in PRIMITIVES or schema == "null"
            else (schema in names and _is_valid_default(names[schema], value, names))
        )
    kind = schema["type"]
    if kind == "enum":
        return isinstance(value, str) and value in schema["symbols"]
    if kind == "fixed":
        return isinstance(value, str) and len(value) == schema["size"]
    if kind == "array":
        return isinstance(value, list) and all(_is_valid_default(schema["items"], item, names) for item in value)
    if kind == "map":
        return isinstance(value, dict) and all(_is_valid_default(schema["values"], v, names) for v in value.values())
    fields = schema["fields"]
    return (
        isinstance(value, dict)
        and sorted(value) == sorted(record_field["name"] for record_field in fields)
        and all(_is_valid_default(f["type"], value[f["name"]], names) for f in fields)
    )


def _is_valid_primitive(kind: str, value: Any) -> bool:
    integral = isinstance(value, int) and not isinstance(value, bool)
    checks: dict[str, Callable[[], bool]] = {
        "null": lambda: value is None,
        "boolean": lambda: isinstance(value, bool),
        "int": lambda: integral and -(2**31) <= value < 2**31,
        "long": lambda: integral and -(2**63) <= value < 2**63,
        "float": lambda: integral or isinstance(value, float),
        "double": lambda: integral or isinstance(value, float),
        "bytes": lambda: isinstance(value, str),
        "string": lambda: isinstance(value, str),
    }
    return checks[kind]()


def make_default(rng: random.Random, schema: SchemaJson, names: dict[str, dict[str, Any]], depth: int = 0) -> Any:
    """A valid default for `schema`, or `NO_DEFAULT` when recursion leaves none within reach."""
    if depth > 6:
        return NO_DEFAULT
    if isinstance(schema, list):
        return make_default(rng, schema[0], names, depth + 1)
    if isinstance(schema, str):
        if schema not in names:
            return _primitive_default(rng, schema)
        # Java validates a default while it parses the field, so a value of a record that is still being
        # defined (a recursive reference) fails with "Schema fields not set yet"; by-reference records get
        # no value at all, which leaves arrays and maps of them empty.
        return NO_DEFAULT if names[schema]["type"] == "record" else make_default(rng, names[schema], names, depth + 1)
    kind = schema["type"]
    if kind == "enum":
        return rng.choice(schema["symbols"])
    if kind == "fixed":
        return "x" * schema["size"]
    if kind in ("array", "map"):
        item = make_default(rng, schema["items" if kind == "array" else "values"], names, depth + 1)
        present = item is not NO_DEFAULT and rng.random() < 0.5
        if kind == "array":
            return [item] if present else []
        return {"key": item} if present else {}
    values = {f["name"]: make_default(rng, f["type"], names, depth + 1) for f in schema["fields"]}
    return NO_DEFAULT if NO_DEFAULT in values.values() else values


def _primitive_default(rng: random.Random, kind: str) -> Any:
    makers: dict[str, Callable[[], Any]] = {
        "null": lambda: None,
        "boolean": lambda: rng.random() < 0.5,
        "int": lambda: rng.randint(-1000, 1000),
        "long": lambda: rng.randint(-(10**12), 10**12),
        # Halves are exact in binary, so float and double readers see the same number Java does.
        "float": lambda: rng.randint(-100, 100) / 2,
        "double": lambda: rng.randint(-100, 100) / 2,
        "bytes": lambda: rng.choice(("", "abc", "\u00ff")),
        "string": lambda: rng.choice(("", "unknown", "n/a")),
    }
    return makers[kind]()


def settle_defaults(rng: random.Random, walk: Walk, wanted: list[dict[str, Any]], required: bool) -> bool:
    """Give `wanted` fields a default and fix those a change made invalid.

    Returns False when a `required` default cannot be made (recursion without a way out)."""
    for record_field in wanted:
        default = make_default(rng, record_field["type"], walk.names)
        if default is NO_DEFAULT and required:
            return False
        if default is not NO_DEFAULT:
            record_field["default"] = default
    for definition in walk.of_kind("record"):
        for record_field in definition.node["fields"]:
            if "default" in record_field and not _is_valid_default(
                record_field["type"], record_field["default"], walk.names
            ):
                default = make_default(rng, record_field["type"], walk.names)
                if default is NO_DEFAULT:
                    del record_field["default"]
                else:
                    record_field["default"] = default
    return True
