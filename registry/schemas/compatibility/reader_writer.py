"""Avro schema resolution: can a reader schema read everything written with a writer schema?

The verdict follows Apache Avro Java's `SchemaCompatibility.checkReaderWriterCompatibility` (1.12), the
oracle of the differential tests, step for step:
- named types match when their unqualified names are equal or a reader alias is the writer's full name;
  records then match field by field, enums need every writer symbol unless the reader enum has a default,
  fixed types need equal sizes;
- the reader may promote int to long/float/double, long to float/double, float to double, string to bytes
  and bytes to string; logical types are not compared;
- a writer union needs every branch readable; a reader union needs one branch able to read a non-union
  writer, tried in order;
- a reader field is matched to the writer field of its name or of one of its aliases; unmatched, it needs a
  default;
- results are memoised per (reader node, writer node) pair, and a pair met again while it is still being
  checked counts as compatible, which is how recursive types terminate.

Differences from Java, none of which changes a verdict on schemas both sides accept:
- every problem is reported with the path of the reader node it concerns, using field names, and a writer
  union's branches are reported under the reader's path;
- a reader field matching several writer fields (by name and aliases) is reported as an incompatibility,
  where Java throws an AvroRuntimeException;
- a reader field with neither a writer counterpart nor a default is reported as missing its default even
  when its type is an enum with a default, where Java reports an enum/record type mismatch.
"""

from dataclasses import dataclass
from itertools import chain

from ..avro import AvroSchema
from ..types import (
    Array,
    AvroType,
    Enum,
    Field,
    Fixed,
    Map,
    NamedType,
    Primitive,
    PrimitiveKind,
    Record,
    Union,
    describe_type,
    type_name_of,
)
from .incompatibility import Incompatibility

# For each reader primitive, the other writer primitives it can read (specification, "Schema Resolution").
_PROMOTIONS: dict[PrimitiveKind, frozenset[PrimitiveKind]] = {
    PrimitiveKind.LONG: frozenset({PrimitiveKind.INT}),
    PrimitiveKind.FLOAT: frozenset({PrimitiveKind.INT, PrimitiveKind.LONG}),
    PrimitiveKind.DOUBLE: frozenset({PrimitiveKind.INT, PrimitiveKind.LONG, PrimitiveKind.FLOAT}),
    PrimitiveKind.BYTES: frozenset({PrimitiveKind.STRING}),
    PrimitiveKind.STRING: frozenset({PrimitiveKind.BYTES}),
}


def check_reader_writer(reader: AvroSchema, writer: AvroSchema) -> list[Incompatibility]:
    """Every reason why `reader` cannot read data written with `writer`; empty when it can."""
    findings = _ReaderWriterChecker().check(reader.root, writer.root)
    return [Incompatibility("/" + "/".join(finding.segments), finding.message) for finding in findings]


@dataclass(frozen=True)
class _Finding:
    """An incompatibility whose path is relative to the reader node of the pair that found it, so that a
    memoised result can be reported under every path where its pair occurs."""

    segments: tuple[str, ...]
    message: str

    def under(self, *prefix: str) -> "_Finding":
        return _Finding(prefix + self.segments, self.message)


_Findings = tuple[_Finding, ...]


def _found(message: str) -> _Findings:
    return (_Finding((), message),)


class _ReaderWriterChecker:
    def __init__(self) -> None:
        # Keyed by node identity, as Java's ReaderWriter pair is: nodes are cyclic and compare by identity.
        # None marks a pair whose check is in progress.
        self._memo: dict[tuple[int, int], _Findings | None] = {}

    def check(self, reader: AvroType, writer: AvroType) -> _Findings:
        pair = (id(reader), id(writer))
        if pair in self._memo:
            # A pair met again while in progress is compatible unless proven otherwise elsewhere.
            return self._memo[pair] or ()
        self._memo[pair] = None
        findings = self._calculate(reader, writer)
        self._memo[pair] = findings
        return findings

    def _calculate(self, reader: AvroType, writer: AvroType) -> _Findings:
        if type_name_of(reader) == type_name_of(writer):
            return self._same_type(reader, writer)
        if isinstance(writer, Union):
            return tuple(chain.from_iterable(self.check(reader, branch) for branch in writer.branches))
        if isinstance(reader, Union):
            return self._reader_union(reader, writer)
        if isinstance(reader, Primitive) and isinstance(writer, Primitive):
            if writer.kind in _PROMOTIONS.get(reader.kind, frozenset()):
                return ()
        return _found(f"reader type {type_name_of(reader)} cannot read writer type {type_name_of(writer)}")

    def _same_type(self, reader: AvroType, writer: AvroType) -> _Findings:
        if isinstance(reader, Array) and isinstance(writer, Array):
            return tuple(finding.under("items") for finding in self.check(reader.items, writer.items))
        if isinstance(reader, Map) and isinstance(writer, Map):
            return tuple(finding.under("values") for finding in self.check(reader.values, writer.values))
        if isinstance(reader, Union) and isinstance(writer, Union):
            return self._both_unions(reader, writer)
        if isinstance(reader, Record) and isinstance(writer, Record):
            return _name_findings(reader, writer) + self._record_fields(reader, writer)
        if isinstance(reader, Enum) and isinstance(writer, Enum):
            return _name_findings(reader, writer) + _enum_symbol_findings(reader, writer)
        if isinstance(reader, Fixed) and isinstance(writer, Fixed):
            return _name_findings(reader, writer) + _fixed_size_findings(reader, writer)
        return ()  # the same primitive

    def _both_unions(self, reader: Union, writer: Union) -> _Findings:
        return tuple(
            _Finding(
                (), f"no branch of the reader union can read writer union branch {index} ({describe_type(branch)})"
            )
            for index, branch in enumerate(writer.branches)
            if self.check(reader, branch)
        )

    def _reader_union(self, reader: Union, writer: AvroType) -> _Findings:
        # Stop at the first branch that reads the writer, as Java does: later branches are never checked
        # (nor memoised), which matters for what a recursive check assumes.
        if any(not self.check(branch, writer) for branch in reader.branches):
            return ()
        return _found(f"no branch of the reader union can read writer type {describe_type(writer)}")

    def _record_fields(self, reader: Record, writer: Record) -> _Findings:
        writer_fields = {field.name: field for field in writer.fields}
        return tuple(
            finding.under("fields", field.name)
            for field in reader.fields
            for finding in self._reader_field(field, writer, writer_fields)
        )

    def _reader_field(self, field: Field, writer: Record, writer_fields: dict[str, Field]) -> _Findings:
        matches = [writer_fields[name] for name in (field.name, *field.aliases) if name in writer_fields]
        if len(matches) == 1:
            return self.check(field.type, matches[0].type)
        if matches:
            names = ", ".join(match.name for match in matches)
            return _found(f"reader field {field.name} matches several writer fields by name and alias: {names}")
        if field.default is None:
            return _found(
                f"reader field {field.name} has no default and writer record {writer.full_name} "
                "has no field of that name or alias"
            )
        return ()


def _name_findings(reader: NamedType, writer: NamedType) -> _Findings:
    if reader.name == writer.name or writer.full_name in reader.aliases:
        return ()
    kind = type_name_of(reader)
    return _found(
        f"reader {kind} {reader.full_name} cannot read writer {kind} {writer.full_name}: "
        "the names differ and no reader alias matches"
    )


def _enum_symbol_findings(reader: Enum, writer: Enum) -> _Findings:
    missing = sorted(set(writer.symbols) - set(reader.symbols))
    if not missing or reader.default is not None:
        return ()
    return _found(f"reader enum {reader.full_name} lacks writer symbols {', '.join(missing)} and has no default")


def _fixed_size_findings(reader: Fixed, writer: Fixed) -> _Findings:
    if reader.size == writer.size:
        return ()
    return _found(f"reader fixed {reader.full_name} has size {reader.size} but writer fixed has size {writer.size}")
