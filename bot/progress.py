"""A one-line progress bar of `pystd check` on stderr: files done of the total, drawn only
when stderr is a terminal (a log file or a pipe gets nothing) and erased at the end, so the
report that follows reads as if it had never been there."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from pystd.bot import messages

_WIDTH = 24  # characters of the bar itself
_EVERY = 0.1  # seconds between two redraws (a redraw per file would cost on big trees)


class Progress:
    """Counts checked files; `advance` after each, `close` when done (or on error)."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.done = 0
        self.shown = False
        self.on = total > 0 and _is_terminal(self.stream)
        self._last = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.on:
            return
        now = time.monotonic()
        if self.done < self.total and now - self._last < _EVERY:
            return
        self._last = now
        self._draw()

    def _draw(self) -> None:
        filled = _WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write("\r" + messages.CLI_PROGRESS.format(
            bar=bar, done=self.done, total=self.total) + "\x1b[K")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """Erase the line, if one was drawn."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: no bar
        return False
