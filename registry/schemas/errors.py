"""Errors raised by the pure Avro schema layer.

ValueError
├── JsonTooDeepError                JSON text nests deeper than `json_text.MAX_JSON_DEPTH`
└── InvalidSchemaError              the schema text is not JSON, or not a valid Avro schema
    ├── SchemaJsonTooDeepError      its JSON nests deeper than `json_text.MAX_JSON_DEPTH`
    └── SchemaNestingTooDeepError   its types nest deeper than `parse.MAX_AVRO_NESTING`
"""


class JsonTooDeepError(ValueError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"JSON arrays and objects nest deeper than {limit} levels, the limit")


class InvalidSchemaError(ValueError):
    """The schema text cannot be parsed; the message starts with a JSON-pointer-like path to the problem.

    `path` is None when the problem is the text itself (not JSON); "" (the root) is shown as "/".
    """

    def __init__(self, problem: str, path: str | None = None) -> None:
        self.problem = problem
        self.path = None if path is None else path or "/"
        super().__init__(problem if self.path is None else f"{self.path}: {problem}")


class SchemaJsonTooDeepError(InvalidSchemaError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"schema text nests JSON arrays and objects deeper than {limit} levels, the limit")


class SchemaNestingTooDeepError(InvalidSchemaError):
    """Types inside types (records, arrays, maps, unions), references to named types followed."""

    def __init__(self, limit: int, path: str) -> None:
        self.limit = limit
        super().__init__(f"types nest deeper than {limit} levels, the limit (named types count where used)", path)
