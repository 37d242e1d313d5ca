"""The canonical text of a schema: its JSON re-serialised compactly with sorted keys.

Canonical text changes nothing the author wrote (every attribute, `{"type": "int"}` or `"int"`, namespace
keys, aliases as written), so it has exactly the meaning of the submitted text. Only whitespace and the
order of object keys, which JSON gives no meaning, are fixed; that makes it the identity under which a
schema gets its id. Compare `normalize`, which also rewrites equivalent spellings.
"""

import json

from .types import JsonValue


def canonical_text_of(raw: JsonValue) -> str:
    """Compact JSON with sorted keys; non-ASCII characters are kept as they are, not escaped."""
    return json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
