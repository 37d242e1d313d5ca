"""Compile a rule's CEL expression once, at load, and report problems at their line in the policy file."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cel_expr_python import cel

from headwater.policies.cel_context import CEL_ENVIRONMENT

# One compiler error: "<input>:LINE:COL: message", followed by the source line and a caret line.
_CEL_ERROR = re.compile(r"<input>:(\d+):(\d+): (.+)")


@dataclass(frozen=True)
class CelProblem:
    """A compile problem; `line` counts from the first line of the expression (1-based)."""

    line: int
    problem: str


def compile_expression(expression: str) -> cel.Expression | list[CelProblem]:
    """The compiled boolean expression, or every problem that prevents it."""
    try:
        # Trailing newlines of YAML block scalars would move "unexpected end" errors past the last line.
        compiled = CEL_ENVIRONMENT.compile(expression.rstrip())
    except RuntimeError as error:
        return _problems(str(error))
    return_type = compiled.return_type()
    if return_type != cel.Type.BOOL:
        # Spell types as CEL source does (int, list<string>); message types keep their full name.
        type_name = return_type.name() if return_type.is_message() else return_type.name().lower()
        return [CelProblem(1, f"CEL expression must return bool, not {type_name}")]
    return compiled


def _problems(text: str) -> list[CelProblem]:
    found = [
        CelProblem(int(match[1]), f"CEL {match[3].removesuffix(' [INVALID_ARGUMENT]')} (column {match[2]})")
        for match in _CEL_ERROR.finditer(text)
    ]
    return found or [CelProblem(1, f"CEL expression does not compile: {text}")]
