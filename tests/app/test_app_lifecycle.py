"""One shutdown that runs once; which Slack failures are waited out and which stop the bot."""

from __future__ import annotations

import itertools
import logging
import signal
import socket
import threading
import time
import urllib.error

import pytest
from slack_sdk import WebClient

from app.lifecycle import Shutdown, SlackRejected, backoff, describe, transient, until_reachable, wait_for_stop
from tests.conftest import BOT_TOKEN


def test_shutdown_runs_its_steps_once_and_a_failing_step_does_not_stop_the_rest(caplog):
    ran: list[str] = []
    shutdown = Shutdown()
    shutdown.add("first", lambda: ran.append("first"))
    shutdown.add("broken", lambda: 1 / 0)
    shutdown.add("last", lambda: ran.append("last"))
    shutdown.run()
    shutdown.run()  # a second signal, KeyboardInterrupt or server error must not run anything twice
    assert ran == ["first", "last"] and shutdown.requested.is_set()
    assert "while stopping, broken failed: ZeroDivisionError" in caplog.text


def test_backoff_doubles_up_to_a_minute():
    assert list(itertools.islice(backoff(), 8)) == [1, 2, 4, 8, 16, 32, 60, 60]


def silent_server() -> socket.socket:
    """A loopback port that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    server.listen()
    return server


def test_network_failures_and_5xx_are_transient_and_a_refused_token_is_not(fake_slack):
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    fake_slack.fail_next("auth.test", error="service_unavailable", status=503)
    with pytest.raises(Exception) as unavailable:
        client.auth_test()
    assert transient(unavailable.value) and describe(unavailable.value) == "HTTP 503 service_unavailable"

    with pytest.raises(Exception) as refused:
        WebClient(token="xoxb-revoked", base_url=fake_slack.base_url).auth_test()
    assert not transient(refused.value)

    server = silent_server()
    try:
        with pytest.raises(Exception) as slow:
            WebClient(
                token=BOT_TOKEN, base_url=f"http://127.0.0.1:{server.getsockname()[1]}/api/", timeout=0.3
            ).auth_test()
    finally:
        server.close()
    assert transient(slow.value) and describe(slow.value) == "timed out"

    dns = urllib.error.URLError(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))  # as urllib raises
    assert transient(dns) and describe(dns) == "cannot resolve the host (Name or service not known)"


def test_until_reachable_logs_one_line_per_failure_and_returns_the_answer(caplog):
    answers = iter([ConnectionRefusedError(111, "Connection refused"), TimeoutError("timed out"), {"ok": True}])

    def call() -> dict:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with caplog.at_level(logging.INFO, logger="iam_warden"):
        assert until_reachable(call, "auth.test", threading.Event(), iter([0.01, 0.02])) == {"ok": True}
    assert [r.getMessage() for r in caplog.records] == [
        "Slack is unreachable for auth.test (connection refused); retrying in 0 s",
        "Slack is unreachable for auth.test (timed out); retrying in 0 s",
    ]


def test_until_reachable_gives_up_when_stopped_and_raises_on_a_refusal(fake_slack):
    stop = threading.Event()
    stop.set()
    assert until_reachable(lambda: 1 / 0, "auth.test", stop) is None
    client = WebClient(token="xoxb-revoked", base_url=fake_slack.base_url)
    with pytest.raises(SlackRejected) as rejected:
        until_reachable(client.auth_test, "auth.test", threading.Event())
    assert rejected.value.error == "invalid_auth" and rejected.value.token == "SLACK_BOT_TOKEN"


_STOPPING = """
import logging, sys, threading, time
sys.path.insert(0, {root!r})
from app.lifecycle import Shutdown
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
threading.Thread(target=threading.Event().wait, name="stuck-reader").start()  # not a daemon: exit would wait
shutdown = Shutdown(deadline=1.0)
shutdown.add("a step that never returns", threading.Event().wait if {stuck} else (lambda: None))
shutdown.run()
print("steps done", flush=True)
sys.exit(0) if not {stuck} else None
"""


@pytest.mark.parametrize("stuck", [True, False], ids=["stuck step", "stuck thread"])
def test_a_stop_that_overruns_its_deadline_exits_0_anyway(stuck):
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _STOPPING.format(root=root, stuck=stuck)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0 and time.monotonic() - started < 10
    assert "stopping took over 1 s; exiting now (still running: " in done.stderr
    assert "stuck-reader" in done.stderr and "Traceback" not in done.stderr
    assert ("steps done" in done.stdout) is (not stuck)


def test_a_stop_within_its_deadline_exits_at_once_and_says_nothing_of_it():
    # In a subprocess: the deadline's timer ends the process it runs in (pytest's, if run here).
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    script = (
        f"import sys; sys.path.insert(0, {root!r}); from app.lifecycle import Shutdown; "
        "s = Shutdown(deadline=5.0); s.add('quick', lambda: None); s.run(); print('steps done')"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and time.monotonic() - started < 4  # the daemon timer does not hold the exit
    assert "steps done" in done.stdout and "exiting now" not in done.stderr


def test_a_signal_taken_by_another_thread_still_reaches_the_waiting_main_thread():
    # The kernel may hand a process-directed SIGTERM to any thread; pthread_kill makes that deterministic. The
    # handler (run by the main thread) must interrupt the wait at once, not when something else sets the event.
    stop = threading.Event()
    fallback = threading.Timer(5.0, stop.set)  # a plain stop.wait() would only end here
    fallback.start()

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGUSR2, handler)

    def take_the_signal() -> None:  # in this thread, once the main thread waits
        time.sleep(0.3)
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR2)

    other = threading.Thread(target=take_the_signal)
    start = time.monotonic()
    try:
        other.start()
        with pytest.raises(KeyboardInterrupt):
            wait_for_stop(stop)
        assert time.monotonic() - start < 2.0
    finally:
        signal.signal(signal.SIGUSR2, previous)
        fallback.cancel()
        other.join()
