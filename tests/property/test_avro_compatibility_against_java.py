"""Differential test: headwater's Avro reader/writer check against Apache Avro Java's `SchemaCompatibility`.

Confluent's and Karapace's registries decide compatibility with that Java check (see
shared/reference/schema-registry-api.md section 7), so it is the oracle: every generated pair must get the
same verdict from both, except the differences listed in `DELIBERATE_DIFFERENCES`, each of which names
the Confluent behaviour it follows. Run with `-s` to see the per-construct table.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import pytest

from headwater.registry.schemas import InvalidSchemaError, parse_schema
from headwater.registry.schemas.compatibility import check_reader_writer
from tests.property.avro_java import JavaVerdict, java_verdicts
from tests.property.avro_mutations import MUTATIONS, GeneratedPair, generate_pairs

SEEDS = (20240611, 7, 31, 1999, 42)
PAIRS_PER_SEED = 260
MINIMUM_VERDICT_SHARE = 0.30
# Enough pairs per mutation kind that a wrong rule shows up as more than a fluke.
MINIMUM_PAIRS_PER_MUTATION = 20
REPORTED_DISAGREEMENTS = 10


@dataclass(frozen=True)
class DeliberateDifference:
    """A known, intended disagreement: pairs with `construct` where a Java message matches the pattern."""

    construct: str
    java_message_pattern: str
    confluent_behaviour: str


# Ideally empty. Add an entry only with the Confluent Schema Registry behaviour that justifies it.
DELIBERATE_DIFFERENCES: tuple[DeliberateDifference, ...] = ()


@dataclass(frozen=True)
class PythonVerdict:
    compatible: bool | None
    incompatibilities: tuple[str, ...]
    error: str | None


@pytest.fixture(scope="module")
def generated_pairs() -> list[GeneratedPair]:
    return [pair for seed in SEEDS for pair in generate_pairs(seed, PAIRS_PER_SEED)]


@pytest.fixture(scope="module")
def java(generated_pairs: list[GeneratedPair]) -> dict[str, JavaVerdict]:
    # One JVM for every pair: the start-up costs more than checking all of them.
    return java_verdicts(generated_pairs)


@pytest.fixture(scope="module")
def python(generated_pairs: list[GeneratedPair]) -> dict[str, PythonVerdict]:
    return {pair.id: python_verdict(pair) for pair in generated_pairs}


def python_verdict(pair: GeneratedPair) -> PythonVerdict:
    try:
        reader, writer = parse_schema(pair.reader), parse_schema(pair.writer)
    except InvalidSchemaError as exc:
        # Java parsed both (asserted separately), so a refusal here is a disagreement, not a skip.
        return PythonVerdict(compatible=None, incompatibilities=(), error=str(exc))
    incompatibilities = check_reader_writer(reader, writer)
    return PythonVerdict(not incompatibilities, tuple(map(str, incompatibilities)), error=None)


def test_java_parses_and_checks_every_generated_pair(
    generated_pairs: list[GeneratedPair], java: dict[str, JavaVerdict]
) -> None:
    refused = [f"{pair.id}: {java[pair.id].error}" for pair in generated_pairs if java[pair.id].error]
    assert not refused, "the generator wrote pairs Java rejects (a generator bug):\n" + "\n".join(refused[:10])


def test_the_same_seed_generates_the_same_pairs() -> None:
    assert generate_pairs(SEEDS[0], 30) == generate_pairs(SEEDS[0], 30)


def test_there_are_at_least_1000_pairs_and_each_verdict_is_at_least_30_percent_of_them(
    generated_pairs: list[GeneratedPair], java: dict[str, JavaVerdict]
) -> None:
    compatible = sum(1 for pair in generated_pairs if java[pair.id].compatible)
    total = len(generated_pairs)
    assert total >= 1000
    assert compatible >= MINIMUM_VERDICT_SHARE * total, f"only {compatible} of {total} pairs are compatible"
    assert total - compatible >= MINIMUM_VERDICT_SHARE * total, f"only {total - compatible} of {total} incompatible"


def test_every_mutation_kind_is_applied_to_enough_pairs(generated_pairs: list[GeneratedPair]) -> None:
    counts = Counter(construct for pair in generated_pairs for construct in pair.constructs)
    rare = {name: counts[name] for name in MUTATIONS if counts[name] < MINIMUM_PAIRS_PER_MUTATION}
    assert not rare, f"mutation kinds applied to fewer than {MINIMUM_PAIRS_PER_MUTATION} pairs: {rare}"


def test_python_checker_agrees_with_java_on_every_generated_pair(
    generated_pairs: list[GeneratedPair], java: dict[str, JavaVerdict], python: dict[str, PythonVerdict]
) -> None:
    disagreeing = [pair for pair in generated_pairs if java[pair.id].compatible != python[pair.id].compatible]
    deliberate = {pair.id: _deliberate_difference(pair, java[pair.id]) for pair in disagreeing}
    print(_construct_table(generated_pairs, java, {pair.id for pair in disagreeing}))
    unexplained = [pair for pair in disagreeing if deliberate[pair.id] is None]
    assert not unexplained, f"{len(unexplained)} of {len(generated_pairs)} pairs disagree with Java:\n\n" + "\n\n".join(
        _describe(pair, java[pair.id], python[pair.id]) for pair in unexplained[:REPORTED_DISAGREEMENTS]
    )
    stale = [entry for entry in DELIBERATE_DIFFERENCES if entry not in deliberate.values()]
    assert not stale, f"deliberate differences no generated pair shows any more; remove them: {stale}"


def _deliberate_difference(pair: GeneratedPair, java: JavaVerdict) -> DeliberateDifference | None:
    for entry in DELIBERATE_DIFFERENCES:
        matches_message = any(re.search(entry.java_message_pattern, message) for message in java.messages)
        if entry.construct in pair.constructs and (matches_message or not java.messages):
            return entry
    return None


def _describe(pair: GeneratedPair, java: JavaVerdict, python: PythonVerdict) -> str:
    python_said = f"refused the schemas: {python.error}" if python.error else f"compatible={python.compatible}"
    return "\n".join(
        (
            f"{pair.id} ({', '.join(pair.constructs)})",
            f"  writer: {pair.writer}",
            f"  reader: {pair.reader}",
            f"  Java: compatible={java.compatible} {list(java.messages)}",
            f"  Python: {python_said} {list(python.incompatibilities)}",
        )
    )


def _construct_table(pairs: Iterable[GeneratedPair], java: dict[str, JavaVerdict], disagreeing: set[str]) -> str:
    """Counts per construct: a pair counts once under each mutation, place and detail it carries."""
    rows: dict[str, Counter[str]] = {}
    for pair in pairs:
        verdict = "compatible" if java[pair.id].compatible else "incompatible"
        for construct in ("all pairs", *pair.constructs):
            counts = rows.setdefault(construct, Counter())
            counts.update(["pairs", verdict, *(["disagreements"] if pair.id in disagreeing else [])])
    header = f"{'construct':<45} {'pairs':>6} {'compatible':>11} {'incompatible':>13} {'disagreements':>14}"
    lines = [header, "-" * len(header)]
    for construct in sorted(rows, key=_table_order):
        counts = rows[construct]
        lines.append(
            f"{construct:<45} {counts['pairs']:>6} {counts['compatible']:>11} "
            f"{counts['incompatible']:>13} {counts['disagreements']:>14}"
        )
    return "\n".join(("", *lines))


def _table_order(construct: str) -> tuple[int, str]:
    # Totals first, then mutation kinds, then where they landed, then details such as "int -> long".
    if construct == "all pairs":
        return 0, construct
    if construct in MUTATIONS:
        return 1, construct
    if construct == "top-level" or construct.startswith("inside "):
        return 2, construct
    return 3, construct
