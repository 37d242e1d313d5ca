"""Bounds on the collections of request models (HTTP bodies, stream specs), so their size is refused
before their items are validated.

pydantic validates every item of a list or dict and reports each wrong one: a body of a few MB holding
two million wrong items cost the hub 20 s and 2 GB of memory in error reports alone. A list's
`max_length` stops validation at once (and documents `maxItems`); a dict's `max_length` is checked only
after every entry was validated, so dicts take `at_most` instead.
"""

from pydantic import BeforeValidator


def at_most(items: int) -> BeforeValidator:
    """`Annotated` metadata refusing a dict (or list) of more than `items` entries, before any entry is
    validated."""

    def refuse_more(value: object) -> object:
        if isinstance(value, dict | list) and len(value) > items:
            raise ValueError(f"at most {items} entries are allowed, not {len(value)}")
        return value

    return BeforeValidator(refuse_more)
