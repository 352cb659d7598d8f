"""A progress bar on stderr that log lines never break: each log record clears the bar, prints, and redraws it."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

WIDTH = 30


class ProgressBar:
    """`update(what, done, total)` redraws one line in place; `clear()` wipes it for other output."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self._line = ""
        self._lock = threading.RLock()

    def update(self, what: str, done: int, total: int, fraction: float | None = None, note: str = "") -> None:
        """Show `done` of `total` (the bar filled to `fraction`, done/total by default) and a note; the line ends
        when done reaches total."""
        if fraction is None:
            fraction = done / total if total else 1.0
        filled = int(WIDTH * min(1.0, fraction))
        with self._lock:
            self._line = f"{what}: [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}" + (
                f" {note}" if note else ""
            )
            self.stream.write("\r\033[K" + self._line if self.stream.isatty() else "\r" + self._line)
            if done >= total:
                self.stream.write("\n")
                self._line = ""
            self.stream.flush()

    def clear(self) -> None:
        """Wipe the bar's line (on a terminal) or end it (elsewhere) so the next output starts a fresh line."""
        with self._lock:
            if self._line:
                self.stream.write("\r\033[K" if self.stream.isatty() else "\n")
                self.stream.flush()

    def redraw(self) -> None:
        """Draw the bar again after other output."""
        with self._lock:
            if self._line:
                self.stream.write(self._line if self.stream.isatty() else "\r" + self._line)
                self.stream.flush()


class _AroundBar(logging.Handler):
    """Hands each record to the wrapped handler with the bar out of its way."""

    def __init__(self, inner: logging.Handler, bar: ProgressBar) -> None:
        super().__init__(inner.level)
        self.inner, self.bar = inner, bar

    def emit(self, record: logging.LogRecord) -> None:
        with self.bar._lock:
            self.bar.clear()
            self.inner.handle(record)
            self.bar.redraw()


@contextmanager
def logging_around(bar: ProgressBar) -> Iterator[ProgressBar]:
    """While inside, every root log handler writes around `bar`."""
    root = logging.getLogger()
    originals = list(root.handlers)
    root.handlers = [_AroundBar(h, bar) for h in originals]
    try:
        yield bar
    finally:
        root.handlers = originals
        bar.clear()
