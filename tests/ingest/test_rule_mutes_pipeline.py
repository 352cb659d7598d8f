"""The pipeline consults the rule mutes: a muted alert is stored with its event, marked with its mute, counted, and
never posted; a critical alert is never hidden by a mute for everyone; lifting a mute posts the next alert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from core.rule_mutes import MuteScope
from core.states import PostState
from delivery.poster import Poster
from detections import example_records
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store
from tests.conftest import BOT_TOKEN, CHANNEL
from tests.ingest.conftest import new_event_id

CFN = "IdentityCFNServiceRole"
ACCOUNT = example_records.ACCOUNT


@pytest.fixture
def wired(tmp_path, fake_slack) -> Iterator[tuple[Store, Pipeline, Poster]]:
    """A store file, the offline pipeline on it, and the real outbox posting to the Slack stand-in."""
    store = Store(tmp_path / "warden.db")
    poster = Poster(store, WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url), CHANNEL, min_interval=0.0)
    yield store, Pipeline(store, PipelineContext(store), on_alerts=poster.wake), poster
    store.close()


def create_user(name: str, actor: dict) -> dict:
    return example_records.iam_call(
        "CreateUser",
        {"userName": name},
        {"user": {"userName": name, "arn": example_records.user_arn(name), "path": "/"}},
        event_id=new_event_id(),
        actor=actor,
    )


def admin_grant(actor: dict) -> dict:
    request = {"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    return example_records.iam_call("AttachUserPolicy", request, event_id=new_event_id(), actor=actor)


def test_a_muted_alert_is_stored_and_counted_but_not_posted(wired, fake_slack):
    store, pipeline, poster = wired
    _, mute = store.add_rule_mute("user_created", MuteScope.ACTOR, f"arn:aws:iam::*:role/{CFN}", "CFN", "U1", 30)
    cfn = create_user("svc-a", example_records.role_session(CFN, "cfn-1"))
    other_session = create_user("svc-b", example_records.role_session(CFN, "cfn-2"))
    human = create_user("carol", example_records.iam_user("alice"))
    result = pipeline.process([cfn, other_session, human], "sqs:m1")

    assert len(result.alert_ids) == 3  # every alert is stored and returned, muted or not
    by_event = {a.event_id: a for a in store.alerts(rule="user_created")}
    for muted in (cfn, other_session):
        row = by_event[muted["eventID"]]
        assert (row.mute_id, row.post_state) == (mute.id, PostState.MUTED)
    assert by_event[human["eventID"]].mute_id is None
    assert store.seen_events([cfn["eventID"], other_session["eventID"]]) == {cfn["eventID"], other_session["eventID"]}

    assert poster.drain() == 1
    [posted] = fake_slack.channel_messages(CHANNEL)
    assert "carol" in posted["text"] and "svc-" not in str(fake_slack.channel_messages(CHANNEL))
    assert store.muted_alerts() == 2 and store.counts().unposted == 0


def test_a_critical_rule_is_not_hidden_by_a_mute_for_everyone(wired, fake_slack):
    store, pipeline, poster = wired
    # Made straight in the store (the command and the button refuse it), as if the rule had been high when muted.
    store.add_rule_mute("privileged_grant", MuteScope.ACTOR, "*", "everything", "U1", 30)
    store.add_rule_mute("privileged_grant", MuteScope.ACCOUNT, ACCOUNT, "everything here", "U1", 30)
    pipeline.process([admin_grant(example_records.iam_user("alice"))], "sqs:m1")
    [alert] = store.alerts(rule="privileged_grant")
    assert alert.severity == "critical" and alert.mute_id is None
    assert poster.drain() == 1 and len(fake_slack.channel_messages(CHANNEL)) == 1

    # A mute naming the actor does hide it: critical rules can be muted, only not for everyone.
    _, named = store.add_rule_mute("privileged_grant", MuteScope.ACTOR, example_records.user_arn("alice"), "r", "U1", 1)
    pipeline.process([admin_grant(example_records.iam_user("alice"))], "sqs:m2")
    assert [a.mute_id for a in store.alerts(rule="privileged_grant")] == [None, named.id]
    assert poster.drain() == 0


def root_list_buckets() -> dict:
    return example_records.event(
        "ListBuckets",
        "s3.amazonaws.com",
        event_id=new_event_id(),
        actor=example_records.root(console=False),
        request={"Host": "s3.amazonaws.com"},
    )


def test_an_alert_after_the_mute_is_lifted_is_posted_not_folded_into_a_muted_one(wired, fake_slack):
    store, pipeline, poster = wired  # root_activity folds repeats within 60 minutes into one alert
    root_arn = f"arn:aws:iam::{ACCOUNT}:root"
    _, mute = store.add_rule_mute("root_activity", MuteScope.ACTOR, root_arn, "break-glass drill", "U1", 1)
    pipeline.process([root_list_buckets()], "sqs:m1")
    pipeline.process([root_list_buckets()], "sqs:m2")  # folds into the muted alert
    store.remove_rule_mute(mute.id, "U2")
    pipeline.process([root_list_buckets()], "sqs:m3")  # within the window, but nobody saw the muted one
    assert [(a.mute_id, a.post_state, a.occurrences) for a in store.alerts(rule="root_activity")] == [
        (mute.id, PostState.MUTED, 2),
        (None, PostState.PENDING, 1),
    ]
    assert poster.drain() == 1 and len(fake_slack.channel_messages(CHANNEL)) == 1
