"""Hostile requests to /slack/events: oversized, unsigned or malformed bodies get 413/401/400 and one log line."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import json
import logging
import time
from urllib.parse import urlencode, urlsplit

import pytest

from app.http import MAX_BODY, wsgi_app
from tests.conftest import SIGNING_SECRET, post, sign

FORM = "application/x-www-form-urlencoded"


def raw_post(url: str, body: bytes, headers: dict[str, str], chunked: bool = False) -> tuple[int, bytes]:
    """POST bytes with http.client (a chunked body has no Content-Length); returns status and reply body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        if chunked:
            chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
            conn.request("POST", parts.path, body=chunks, headers=headers, encode_chunked=True)
        else:
            conn.request("POST", parts.path, body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def sign_bytes(body: bytes, timestamp: str) -> dict[str, str]:
    """Slack's signature over raw bytes (the conftest helper signs text)."""
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    # waitress' "Task queue depth" note under a loaded machine is about the server, not the request
    return [r for r in caplog.records if r.levelno >= logging.WARNING and r.name != "waitress.queue"]


def assert_one_line_no_traceback(caplog: pytest.LogCaptureFixture, cause: str) -> None:
    assert all(r.exc_info is None for r in caplog.records), [r.getMessage() for r in caplog.records]
    assert "Traceback" not in caplog.text
    [line] = problems(caplog)
    assert line.name == "iam_warden" and cause in line.getMessage()


def test_oversized_bodies_are_refused_413(make_bot, aws, caplog):
    caplog.set_level(logging.INFO)
    bot = make_bot(session=aws)
    huge = "payload=" + "A" * (5 * 1024 * 1024)
    status, _ = raw_post(bot.url, huge.encode(), {"Content-Type": FORM, **sign("forged")})
    assert status == 413
    # Even correctly signed, a body over the limit is not Slack's and is not parsed.
    assert post(bot.url, huge, sign(huge), FORM).status == 413
    # Chunked, without Content-Length: the server de-chunks it, the limit still holds.
    status, _ = raw_post(bot.url, huge.encode(), {"Content-Type": FORM, **sign(huge)}, chunked=True)
    assert status == 413
    assert bot.fake.responses == [] and bot.fake.calls == []
    assert "A" * 100 not in caplog.text
    assert len(problems(caplog)) == 3 and all("over 1048576 bytes" in r.getMessage() for r in problems(caplog))
    # A body just under the limit, signed, is still served (the limit refuses only what Slack never sends).
    body = urlencode({"command": "/iam", "text": "help " + "x" * (MAX_BODY - 200), "user_id": "U0ADMIN1"})
    assert len(body) < MAX_BODY
    assert post(bot.url, body, sign(body), FORM).status == 200


class Stream:
    """A wsgi.input that counts what the application read."""

    def __init__(self, data: bytes) -> None:
        self.data, self.read_bytes = io.BytesIO(data), 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.data.read(size)
        self.read_bytes += len(chunk)
        return chunk


def call(app, environ: dict) -> str:
    seen: list[str] = []
    b"".join(app(environ, lambda status, headers: seen.append(status)))
    return seen[0]


def test_the_limit_holds_before_reading_and_without_content_length(make_bot, aws):
    bot = make_bot(session=aws)
    app = wsgi_app(bot.rt)
    base = {"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST", "SERVER_PROTOCOL": "HTTP/1.1"}
    declared = Stream(b"x" * 10)
    assert call(app, {**base, "CONTENT_LENGTH": str(5 * 1024 * 1024), "wsgi.input": declared}).startswith("413")
    assert declared.read_bytes == 0  # refused on the header alone
    endless = Stream(b"x" * (3 * MAX_BODY))
    assert call(app, {**base, "wsgi.input": endless}).startswith("413")
    assert endless.read_bytes == MAX_BODY + 1  # read up to the limit, not past it
    body = urlencode({"command": "/iam", "text": "help", "user_id": "U0ADMIN1", "channel_id": "C0ALERTS"})
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in sign(body).items()}
    small = {**base, "CONTENT_TYPE": FORM, "wsgi.input": Stream(body.encode()), **headers}
    assert call(app, small).startswith("200")  # a Slack-sized body without Content-Length is served


def signed_payload(text: str) -> str:
    return urlencode({"payload": text})


MALFORMED_SIGNED = {
    "timestamp abc": (b"command=%2Fiam&text=help", "abc", FORM, "timestamp that is not a number"),
    "payload not JSON": (signed_payload("{not json").encode(), None, FORM, "not a JSON object"),
    "payload a JSON list": (signed_payload("[1, 2]").encode(), None, FORM, "not a JSON object"),
    "JSON body a list": (b"[1, 2]", None, "application/json", "not a JSON object"),
    "JSON body not JSON": (b"{oops", None, "application/json", "not a JSON object"),
    "binary body": (bytes(range(256)) * 4, None, "application/octet-stream", "not UTF-8"),
    "deeply nested payload": (signed_payload("[" * 100_000).encode(), None, FORM, "not a JSON object"),
}


@pytest.mark.parametrize("case", MALFORMED_SIGNED, ids=list(MALFORMED_SIGNED))
def test_malformed_signed_requests_get_400_and_one_line(make_bot, aws, caplog, case):
    body, timestamp, content_type, cause = MALFORMED_SIGNED[case]
    bot = make_bot(session=aws)
    caplog.set_level(logging.DEBUG)
    status, reply = raw_post(
        bot.url, body, {"Content-Type": content_type, **sign_bytes(body, timestamp or str(int(time.time())))}
    )
    assert status == 400, reply
    assert_one_line_no_traceback(caplog, cause)
    assert bot.fake.calls == []


ADMIN = {"id": "U0ADMIN1"}
ODD_SHAPES = {
    "actions not a list": {"type": "block_actions", "actions": "x", "user": ADMIN},
    "actions of numbers": {"type": "block_actions", "actions": [1], "user": ADMIN},
    "button without user": {"type": "block_actions", "actions": [{"action_id": "iam_ack", "value": "1"}]},
    "user a string": {"type": "block_actions", "actions": [{"action_id": "iam_ack", "value": "1"}], "user": "U1"},
    "view a string": {"type": "view_submission", "view": "x", "user": ADMIN},
    "event a string": {"type": "event_callback", "event": "x"},
    "enterprise a number": {"team": "T1", "enterprise": 5},
    "authorizations a string": {"type": "event_callback", "event": {"type": "x"}, "authorizations": "x"},
    "command with a list": {"command": ["/iam"], "text": "help"},
    # shapes only Bolt's internals trip over: refused when Bolt raises, with the exception's type only
    "event subtype a number": {"type": "event_callback", "event": {"type": "message", "subtype": 5, "channel": 3}},
    "response_urls a string": {
        "type": "block_actions",
        "actions": [{"action_id": "iam_ack"}],
        "user": ADMIN,
        "response_urls": "x",
    },
    "view callback_id a list": {"type": "view_submission", "view": {"id": 5, "callback_id": ["x"]}, "user": ADMIN},
}


@pytest.mark.parametrize("case", ODD_SHAPES, ids=list(ODD_SHAPES))
def test_signed_payloads_of_the_wrong_shape_get_400_and_one_line(make_bot, aws, caplog, case):
    bot = make_bot(session=aws)
    caplog.set_level(logging.DEBUG)
    body = signed_payload(json.dumps(ODD_SHAPES[case]))
    status, reply = raw_post(bot.url, body.encode(), {"Content-Type": FORM, **sign(body)})
    assert status == 400, reply
    assert_one_line_no_traceback(caplog, "refused a request to /slack/events")
    assert [c.method for c in bot.fake.calls if c.method != "auth.test"] == []  # Bolt may ask who it is


def test_unsigned_requests_get_401_with_the_cause_and_no_body(make_bot, aws, caplog):
    bot = make_bot(session=aws)
    caplog.set_level(logging.DEBUG)
    body = urlencode({"payload": json.dumps({"type": "block_actions", "note": "marker-unsigned-text"})})
    assert post(bot.url, body, {}, FORM).status == 401
    assert post(bot.url, body, sign("another body"), FORM).status == 401
    assert post(bot.url, body, sign(body, timestamp=int(time.time()) - 600), FORM).status == 401
    causes = [r.getMessage() for r in problems(caplog)]
    assert causes == [
        "refused a request to /slack/events: no Slack signature headers",
        "refused a request to /slack/events: a bad or expired Slack signature",
        "refused a request to /slack/events: a bad or expired Slack signature",
    ]
    assert "marker-unsigned-text" not in caplog.text and "127.0.0.1" not in caplog.text
