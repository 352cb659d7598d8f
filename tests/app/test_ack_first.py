"""The work after an ack waits for the Slack requests being answered, never longer than its bound."""

from __future__ import annotations

import threading
import time

from app.ack_first import AckFirstExecutor, Acks
from tests.handlers.test_buttons import posted_alert


def test_work_waits_while_a_request_is_answered_and_starts_when_it_is():
    acks = Acks()
    pool = AckFirstExecutor(acks, max_wait=5.0)
    started = threading.Event()
    try:
        with acks.answering():
            future = pool.submit(started.set)
            assert not started.wait(0.3), "work started while a request was still being answered"
            assert acks.in_flight == 1
        assert started.wait(2.0), "work did not start once the request was answered"
        future.result(timeout=1)
    finally:
        pool.shutdown(wait=True)
    assert acks.in_flight == 0


def test_work_starts_at_once_when_no_request_is_answered():
    pool = AckFirstExecutor(Acks(), max_wait=5.0)
    try:
        began = time.monotonic()
        assert pool.submit(lambda x: x * 2, 21).result(timeout=2) == 42
        assert time.monotonic() - began < 1.0
    finally:
        pool.shutdown(wait=True)


def test_steady_requests_delay_work_by_max_wait_at_most():
    acks = Acks()
    pool = AckFirstExecutor(acks, max_wait=0.2)
    try:
        with acks.answering():  # a request that never ends: the work goes ahead after max_wait
            began = time.monotonic()
            pool.submit(lambda: None).result(timeout=3)
            waited = time.monotonic() - began
        assert 0.15 <= waited < 2.0, waited
    finally:
        pool.shutdown(wait=True)


def test_a_click_is_acked_at_once_and_its_work_waits_for_the_other_answers(make_bot, aws):
    """Over signed HTTP: while another Slack request is being answered, a click gets its 200 at once but its work
    (acknowledging, redrawing the message) waits; it runs as soon as that answer is sent."""
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    updates = len(bot.fake.calls_of("chat.update"))
    with bot.rt.acks.answering():  # another request being answered, as when a team clicks together
        assert bot.click(alert, "iam_ack", "U0ADMIN1").status == 200
        time.sleep(0.15)
        assert bot.store.alert(alert.id).status == "open"
        assert len(bot.fake.calls_of("chat.update")) == updates
    assert bot.fake.wait_for(lambda: bot.store.alert(alert.id).status == "acknowledged")
    assert bot.fake.wait_for(lambda: len(bot.fake.calls_of("chat.update")) > updates)


def test_a_click_answered_alone_does_its_work_without_waiting(make_bot, aws):
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    began = time.monotonic()
    assert bot.click(alert, "iam_ack", "U0ADMIN1").status == 200
    assert bot.fake.wait_for(lambda: bot.store.alert(alert.id).status == "acknowledged", timeout=5)
    assert bot.rt.acks.in_flight == 0
    assert time.monotonic() - began < 5
