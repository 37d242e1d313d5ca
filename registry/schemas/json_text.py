"""Limits on JSON text, shared by the schema parser and the hub's request-body check.

Nesting: Python's decoder recurses once per level and fails with RecursionError near the interpreter's
limit (about 1,000 levels, fewer deep inside a call stack), and so does much code walking a decoded
document. `decode_json` refuses documents nested deeper than `MAX_JSON_DEPTH`, whether the decoder gave
up on them or they decoded. Strings: decoded, they may hold what no database column can store: U+0000
(PostgreSQL text refuses it) and lone UTF-16 surrogates (`"\\ud800"` decodes to a code point UTF-8
cannot encode, so neither database nor a JSON answer can carry it).
"""

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Final

from .errors import JsonTooDeepError
from .types import JsonValue

MAX_JSON_DEPTH: Final = 256
"""Nested arrays and objects; deep enough for any Avro schema within `MAX_AVRO_NESTING`."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_REFUSED_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Lone surrogates, and Unicode's control characters (category Cc) but tab, line feed and carriage return."""


def decode_json(text: str | bytes, **hooks: Callable[[str], Any]) -> JsonValue:
    """`json.loads(text, **hooks)`, refusing arrays and objects nested deeper than `MAX_JSON_DEPTH`
    (JsonTooDeepError); what is not JSON raises as `json.loads` does."""
    try:
        value: JsonValue = json.loads(text, **hooks)
    except RecursionError:
        raise JsonTooDeepError(MAX_JSON_DEPTH) from None
    # Counting the opening brackets, strings' included, is quick and settles almost every document.
    if _openings(text) > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        raise JsonTooDeepError(MAX_JSON_DEPTH)
    return value


def _openings(text: str | bytes) -> int:
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


def _deeper_than(value: JsonValue, limit: int) -> bool:
    """Whether arrays and objects in `value` nest deeper than `limit`; a stack of iterators, not recursion."""
    stack: list[Iterator[JsonValue]] = [iter([value])]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, dict | list):
            if len(stack) > limit:  # the containers open around `item`, and the start
                return True
            stack.append(iter(item.values() if isinstance(item, dict) else item))
    return False


_END: Final = object()


def lone_surrogate_in(text: str) -> str | None:
    """The first lone surrogate in `text`, escaped for display (`\\ud800`), or None."""
    found = _LONE_SURROGATE.search(text)
    return None if found is None else _escaped(found.group())


def refused_character_in(text: str) -> str | None:
    """The first character of `text` no stored text may hold, described for a message (`a lone
    surrogate \\ud800`, `a control character \\x07`), or None. Tab, line feed and carriage return are
    ordinary text."""
    found = _REFUSED_CHARACTER.search(text)
    if found is None:
        return None
    character = found.group()
    if character == "\x00":
        return "a NUL character (U+0000)"
    kind = "a lone surrogate" if _LONE_SURROGATE.match(character) else "a control character"
    return f"{kind} {_escaped(character)}"


def printable(text: str) -> str:
    """`text` with lone surrogates and control characters escaped, fit for a message."""
    return _REFUSED_CHARACTER.sub(lambda found: _escaped(found.group()), text)


def first_string_problem(value: JsonValue, problem_of: Callable[[str], str | None]) -> tuple[str, str] | None:
    """The path (`/a/0/b`, `/` for the root) of the first string of a decoded JSON document, object keys
    included, for which `problem_of` names a problem, and that problem; or None.

    Walks with a stack of iterators, not recursion (the document may be as deep as `MAX_JSON_DEPTH`
    allows, and the caller deep already), and keeps only the path it is on: a few MB of small items
    must not turn into a path string each."""
    keys: list[str | int] = []  # of the containers on the stack, the root's ("") included
    stack: list[Iterator[tuple[str | int, JsonValue]]] = [iter([("", value)])]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            if keys:
                keys.pop()
            continue
        key, item = entry
        if isinstance(item, str) and (problem := problem_of(item)) is not None:
            return _path(*keys, key), problem
        if isinstance(item, dict):
            for name in item:
                if (problem := problem_of(name)) is not None:
                    return _path(*keys, key, name), problem
            keys.append(key)
            stack.append(iter(item.items()))
        elif isinstance(item, list):
            keys.append(key)
            stack.append(enumerate(item))
    return None


def _path(*keys: str | int) -> str:
    return "/".join(map(str, keys)) or "/"


def _escaped(character: str) -> str:
    return character.encode("unicode_escape").decode("ascii")
