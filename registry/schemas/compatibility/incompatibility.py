"""One reason why a reader schema cannot read data written with a writer schema."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Incompatibility:
    """`path` points into the reader schema ("/" is its root, "/fields/amount" a field's type)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"
