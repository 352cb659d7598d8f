"""`bot.py serve`: run the bot until a signal, then stop in order (listeners, workers, database)."""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from waitress import create_server
from waitress.server import BaseWSGIServer, MultiSocketServer

from app.http import MAX_BODY, wsgi_app
from app.lifecycle import Shutdown, SlackRejected, until_reachable, wait_for_stop
from app.socket_mode import SocketModeHandler
from app.wiring import Runtime, build, start_background
from config import Settings

log = logging.getLogger("iam_warden")

# How long a stop waits for the poster's current post (Docker's grace period is 10 s) and for the event source,
# whose wait is mostly an SQS long poll or a sleep: what it has not finished is received again after a restart.
STOP_SECONDS = {"poster": 8.0}
SOURCE_STOP_SECONDS = 2.0
# The whole stop, from the signal: the process exits by then even if a thread will not end (Docker waits 10 s).
STOP_DEADLINE = 9.0


def serve(settings: Settings) -> int:
    """Run the bot until SIGTERM or SIGINT, then stop cleanly and return 0.

    Slack unreachable at start-up is waited out (one line per attempt, capped exponential backoff); a token Slack
    rejects returns 2 at once. Whatever ends the run, one shutdown closes everything once: Socket Mode with a Close
    frame, the servers, the scheduler; then the poster may finish its current post and the event source its batch.
    """
    shutdown = Shutdown(deadline=STOP_DEADLINE)
    shutdown.install_signals()
    # `kill -USR1` prints every thread's stack to stderr (a stuck stop can then be seen, not guessed).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        rt = build(settings)
    except KeyboardInterrupt:
        return 0
    closers: list[Callable[[], None]] = []  # the listeners, closed first so no new work comes in

    def stop_taking_work() -> None:
        rt.stop.set()
        rt.poster.wake()
        for close in closers:
            close()
        for hook in rt.stop_hooks:
            hook()

    def finish_work() -> None:
        start = time.monotonic()
        for thread in rt.threads:
            limit = STOP_SECONDS.get(thread.name, SOURCE_STOP_SECONDS)
            thread.join(max(0.0, start + limit - time.monotonic()))
        busy = [thread.name for thread in rt.threads if thread.is_alive()]
        if busy:
            log.info("not waiting longer for %s (unfinished work is redone after a restart)", ", ".join(busy))

    shutdown.add("stopping the listeners", stop_taking_work)
    shutdown.add("waiting for the workers", finish_work)
    shutdown.add("closing the database", rt.store.close)
    try:
        return _serve(rt, closers)
    except KeyboardInterrupt:  # SIGINT or SIGTERM (see Shutdown.install_signals)
        return 0
    except SlackRejected as err:
        print(f"error: Slack rejected {err.token} ({err.error})", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. the port is taken
        print(f"error: cannot serve on port {settings.port}: {err.strerror or err}", file=sys.stderr)
        return 1
    finally:
        shutdown.run()
        log.info("stopped")


def _serve(rt: Runtime, closers: list[Callable[[], None]]) -> int:
    settings = rt.settings
    who = until_reachable(startup_probe(settings).auth_test, "auth.test", rt.stop)
    if who is None:
        return 0
    routes = ", ".join(str(route) for route in settings.routes) or "none"
    team, user = who.get("team"), who.get("user")
    log.info("connected to Slack team %s as %s; alerts go to %s (routes: %s)", team, user, settings.channel, routes)
    start_background(rt)
    if settings.socket_mode:
        handler = SocketModeHandler(rt.app, settings.app_token)
        closers.append(handler.close)
        try:
            until_reachable(handler.connect, "apps.connections.open", rt.stop)
        except SlackRejected as err:
            raise SlackRejected(err.error, "SLACK_APP_TOKEN") from None
        health = create_server(wsgi_app(rt, slack_events=False), host="0.0.0.0", port=settings.port)  # noqa: S104
        closers.append(health.close)
        threading.Thread(target=_run_until_closed, args=(health,), name="healthz", daemon=True).start()
        log.info("Socket Mode connected; GET /healthz on port %s", settings.port)
        wait_for_stop(rt.stop)
        return 0
    server = create_server(
        wsgi_app(rt),
        host="0.0.0.0",  # noqa: S104
        port=settings.port,
        threads=16,
        max_request_body_size=MAX_BODY,  # waitress' own cap too, so no body past it is even buffered
    )
    closers.append(server.close)
    log.info("listening on port %s (POST /slack/events, GET /healthz, GET /metrics)", settings.port)
    server.run()  # returns when a signal's KeyboardInterrupt stops it, after its in-flight requests
    return 0


def startup_probe(settings: Settings) -> WebClient:
    """A Slack client for the start-up check: one try per call and silent, as the retry loop logs each failure."""
    quiet = logging.Logger("iam_warden.startup", level=logging.CRITICAL)  # not registered: no handlers, no output
    return WebClient(token=settings.bot_token, base_url=settings.slack_api_url, timeout=10, logger=quiet)


def _run_until_closed(server: BaseWSGIServer | MultiSocketServer) -> None:
    """Run a waitress server in a thread until another thread closes its socket (which ends the loop with EBADF)."""
    with contextlib.suppress(OSError, ValueError):
        server.run()
