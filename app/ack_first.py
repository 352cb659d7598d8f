"""Acks before background work: the work after an ack waits while other Slack requests are being answered.

Slack waits 3 seconds for an ack; the work a button starts (store writes, rendering, chat.update) has no such
deadline. In one Python process they share one interpreter lock, so when a team clicks together, the work of the
first clicks would slow the acks of the next ones. `Acks` counts the Slack requests being answered;
`AckFirstExecutor` (Bolt's pool for lazy listeners) starts each piece of work only once none is, or after
`max_wait` seconds at most, so steady traffic delays work but never starves it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

# Longest a piece of work waits for the acks in flight: a burst of 20 clicks is answered in well under this.
MAX_WAIT = 0.25


class Acks:
    """How many Slack requests are being answered right now, and a way to wait until there are none."""

    def __init__(self) -> None:
        self._quiet = threading.Condition()
        self._answering = 0

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Count one request for as long as it is being answered."""
        with self._quiet:
            self._answering += 1
        try:
            yield
        finally:
            with self._quiet:
                self._answering -= 1
                if not self._answering:
                    self._quiet.notify_all()

    @property
    def in_flight(self) -> int:
        """The requests being answered now."""
        return self._answering

    def wait_quiet(self, timeout: float) -> bool:
        """Block until no request is being answered or `timeout` seconds pass; True if it became quiet."""
        with self._quiet:
            return self._quiet.wait_for(lambda: not self._answering, timeout)


class AckFirstExecutor(ThreadPoolExecutor):
    """A thread pool (as many threads as Bolt's own, 5) whose tasks start only when `acks` is quiet (or after
    `max_wait` seconds)."""

    def __init__(self, acks: Acks, max_workers: int = 5, max_wait: float = MAX_WAIT) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="after-ack")
        self.acks = acks
        self.max_wait = max_wait

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run `fn(*args, **kwargs)` on the pool once the acks in flight are sent."""
        return super().submit(self._after_acks, fn, args, kwargs)

    def _after_acks(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        self.acks.wait_quiet(self.max_wait)
        return fn(*args, **kwargs)
