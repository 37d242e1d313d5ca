"""Errors raised by the pure Avro schema layer.

ValueError
└── InvalidSchemaError      the schema text is not JSON, or not a valid Avro schema
"""


class InvalidSchemaError(ValueError):
    """The schema text cannot be parsed; the message starts with a JSON-pointer-like path to the problem.

    `path` is None when the problem is the text itself (not JSON); "" (the root) is shown as "/".
    """

    def __init__(self, problem: str, path: str | None = None) -> None:
        self.problem = problem
        self.path = None if path is None else path or "/"
        super().__init__(problem if self.path is None else f"{self.path}: {problem}")
