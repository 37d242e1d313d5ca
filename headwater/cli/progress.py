from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console


@contextmanager
def steps(console: Console, title: str) -> Iterator[Callable[[str], None]]:
    """A spinner for long work; each reported step is also printed, so the run leaves a trace."""
    with console.status(title) as status:

        def report(step: str) -> None:
            console.print(f"[dim]•[/] {step}", highlight=False)
            status.update(step)

        yield report
