"""The reader/writer checker against every case of the shared Avro conformance file (from apache/avro's tests)."""

import json
from pathlib import Path
from typing import Any

import pytest

from headwater.registry.schemas import check_reader_writer, parse_schema

# The repository root's parent holds shared/, both on these machines and in CI.
CONFORMANCE_FILE = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "avro-compat.jsonl"
EXPECTED_CASE_COUNT = 156


def _load_cases() -> list[dict[str, Any]]:
    if not CONFORMANCE_FILE.is_file():
        # Raised at collection on purpose: a missing file must fail the run, not skip the cases.
        raise FileNotFoundError(f"Avro conformance file missing: {CONFORMANCE_FILE}")
    lines = CONFORMANCE_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


CASES = _load_cases()


def test_conformance_file_holds_every_expected_case() -> None:
    assert len(CASES) == EXPECTED_CASE_COUNT
    assert len({case["id"] for case in CASES}) == EXPECTED_CASE_COUNT


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_checker_verdict_matches_the_conformance_case(case: dict[str, Any]) -> None:
    reader = parse_schema(json.dumps(case["reader"]))
    writer = parse_schema(json.dumps(case["writer"]))

    incompatibilities = check_reader_writer(reader, writer)

    assert (len(incompatibilities) == 0) == case["compatible"], [str(problem) for problem in incompatibilities]
