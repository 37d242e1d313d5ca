"""Parsing of the identifiers that appear in registry paths: subject names and version ids."""

import re
from typing import Literal

from headwater.registry.schema_registry_errors import InvalidSubjectError, InvalidVersionError

MAX_SUBJECT_LENGTH = 255
MAX_VERSION = 2**31 - 1
Latest = Literal["latest"]
# ASCII digits without a leading zero: `str.isdigit` and `int` also take `01`, `١` (Arabic-Indic one),
# and `isdigit` even `²`, so one version had several spellings (and `²` failed in `int`). Ten digits at
# most keeps `int` from reading thousands of them.
_VERSION_NUMBER = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)


def validate_subject(subject: str) -> str:
    if not subject:
        raise InvalidSubjectError(subject, "it is empty")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise InvalidSubjectError(subject[:40] + "...", f"it is longer than {MAX_SUBJECT_LENGTH} characters")
    if any(not character.isprintable() for character in subject):
        raise InvalidSubjectError(subject.encode("unicode_escape").decode(), "it contains control characters")
    return subject


def parse_version(text: str) -> int | Latest:
    """`latest` (or Confluent's alias -1), or a version number between 1 and 2^31-1."""
    if text == "latest" or text == "-1":
        return "latest"
    if _VERSION_NUMBER.fullmatch(text) and int(text) <= MAX_VERSION:
        return int(text)
    raise InvalidVersionError(text)
