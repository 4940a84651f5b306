"""Progress display for long stages: a rich progress bar on a terminal, silence otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Progress:
    """Progress reporting that stages use without caring whether anyone is watching.

    Args:
        enabled: draw bars (the CLI sets this when stderr is a terminal or when asked).
    """

    def __init__(self, enabled: bool = False):
        self.enabled = enabled
        self._bar = None

    @contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        """A task to advance; yields `advance(n)`."""
        if not self.enabled:
            yield lambda n=1: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        with RichProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), transient=True) as bar:
            task_id = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task_id, n)
