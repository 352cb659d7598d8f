"""The HTTP surface: Slack signature verification, /healthz, and the /iam command."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.conftest import sign


def test_forged_signature_is_rejected_and_nothing_runs(make_bot, aws):
    bot = make_bot(session=aws)
    body_headers = sign("something else")  # a valid signature, but for another body
    reply = bot.command("status", headers=body_headers)
    assert reply.status == 401
    wrong_secret = bot.command("status", headers=sign("x", secret="not-the-secret"))
    assert wrong_secret.status == 401
    assert bot.fake.responses == []


def test_stale_timestamp_is_rejected(make_bot, aws):
    bot = make_bot(session=aws)
    from urllib.parse import urlencode

    body = urlencode({"command": "/iam", "text": "status", "user_id": "U0ADMIN1", "channel_id": "C0ALERTS"})
    stale = sign(body, timestamp=int(time.time()) - 6 * 60)
    from tests.conftest import post

    assert post(bot.url, body, stale, "application/x-www-form-urlencoded").status == 401
    assert post(bot.url, body, sign(body), "application/x-www-form-urlencoded").status == 200


def test_missing_signature_headers_are_rejected(make_bot, aws):
    bot = make_bot(session=aws)
    assert bot.command("help", headers={}).status == 401


def test_healthz_reports_store_counts(make_bot, aws):
    bot = make_bot(session=aws)
    url = bot.url.replace("/slack/events", "/healthz")
    with urllib.request.urlopen(url, timeout=5) as reply:
        body = json.loads(reply.read())
    assert reply.status == 200
    assert body == {"status": "ok", "open": 0, "acknowledged": 0, "unposted": 0, "dead_letters": 0}


def test_unknown_path_is_404(make_bot, aws):
    bot = make_bot(session=aws)
    url = bot.url.replace("/slack/events", "/admin")
    try:
        urllib.request.urlopen(url, timeout=5)
    except urllib.error.HTTPError as err:
        assert err.code == 404
    else:
        raise AssertionError("expected 404")


def test_iam_help_status_and_unknown_subcommand(make_bot, aws):
    bot = make_bot(session=aws)
    help_reply = bot.command("help")
    assert help_reply.status == 200 and "/iam status" in help_reply.json()["text"]
    status = bot.command("status").json()
    assert status["response_type"] == "ephemeral" and "open alerts: 0" in status["text"]
    unknown = bot.command("frobnicate").json()["text"]
    assert unknown.startswith("Unknown subcommand `frobnicate`") and "/iam help" in unknown
