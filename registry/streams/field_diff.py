"""Field-level differences between two versions of a schema."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from headwater.policies import SchemaField, SchemaTree


@dataclass(frozen=True)
class FieldChange:
    path: str
    change: str
    """`added`, `removed` or `changed`."""
    before: dict[str, object] | None
    after: dict[str, object] | None


def field_diff(before: SchemaTree, after: SchemaTree) -> list[FieldChange]:
    """Every field added, removed or changed (type, doc, tags, default, nullability), in path order."""
    old = {field.path: field for field in before.fields}
    new = {field.path: field for field in after.fields}
    changes: list[FieldChange] = []
    for path in sorted(old.keys() | new.keys()):
        if path not in old:
            changes.append(FieldChange(path, "added", None, _view(new[path])))
        elif path not in new:
            changes.append(FieldChange(path, "removed", _view(old[path]), None))
        elif old[path] != new[path]:
            changes.append(FieldChange(path, "changed", _view(old[path]), _view(new[path])))
    return changes


def _view(field: SchemaField) -> dict[str, object]:
    view = asdict(field)
    view["tags"] = list(field.tags)
    return view
