"""Seeded writer/reader Avro schema pairs: random writers, readers made by mutating them, each mutation tagged.

Every schema written here is valid for Apache Avro's Java parser (defaults included), because a pair only
tests the compatibility checker when both sides parse. The rules that keep them valid:

- every named type has a non-empty (explicit or inherited) namespace and every reference is a full name,
  so renames and namespace changes can rewrite references without re-resolving them;
- a mutation is applied, references to renamed types are rewritten, field defaults the change made invalid
  are regenerated, and the result is checked (names defined before use, unique fields and union branches);
  a mutation that fails the check is undone and another is drawn;
- defaults of unions match the first branch, which every Avro implementation accepts.
"""

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.property.avro_schema_json import (
    PRIMITIVES,
    Definition,
    Path,
    SchemaJson,
    Slot,
    Walk,
    settle_defaults,
    walk_schema,
)

PROMOTIONS = {
    "int": ("long", "float", "double"),
    "long": ("float", "double"),
    "float": ("double",),
    "string": ("bytes",),
    "bytes": ("string",),
}
# string<->bytes promote both ways, so only the numeric reversals are demotions.
DEMOTIONS = {"long": ("int",), "float": ("int", "long"), "double": ("int", "long", "float")}
FIELD_WORDS = (
    "id", "name", "amount", "created_at", "status", "count", "label", "score", "email", "code",
    "note", "region", "price", "quantity", "flag", "payload", "kind", "tags", "attributes", "ratio",
)  # fmt: skip
ROOT_NAMES = ("Order", "Customer", "Shipment", "Invoice", "Reading")
RECORD_NAMES = ("Address", "Payment", "Item", "Location", "Profile", "Device", "Line", "Window")
ENUM_NAMES = ("Status", "Color", "Level", "Channel")
FIXED_NAMES = ("Hash", "Uuid", "Digest")
SYMBOLS = ("RED", "GREEN", "BLUE", "AMBER", "BLACK", "WHITE", "CYAN", "PINK")
NAMESPACES = ("com.acme.orders", "org.example.events", "io.headwater.test", "com.acme.shared")
MAX_DEPTH = 3


@dataclass(frozen=True)
class GeneratedPair:
    """One test case: `constructs` names each mutation applied and where in the schema it landed."""

    id: str
    writer: str
    reader: str
    constructs: tuple[str, ...]


def generate_pairs(seed: int, count: int) -> list[GeneratedPair]:
    """The same seed always yields the same pairs (no set iteration, no clock, one `random.Random`)."""
    rng = random.Random(seed)
    return [_generate_pair(rng, f"seed{seed}-{index:04d}") for index in range(count)]


def _generate_pair(rng: random.Random, pair_id: str) -> GeneratedPair:
    builder = _TypeBuilder(rng, taken=set(), allow_references=True)
    writer_holder = [builder.root_record()]
    settle_defaults(rng, walk_schema(writer_holder), builder.wanting_defaults, required=False)
    writer = writer_holder[0]
    holder = [copy.deepcopy(writer)]
    constructs: list[str] = []
    for _ in range(rng.choices((1, 2, 3), weights=(5, 3, 2))[0]):
        constructs.extend(_apply_some_mutation(rng, holder))
    return GeneratedPair(pair_id, json.dumps(writer), json.dumps(holder[0]), tuple(dict.fromkeys(constructs)))


# ---------------------------------------------------------------------------------------------------------
# Building types


class _TypeBuilder:
    """Draws random types; `taken` holds the short names in use so that new named types never clash."""

    def __init__(self, rng: random.Random, taken: set[str], allow_references: bool) -> None:
        self.rng = rng
        self.taken = taken
        # Only the writer reuses types by reference: a mutation could put a reference before the definition.
        self.allow_references = allow_references
        self.closed: list[str] = []
        self.wanting_defaults: list[dict[str, Any]] = []

    def root_record(self) -> SchemaJson:
        namespace = self.rng.choice(NAMESPACES)
        return self.record(0, namespace, ROOT_NAMES, explicit_namespace=True, field_count=self.rng.randint(3, 8))

    def type_(self, depth: int, namespace: str) -> SchemaJson:
        rng = self.rng
        choices: list[tuple[float, Callable[[], SchemaJson]]] = [
            (45, lambda: rng.choice(PRIMITIVES)),
            (12, lambda: ["null", self.leaf(namespace)]),
            (8, lambda: self.enum(namespace)),
            (5, lambda: self.fixed(namespace)),
        ]
        if depth < MAX_DEPTH:
            choices += [
                (8, lambda: {"type": "array", "items": self.type_(depth + 1, namespace)}),
                (6, lambda: {"type": "map", "values": self.type_(depth + 1, namespace)}),
                (8, lambda: self.record(depth + 1, namespace, RECORD_NAMES)),
                (5, lambda: self.union(depth + 1, namespace)),
                (3, lambda: self.recursive_record(depth + 1, namespace)),
            ]
        if self.allow_references and self.closed:
            choices.append((3, lambda: rng.choice(self.closed)))
        weights, makers = zip(*choices, strict=True)
        return rng.choices(makers, weights=weights)[0]()

    def leaf(self, namespace: str) -> SchemaJson:
        """A type that holds no other type, so it fits as a union branch."""
        kind = self.rng.choices(("primitive", "enum", "fixed"), weights=(8, 1, 1))[0]
        if kind == "primitive":
            return self.rng.choice(PRIMITIVES)
        return self.enum(namespace) if kind == "enum" else self.fixed(namespace)

    def record(
        self,
        depth: int,
        namespace: str,
        names: tuple[str, ...],
        explicit_namespace: bool = False,
        field_count: int | None = None,
        recursive: bool = False,
    ) -> SchemaJson:
        node, own_namespace = self._named("record", names, namespace, explicit_namespace)
        full_name = f"{own_namespace}.{node['name']}"
        used: list[str] = []
        node["fields"] = [self.field(depth, own_namespace, used) for _ in range(field_count or self.rng.randint(2, 4))]
        if recursive:
            # The self reference sits behind null or an empty array, so values (and defaults) are finite.
            self_type = self.rng.choice((["null", full_name], {"type": "array", "items": full_name}))
            node["fields"].append({"name": "next", "type": self_type, "default": [] if "items" in self_type else None})
        if self.rng.random() < 0.1:
            node["aliases"] = [f"Legacy{node['name']}"]
        self.closed.append(full_name)
        return node

    def recursive_record(self, depth: int, namespace: str) -> SchemaJson:
        return self.record(depth, namespace, ("Node", "Tree", "Link"), recursive=True)

    def field(self, depth: int, namespace: str, used: list[str]) -> dict[str, Any]:
        name = self.rng.choice([word for word in FIELD_WORDS if word not in used])
        used.append(name)
        result: dict[str, Any] = {"name": name, "type": self.type_(depth, namespace)}
        if self.rng.random() < 0.25:
            # Filled once the whole schema exists, because a default needs the named types it refers to.
            self.wanting_defaults.append(result)
        if self.rng.random() < 0.15:
            # Writer aliases mean nothing to resolution; readers copied from the writer keep them.
            result["aliases"] = [f"legacy_{name}"]
        return result

    def enum(self, namespace: str) -> SchemaJson:
        node, _ = self._named("enum", ENUM_NAMES, namespace)
        node["symbols"] = self.rng.sample(SYMBOLS, self.rng.randint(2, 5))
        if self.rng.random() < 0.3:
            node["default"] = self.rng.choice(node["symbols"])
        return node

    def fixed(self, namespace: str) -> SchemaJson:
        node, _ = self._named("fixed", FIXED_NAMES, namespace)
        node["size"] = self.rng.choice((4, 8, 16))
        return node

    def union(self, depth: int, namespace: str) -> SchemaJson:
        branches: list[SchemaJson] = self.rng.sample(PRIMITIVES, self.rng.randint(1, 2))
        extra = self.rng.choice(("enum", "record", "array", "map", "null"))
        if extra == "enum":
            branches.append(self.enum(namespace))
        elif extra == "record":
            branches.append(self.record(depth, namespace, RECORD_NAMES))
        elif extra == "array":
            branches.append({"type": "array", "items": self.rng.choice(PRIMITIVES)})
        else:
            branches.append({"type": "map", "values": self.rng.choice(PRIMITIVES)} if extra == "map" else "null")
        self.rng.shuffle(branches)
        return branches

    def _named(
        self, kind: str, names: tuple[str, ...], namespace: str, explicit_namespace: bool = False
    ) -> tuple[dict[str, Any], str]:
        name = self.fresh_name(names)
        node: dict[str, Any] = {"type": kind, "name": name}
        own_namespace = namespace
        # Mostly inherited, sometimes explicit: both resolve differently under aliases, a classic trap.
        if explicit_namespace or self.rng.random() < 0.3:
            own_namespace = self.rng.choice(NAMESPACES) if not explicit_namespace else namespace
            node["namespace"] = own_namespace
        return node, own_namespace

    def fresh_name(self, names: tuple[str, ...]) -> str:
        base = self.rng.choice(names)
        name, suffix = base, 2
        while name in self.taken:
            name, suffix = f"{base}{suffix}", suffix + 1
        self.taken.add(name)
        return name


# ---------------------------------------------------------------------------------------------------------
# Mutations: each turns (part of) the reader into something else and says what it did and where


@dataclass(frozen=True)
class _Applied:
    """Where a mutation landed, which new fields need a default, and an optional detail for the report."""

    path: Path
    wanted_defaults: list[dict[str, Any]] = field(default_factory=list)
    detail: str | None = None


Mutation = Callable[[random.Random, Walk], _Applied | None]


def _apply_some_mutation(rng: random.Random, holder: list[SchemaJson]) -> list[str]:
    """Apply one randomly drawn mutation that keeps the reader valid; returns its construct and place tags."""
    names, weights = zip(*((name, weight) for name, (weight, _) in MUTATIONS.items()), strict=True)
    for _ in range(50):
        name = rng.choices(names, weights=weights)[0]
        tags = _try_mutation(rng, holder, MUTATIONS[name][1])
        if tags is not None:
            return [name, *tags]
    raise AssertionError("no mutation applies to this writer; the generator needs another mutation kind")


def _try_mutation(rng: random.Random, holder: list[SchemaJson], mutation: Mutation) -> list[str] | None:
    backup = copy.deepcopy(holder[0])
    before = walk_schema(holder)
    old_names = {id(definition.node): definition.full_name for definition in before.definitions}
    applied = mutation(rng, before)
    if applied is not None:
        _rewrite_renamed_references(holder, old_names)
        after = walk_schema(holder)
        if not after.problems and settle_defaults(rng, after, applied.wanted_defaults, required=True):
            return after.tags(applied.path) + ([applied.detail] if applied.detail else [])
    holder[0] = backup
    return None


def _rewrite_renamed_references(holder: list[SchemaJson], old_names: dict[int, str]) -> None:
    """Point references at the new full name of every definition a mutation renamed or moved."""
    walk = walk_schema(holder)
    renamed = {
        old_names[id(definition.node)]: definition.full_name
        for definition in walk.definitions
        if id(definition.node) in old_names and old_names[id(definition.node)] != definition.full_name
    }
    for slot, name in walk.references:
        if name in renamed:
            slot.parent[slot.key] = renamed[name]


def _builder(rng: random.Random, walk: Walk) -> _TypeBuilder:
    taken = {definition.node["name"] for definition in walk.definitions}
    return _TypeBuilder(rng, taken, allow_references=False)


def _fresh_field_name(rng: random.Random, record: dict[str, Any]) -> str:
    used = {record_field["name"] for record_field in record["fields"]}
    used |= {alias for record_field in record["fields"] for alias in record_field.get("aliases", ())}
    name = f"{rng.choice(FIELD_WORDS)}_{rng.randint(2, 99)}"
    return name if name not in used else f"{name}_x"


def _namespace_of(definition: Definition) -> str:
    return definition.full_name.rsplit(".", 1)[0]


def _add_field(rng: random.Random, walk: Walk, default: str) -> _Applied | None:
    """Add a field; `default` is "default", "null default" (a `["null", X]` field) or "no default"."""
    definition = rng.choice(walk.of_kind("record"))
    new_type = _builder(rng, walk).type_(2, _namespace_of(definition))
    new_field: dict[str, Any] = {"name": _fresh_field_name(rng, definition.node), "type": new_type}
    wanted = [new_field] if default == "default" else []
    if default == "null default":
        # `"default": null` is a default; implementations that read it as "no default" get this wrong.
        branches = new_type if isinstance(new_type, list) else [new_type]
        new_field["type"] = ["null", *[branch for branch in branches if branch != "null"]]
        new_field["default"] = None
    definition.node["fields"].insert(rng.randint(0, len(definition.node["fields"])), new_field)
    return _Applied(definition.inner_path, wanted)


def _remove_field(rng: random.Random, walk: Walk) -> _Applied | None:
    definition = rng.choice(walk.of_kind("record"))
    fields = definition.node["fields"]
    if len(fields) < 2:
        return None
    fields.pop(rng.randrange(len(fields)))
    return _Applied(definition.inner_path)


def _rename_field(rng: random.Random, walk: Walk, variant: str) -> _Applied | None:
    candidates = [
        (definition, record_field)
        for definition in walk.of_kind("record")
        for record_field in definition.node["fields"]
        if variant != "to a writer alias" or record_field.get("aliases")
    ]
    if not candidates:
        return None
    definition, record_field = rng.choice(candidates)
    old_name, aliases = record_field["name"], record_field.pop("aliases", [])
    # A writer's field aliases play no part in resolution, so taking one as the reader's name is a rename.
    record_field["name"] = aliases[0] if variant == "to a writer alias" else _fresh_field_name(rng, definition.node)
    if variant == "with alias":
        record_field["aliases"] = [old_name]
    return _Applied(definition.inner_path)


def _replace_primitive(rng: random.Random, walk: Walk, table: str) -> _Applied | None:
    slots = [
        slot for slot in walk.slots if isinstance(slot.parent[slot.key], str) and slot.parent[slot.key] in PRIMITIVES
    ]
    if not slots:
        return None
    slot = rng.choice(slots)
    current = slot.parent[slot.key]
    targets = {
        "promote": PROMOTIONS.get(current, ()),
        "demote": DEMOTIONS.get(current, ()),
        "change to unrelated": tuple(
            kind
            for kind in PRIMITIVES
            if kind != current and kind not in PROMOTIONS.get(current, ()) and kind not in DEMOTIONS.get(current, ())
        ),
    }[table]
    if not targets:
        return None
    slot.parent[slot.key] = rng.choice(targets)
    # Promotions and demotions are few enough to report one by one; unrelated changes are not.
    detail = f"{current} -> {slot.parent[slot.key]}" if table != "change to unrelated" else None
    return _Applied(slot.path, detail=detail)


def _plain_slots(walk: Walk) -> list[Slot]:
    """Slots that can become a union: neither a union nor a union branch (unions may not nest)."""
    return [slot for slot in walk.slots if not slot.in_union and not isinstance(slot.parent[slot.key], list)]


def _make_nullable(rng: random.Random, walk: Walk) -> _Applied | None:
    slots = _plain_slots(walk)
    if not slots:
        return None
    slot = rng.choice(slots)
    current = slot.parent[slot.key]
    slot.parent[slot.key] = rng.choice((["null", current], [current, "null"]))
    return _Applied(slot.path)


def _union_slots(walk: Walk) -> list[Slot]:
    return [slot for slot in walk.slots if isinstance(slot.parent[slot.key], list)]


def _make_not_nullable(rng: random.Random, walk: Walk) -> _Applied | None:
    slots = [slot for slot in _union_slots(walk) if "null" in slot.parent[slot.key]]
    if not slots:
        return None
    slot = rng.choice(slots)
    rest = [branch for branch in slot.parent[slot.key] if branch != "null"]
    if not rest:
        return None
    slot.parent[slot.key] = rest[0] if len(rest) == 1 else rest
    return _Applied(slot.path)


def _widen_union(rng: random.Random, walk: Walk) -> _Applied | None:
    slots = _union_slots(walk)
    if not slots:
        return None
    slot = rng.choice(slots)
    slot.parent[slot.key].insert(rng.randint(0, len(slot.parent[slot.key])), rng.choice(PRIMITIVES + ("null",)))
    return _Applied(slot.path)


def _widen_to_union(rng: random.Random, walk: Walk) -> _Applied | None:
    slots = _plain_slots(walk)
    if not slots:
        return None
    slot = rng.choice(slots)
    branches = [slot.parent[slot.key], rng.choice(PRIMITIVES)]
    rng.shuffle(branches)
    slot.parent[slot.key] = branches
    return _Applied(slot.path)


def _narrow_union(rng: random.Random, walk: Walk) -> _Applied | None:
    slots = [slot for slot in _union_slots(walk) if len(slot.parent[slot.key]) >= 2]
    if not slots:
        return None
    slot = rng.choice(slots)
    branches = slot.parent[slot.key]
    branches.pop(rng.randrange(len(branches)))
    if len(branches) == 1 and rng.random() < 0.7:
        slot.parent[slot.key] = branches[0]
    return _Applied(slot.path)


def _swap_array_and_map(rng: random.Random, walk: Walk) -> _Applied | None:
    slots = [
        slot
        for slot in walk.slots
        if isinstance(slot.parent[slot.key], dict) and slot.parent[slot.key]["type"] in ("array", "map")
    ]
    if not slots:
        return None
    slot = rng.choice(slots)
    node = slot.parent[slot.key]
    inner = node.get("items", node.get("values"))
    slot.parent[slot.key] = (
        {"type": "map", "values": inner} if node["type"] == "array" else {"type": "array", "items": inner}
    )
    return _Applied(slot.path)


def _pick(rng: random.Random, walk: Walk, kind: str) -> Definition | None:
    definitions = walk.of_kind(kind)
    return rng.choice(definitions) if definitions else None


def _add_enum_symbol(rng: random.Random, walk: Walk) -> _Applied | None:
    definition = _pick(rng, walk, "enum")
    if definition is None:
        return None
    symbols = definition.node["symbols"]
    missing = [symbol for symbol in SYMBOLS if symbol not in symbols] or [f"EXTRA_{len(symbols)}"]
    symbols.insert(rng.randint(0, len(symbols)), rng.choice(missing))
    return _Applied(definition.path)


def _remove_enum_symbol(rng: random.Random, walk: Walk, with_default: bool) -> _Applied | None:
    definition = _pick(rng, walk, "enum")
    if definition is None or len(definition.node["symbols"]) < 2:
        return None
    node = definition.node
    removed = node["symbols"].pop(rng.randrange(len(node["symbols"])))
    if node.get("default") == removed or not with_default:
        node.pop("default", None)
    if with_default:
        node.setdefault("default", rng.choice(node["symbols"]))
    return _Applied(definition.path)


def _add_enum_default(rng: random.Random, walk: Walk) -> _Applied | None:
    definition = _pick(rng, walk, "enum")
    if definition is None or "default" in definition.node:
        return None
    definition.node["default"] = rng.choice(definition.node["symbols"])
    return _Applied(definition.path)


def _change_fixed_size(rng: random.Random, walk: Walk) -> _Applied | None:
    definition = _pick(rng, walk, "fixed")
    if definition is None:
        return None
    definition.node["size"] += rng.choice((-2, -1, 1, 4))
    return _Applied(definition.path)


def _rename_named(rng: random.Random, walk: Walk, variant: str) -> _Applied | None:
    """Rename a record, enum or fixed; aliases are full names or short names resolved in the reader's namespace."""
    definition = rng.choice(walk.definitions)
    node = definition.node
    old_short, old_full = node["name"], definition.full_name
    node["name"] = _builder(rng, walk).fresh_name((f"{old_short}V",))
    node.pop("aliases", None)
    if variant == "with full-name alias":
        node["aliases"] = [old_full]
    elif variant == "with short alias":
        node["aliases"] = [old_short]
    elif variant == "with short alias and a new namespace":
        node["aliases"] = [old_short]
        node["namespace"] = _other_namespace(rng, _namespace_of(definition))
    return _Applied(definition.path, detail=f"on {node['type']}")


def _change_namespace(rng: random.Random, walk: Walk) -> _Applied | None:
    definition = rng.choice(walk.definitions)
    definition.node["namespace"] = _other_namespace(rng, _namespace_of(definition))
    return _Applied(definition.path, detail=f"on {definition.node['type']}")


def _other_namespace(rng: random.Random, namespace: str) -> str:
    return rng.choice([candidate for candidate in NAMESPACES if candidate != namespace])


# name -> (weight, mutation). Weights balance the verdicts: roughly half the draws tend to keep the reader
# compatible, and one incompatible draw makes the whole pair incompatible.
MUTATIONS: dict[str, tuple[float, Mutation]] = {
    "add field with default": (4, lambda rng, walk: _add_field(rng, walk, "default")),
    "add field with null default": (2, lambda rng, walk: _add_field(rng, walk, "null default")),
    "add field without default": (2, lambda rng, walk: _add_field(rng, walk, "no default")),
    "remove field": (4, _remove_field),
    "rename field with alias": (3, lambda rng, walk: _rename_field(rng, walk, "with alias")),
    "rename field without alias": (2, lambda rng, walk: _rename_field(rng, walk, "without alias")),
    "rename field to a writer alias": (2, lambda rng, walk: _rename_field(rng, walk, "to a writer alias")),
    "promote primitive": (4, lambda rng, walk: _replace_primitive(rng, walk, "promote")),
    "demote primitive": (2, lambda rng, walk: _replace_primitive(rng, walk, "demote")),
    "change to unrelated primitive": (2, lambda rng, walk: _replace_primitive(rng, walk, "change to unrelated")),
    "make nullable": (3, _make_nullable),
    "make not nullable": (2, _make_not_nullable),
    "widen union": (2, _widen_union),
    "widen type to union": (2, _widen_to_union),
    "narrow union": (2, _narrow_union),
    "swap array and map": (1, _swap_array_and_map),
    "add enum symbol": (2, _add_enum_symbol),
    "remove enum symbol": (2, lambda rng, walk: _remove_enum_symbol(rng, walk, with_default=False)),
    "remove enum symbol with default": (2, lambda rng, walk: _remove_enum_symbol(rng, walk, with_default=True)),
    "add enum default": (2, _add_enum_default),
    "change fixed size": (2, _change_fixed_size),
    "rename named type without alias": (1, lambda rng, walk: _rename_named(rng, walk, "without alias")),
    "rename named type with full-name alias": (2, lambda rng, walk: _rename_named(rng, walk, "with full-name alias")),
    "rename named type with short alias": (2, lambda rng, walk: _rename_named(rng, walk, "with short alias")),
    "rename named type across namespaces": (
        1,
        lambda rng, walk: _rename_named(rng, walk, "with short alias and a new namespace"),
    ),
    "change namespace": (2, _change_namespace),
}
