"""Starting and stopping the bot: one idempotent shutdown, and waiting out a Slack that is briefly unreachable."""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import signal
import socket
import sys
import threading
import urllib.error
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError

log = logging.getLogger("iam_warden")

T = TypeVar("T")

# Errors Slack answers with while it is having trouble, not because of anything the bot sent.
_SLACK_TROUBLE = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


class SlackRejected(Exception):
    """Slack answered and refused (a bad token or scope): no retry will help."""

    def __init__(self, error: str, token: str = "SLACK_BOT_TOKEN") -> None:  # noqa: S107 (a variable name)
        super().__init__(error)
        self.error = error
        self.token = token


class Shutdown:
    """The one way the bot stops: steps run once, in order, whatever asked first (a signal, Ctrl-C, an error).

    A failing step is logged in one line and the next still runs.
    """

    def __init__(self, deadline: float | None = None) -> None:
        self.requested = threading.Event()
        # Past this many seconds after the stop began, the process exits anyway (a supervisor kills it soon after:
        # Docker waits 10 s). Everything the bot stored is committed by then; a thread that will not end (a
        # WebSocket reader, a worker stuck in a call) must not turn a stop into a hang. It ends the process it runs
        # in, so only the real process's Shutdown has one (never a test runner's).
        self.deadline = deadline
        self._steps: list[tuple[str, Callable[[], None]]] = []
        self._lock = threading.Lock()
        self._done = False
        self._again: Callable[[int, Any], None] | None = None

    def add(self, name: str, step: Callable[[], None]) -> None:
        """Add a step (run after the ones added before it)."""
        self._steps.append((name, step))

    def run(self) -> None:
        """Run every step once; later calls return at once."""
        with self._lock:
            if self._done:
                return
            self._done = True
        self.requested.set()
        if self.deadline is not None:
            timer = threading.Timer(self.deadline, self._overrun)
            timer.daemon = True
            timer.start()
        if self._again and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):  # a signal now must not interrupt the steps
                signal.signal(sig, self._again)
        for name, step in self._steps:
            try:
                step()
            except Exception as err:  # stopping must go on: the rest still needs closing
                log.warning("while stopping, %s failed: %s: %s", name, type(err).__name__, err)

    def _overrun(self) -> None:
        busy = sorted(t.name for t in threading.enumerate() if t is not threading.current_thread() and t.is_alive())
        log.warning("stopping took over %.0f s; exiting now (still running: %s)", self.deadline, ", ".join(busy))
        with contextlib.suppress(Exception):  # not logging.shutdown(): a stuck thread may hold a handler's lock
            sys.stderr.flush()
        os._exit(0)

    def install_signals(self) -> None:
        """SIGTERM (docker stop) and SIGINT (Ctrl-C) both raise KeyboardInterrupt in the main thread, once.

        KeyboardInterrupt is what waitress's loop and blocking waits already stop on; a second signal while
        stopping is only logged, so it cannot interrupt the shutdown half-way.
        """

        def first(signum: int, _frame: object) -> None:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, again)
            log.info("%s received; stopping", signal.Signals(signum).name)
            self.requested.set()
            raise KeyboardInterrupt

        def again(signum: int, _frame: object) -> None:
            log.info("%s received; already stopping", signal.Signals(signum).name)

        self._again = again
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, first)


def wait_for_stop(stop: threading.Event, poll: float = 0.2) -> None:
    """Block the main thread until `stop` is set, still running signal handlers within `poll` seconds.

    A plain `stop.wait()` never wakes for a signal the kernel delivered to another thread (any thread may take a
    process-directed signal): the handler only runs once the main thread is back in Python, so SIGTERM was lost.
    """
    while not stop.wait(poll):
        pass


def backoff(first: float = 1.0, cap: float = 60.0) -> Iterator[float]:
    """Delays 1, 2, 4 … up to `cap` seconds, forever."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


def describe(err: BaseException) -> str:
    """A short reason for a failed call to Slack, e.g. 'connection refused' or 'HTTP 503'."""
    if isinstance(err, SlackApiError):
        status = getattr(err.response, "status_code", None)
        error = err.response.get("error") if isinstance(err.response.data, dict) else None
        return f"HTTP {status}" + (f" {error}" if error else "")
    reason: Any = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the host ({reason.strerror})"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__


def transient(err: BaseException) -> bool:
    """Whether a failed Slack call may work later (network trouble, 5xx, rate limit) rather than never."""
    if isinstance(err, SlackApiError):
        status = getattr(err.response, "status_code", 200) or 200
        error = err.response.get("error") if isinstance(err.response.data, dict) else None
        return status >= 500 or status == 429 or error in _SLACK_TROUBLE
    return isinstance(err, OSError | http.client.HTTPException)  # URLError, refused, reset, DNS, timeouts


def until_reachable(
    call: Callable[[], T], what: str, stop: threading.Event, delays: Iterator[float] | None = None
) -> T | None:
    """Call Slack until it answers: one log line per failed attempt, then a capped exponential wait.

    Returns the answer, or None when `stop` was set while waiting. Raises SlackRejected when Slack answers
    with a refusal that no retry fixes (e.g. invalid_auth).
    """
    delays = delays or backoff()
    while not stop.is_set():
        try:
            return call()
        except Exception as err:
            if not transient(err):
                if isinstance(err, SlackApiError):
                    raise SlackRejected(str(err.response.get("error"))) from None
                raise
            delay = next(delays)
            log.warning("Slack is unreachable for %s (%s); retrying in %.0f s", what, describe(err), delay)
            stop.wait(delay)
    return None
