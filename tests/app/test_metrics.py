"""GET /metrics: what the owners count (pipeline, poster, remediation, audit), one registry per bot, no secrets."""

from __future__ import annotations

import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from detections import example_records as s
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.handlers.test_buttons import iam_user, posted_alert, wait_action


def scrape(bot) -> tuple[str, dict[tuple[str, tuple], float]]:
    """The /metrics text and its samples by (name, sorted labels)."""
    with urllib.request.urlopen(bot.url.replace("/slack/events", "/metrics"), timeout=5) as reply:
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain")
        text = reply.read().decode()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return text, samples


def create_user(name: str, n: int) -> dict:
    return s.iam_call("CreateUser", {"userName": name}, event_id=f"00000000-0000-4000-8000-{n:012d}")


def test_pipeline_and_poster_counts_reach_metrics(make_bot, aws):
    bot = make_bot(session=aws)
    result = bot.rt.pipeline.process([create_user("eve", 1), create_user("bob", 2), {"no": "id"}], "sqs:msg-1")
    assert len(result.alert_ids) == 2 and result.dead_letters == 1
    _, before = scrape(bot)
    assert before[("iam_warden_events_read_total", (("source", "sqs"),))] == 2
    assert before[("iam_warden_dead_letters_total", (("source", "sqs"),))] == 1
    assert before[("iam_warden_outbox_depth", ())] == 2
    assert before[("iam_warden_feed_lag_seconds", ())] > 0  # the example records are from the past
    assert bot.rt.poster.drain() == 2
    text, after = scrape(bot)
    assert after[("iam_warden_outbox_depth", ())] == 0
    severity = bot.store.alert(result.alert_ids[0]).severity
    assert after[("iam_warden_alerts_posted_total", (("severity", severity),))] == 2
    for secret in (BOT_TOKEN, SIGNING_SECRET, "user/eve", "arn:aws", "msg-1", s.ACCOUNT):  # no secret, ARN, message id
        assert secret not in text


def test_remediation_and_audit_are_counted_by_result_and_trigger(make_bot, aws):
    iam = aws.client("iam")
    iam_user(iam, "alice", admin=True)
    iam_user(iam, "bob", admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    assert [a.state for a in wait_action(bot, alert)] == ["done"]
    bot.rt.audits.run("cli")
    _, samples = scrape(bot)
    assert samples[("iam_warden_remediations_total", (("action", "iam_detach_policy"), ("result", "done")))] == 1
    assert samples[("iam_warden_alerts_posted_total", (("severity", "critical"),))] == 1
    assert samples[("iam_warden_audit_duration_seconds_count", (("trigger", "cli"),))] == 1


def test_each_bot_counts_in_its_own_registry(make_bot, aws):
    first, second = make_bot(session=aws), make_bot(session=aws)
    first.rt.pipeline.process([create_user("eve", 1)], "lookup:us-east-1")
    assert scrape(first)[1][("iam_warden_events_read_total", (("source", "lookup"),))] == 1
    assert ("iam_warden_events_read_total", (("source", "lookup"),)) not in scrape(second)[1]


def test_metrics_can_be_switched_off(make_bot, aws):
    bot = make_bot(session=aws, metrics=False)
    try:
        urllib.request.urlopen(bot.url.replace("/slack/events", "/metrics"), timeout=5)
    except urllib.error.HTTPError as err:
        assert err.code == 404
    else:
        raise AssertionError("expected 404")
