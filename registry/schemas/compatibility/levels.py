"""Compatibility levels and the checks each one asks for when registering a new schema version.

The meaning of the levels is Confluent's: `previous` is the subject's live versions, oldest first;
non-transitive levels check only the latest of them, transitive levels check every one, newest first.
BACKWARD: the new schema, as reader, reads data written with a previous one. FORWARD: a previous schema, as
reader, reads data written with the new one. FULL: both.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..avro import AvroSchema
from .incompatibility import Incompatibility
from .reader_writer import check_reader_writer

_INVALID_LEVEL_MESSAGE = (
    "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, "
    "forward_transitive, and full_transitive"
)


class CompatibilityLevel(StrEnum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @classmethod
    def parse(cls, value: str) -> "CompatibilityLevel":
        """The level named by `value` in any letter case; ValueError with Confluent's message otherwise."""
        try:
            return cls(value.upper())
        except ValueError:
            raise ValueError(_INVALID_LEVEL_MESSAGE) from None


class _Direction(StrEnum):
    BACKWARD = "backward"
    FORWARD = "forward"


@dataclass(frozen=True)
class _Rule:
    directions: tuple[_Direction, ...]
    transitive: bool


_RULES: dict[CompatibilityLevel, _Rule] = {
    CompatibilityLevel.NONE: _Rule((), transitive=False),
    CompatibilityLevel.BACKWARD: _Rule((_Direction.BACKWARD,), transitive=False),
    CompatibilityLevel.BACKWARD_TRANSITIVE: _Rule((_Direction.BACKWARD,), transitive=True),
    CompatibilityLevel.FORWARD: _Rule((_Direction.FORWARD,), transitive=False),
    CompatibilityLevel.FORWARD_TRANSITIVE: _Rule((_Direction.FORWARD,), transitive=True),
    CompatibilityLevel.FULL: _Rule((_Direction.BACKWARD, _Direction.FORWARD), transitive=False),
    CompatibilityLevel.FULL_TRANSITIVE: _Rule((_Direction.BACKWARD, _Direction.FORWARD), transitive=True),
}


def check_compatibility(
    level: CompatibilityLevel, new: AvroSchema, previous: Sequence[AvroSchema]
) -> list[Incompatibility]:
    """Every incompatibility `level` forbids between `new` and `previous` (oldest first); empty when none.

    Each message starts with the direction and the index in `previous` of the schema involved, e.g.
    "forward: previous[2] as reader of the new schema: ...". The path points into whichever schema was the
    reader: the new one for backward, the previous one for forward.
    """
    rule = _RULES[level]
    newest_first = list(reversed(list(enumerate(previous))))
    checked = newest_first if rule.transitive else newest_first[:1]
    return [
        incompatibility
        for index, previous_schema in checked
        for direction in rule.directions
        for incompatibility in _check_direction(direction, new, previous_schema, index)
    ]


def _check_direction(direction: _Direction, new: AvroSchema, previous: AvroSchema, index: int) -> list[Incompatibility]:
    if direction is _Direction.BACKWARD:
        problems = check_reader_writer(new, previous)
        prefix = f"backward: the new schema as reader of previous[{index}]"
    else:
        problems = check_reader_writer(previous, new)
        prefix = f"forward: previous[{index}] as reader of the new schema"
    return [Incompatibility(problem.path, f"{prefix}: {problem.message}") for problem in problems]
