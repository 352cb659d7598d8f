"""The HTTP surface (POST /slack/events, GET /healthz, GET /metrics) and the hardening of every Slack request."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from app.wiring import Runtime

log = logging.getLogger("iam_warden")

# The largest request Slack sends here is a button press, which echoes its message: the bot's own, at most 50
# blocks of 3,000 characters (slackui/blocks.py): 468 KB when every character is punctuation that URL-encodes to
# three bytes. 1 MiB keeps twice that margin; anything bigger is not from Slack and is refused unread.
MAX_BODY = 1024 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class Refused(Exception):
    """A request answered without reaching Bolt: the HTTP status and the cause (never the body)."""

    def __init__(self, status: str, cause: str) -> None:
        super().__init__(cause)
        self.status, self.cause = status, cause


def read_body(environ: WSGIEnvironment, limit: int = MAX_BODY) -> bytes:
    """The request body, refused (413) past `limit`: by Content-Length before reading, else read up to it."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if declared:
        if not declared.isascii() or not declared.isdigit():
            raise Refused("400 Bad Request", "a Content-Length that is not a number")
        if int(declared) > limit:
            raise Refused("413 Content Too Large", f"a body over {limit} bytes")
        return stream.read(int(declared)) if stream is not None and int(declared) else b""
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise Refused("413 Content Too Large", f"a body over {limit} bytes")
    return data


def check_slack_request(environ: WSGIEnvironment, body: bytes, verifier: SignatureVerifier) -> None:
    """Refuse a request Slack did not sign (401) or cannot have sent (400); parse it as Bolt will."""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not timestamp or not signature:
        raise Refused("401 Unauthorized", "no Slack signature headers")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Refused("400 Bad Request", "a Slack timestamp that is not a number")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("400 Bad Request", "a body that is not UTF-8") from None
    if not verifier.is_valid(text, timestamp, signature):
        raise Refused("401 Unauthorized", "a bad or expired Slack signature")
    try:
        parsed = parse_body(text, environ.get("CONTENT_TYPE"))
    except (ValueError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        raise Refused("400 Bad Request", "a signed body that is not a JSON object or form")
    problem = _shape_problem(parsed)
    if problem:
        raise Refused("400 Bad Request", f"a signed payload {problem}")


_LISTS_OF_OBJECTS = ("actions", "authorizations")
_OBJECTS = ("event", "view", "container", "message", "state")
_OBJECTS_OR_IDS = ("channel", "team", "user", "enterprise")


def _shape_problem(payload: dict) -> str | None:
    """Why `payload` cannot be one Slack sent, for the fields Bolt and the listeners index into; None if it can."""
    for key in _LISTS_OF_OBJECTS:
        value = payload.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return f"whose {key} is not a list of objects"
    for key in _OBJECTS:
        if not isinstance(payload.get(key), dict | None):
            return f"whose {key} is not an object"
    for key in _OBJECTS_OR_IDS:
        if not isinstance(payload.get(key), dict | str | None):
            return f"whose {key} is not an object or an id"
    user = payload.get("user")
    if "actions" in payload and not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        return "with buttons but no user who pressed them"
    if "command" in payload and not all(isinstance(v, str) for v in payload.values()):
        return "with a slash command field that is not text"
    return None


def wsgi_app(rt: Runtime, slack_events: bool = True) -> WSGIApplication:
    """The HTTP surface: POST /slack/events, GET /healthz and (unless IAMBOT_METRICS=off) GET /metrics.

    Every Slack request is size-limited, signature-checked and parsed here before Bolt sees it, so a hostile one
    costs one log line naming the cause (never the body, never a traceback). In Socket Mode Bolt does not verify
    signatures (Slack's socket is authenticated instead), so `slack_events=False` leaves only /healthz and /metrics
    on HTTP. /metrics needs no Slack signature (Prometheus cannot sign): it holds counts with bounded labels, no
    secret or alert text; the README asks that only the scraper may reach it.
    """
    slack = SlackRequestHandler(rt.app)
    verifier = SignatureVerifier(rt.settings.signing_secret) if slack_events else None

    def answer(start_response: StartResponse, status: str, body: bytes, kind: str = "text/plain") -> list[bytes]:
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    def slack_request(
        environ: WSGIEnvironment, start_response: StartResponse, verifier: SignatureVerifier
    ) -> Iterable[bytes]:
        try:
            raw = read_body(environ)
            check_slack_request(environ, raw, verifier)
        except Refused as refused:
            log.warning("refused a request to /slack/events: %s", refused.cause)
            return answer(start_response, refused.status, f"{refused.cause}\n".encode())
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
        try:
            return slack(environ, start_response)
        except Exception as err:  # Bolt choked on a signed payload's shape (listener errors never get here)
            log.warning("refused a request to /slack/events: Bolt could not read it (%s)", type(err).__name__)
            return answer(start_response, "400 Bad Request", b"malformed request\n")

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method == "GET":
            try:
                body, status = {"status": "ok", **asdict(rt.store.counts())}, "200 OK"
            except Exception as err:  # the database is gone: say so, don't crash the server
                body, status = {"status": "error", "error": type(err).__name__}, "503 Service Unavailable"
            return answer(start_response, status, json.dumps(body).encode(), "application/json")
        if path == "/metrics" and method == "GET" and rt.settings.metrics:
            body, kind = rt.metrics.exposition()
            return answer(start_response, "200 OK", body, kind)
        if verifier is not None and path == "/slack/events" and method == "POST":
            with rt.acks.answering():  # the work after other acks waits for this answer (app/ack_first.py)
                return slack_request(environ, start_response, verifier)
        return answer(start_response, "404 Not Found", b"not found\n")

    return application
