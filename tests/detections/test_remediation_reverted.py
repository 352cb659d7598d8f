"""remediation_reverted beyond its examples: what the bot undid learnt from its member-role session's calls and
from its real clients' User-Agent, and a fact from after an event (an old archive replayed) saying nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from aws.sessions import AwsSessions
from core.undone import Undone, UndoneKind
from detections import all_rules, facts_of_undone
from detections import example_records as s
from detections.rules import remediation_reverted as reverted
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store


def pipeline() -> Pipeline:
    store = Store(":memory:")
    return Pipeline(store, PipelineContext(store))


def inline(event_name: str, event_id: str, minute: int, actor: dict, **kwargs: object) -> dict:
    request = {"roleName": "ci-deployer", "policyName": "bootstrap"}
    if event_name == "PutRolePolicy":
        request["policyDocument"] = s.policy_json(s.READ_ONLY)
    return s.iam_call(
        event_name, request, event_id=event_id, actor=actor, time=f"2024-05-14T09:{minute:02d}:00Z", **kwargs
    )


def test_the_member_role_sessions_delete_then_a_put_back_alerts() -> None:
    bot = s.role_session("IAMWardenMember", "iam-warden")
    someone = s.role_session("OpsAdmin", "mallory")
    result = pipeline().process(
        [inline("DeleteRolePolicy", "rr-1", 0, bot), inline("PutRolePolicy", "rr-2", 5, someone)], "test"
    )
    assert [(a.rule, a.event_id) for a in result.alerts] == [("remediation_reverted", "rr-2")]
    assert result.alerts[0].remediation == {
        "principal_type": "role",
        "principal_name": "ci-deployer",
        "inline_policy_name": "bootstrap",
    }


def test_someone_elses_delete_then_put_back_does_not_alert() -> None:
    someone = s.role_session("OpsAdmin", "mallory")
    result = pipeline().process(
        [inline("DeleteRolePolicy", "rr-3", 0, someone), inline("PutRolePolicy", "rr-4", 5, someone)], "test"
    )
    assert result.alerts == []


def test_the_button_path_learns_what_was_undone_through_the_registry() -> None:
    undone = Undone(s.ACCOUNT, "user", "bob", UndoneKind.POLICY, s.ADMINISTRATOR_ACCESS)
    clicked = datetime(2024, 5, 14, 10, 0, tzinfo=UTC)
    learnt = facts_of_undone([undone], "action-1", 7, clicked)
    assert learnt == reverted.facts([undone], "action-1", 7, clicked) and len(learnt) == 1
    assert [r.id for r in all_rules() if r.learns_undone] == ["remediation_reverted"]
    assert facts_of_undone([], "action-2", 8) == []


def test_a_button_fact_from_after_the_event_says_nothing() -> None:
    store = Store(":memory:")
    undone = Undone(s.ACCOUNT, "user", "bob", UndoneKind.POLICY, s.ADMINISTRATOR_ACCESS)
    clicked = datetime(2024, 5, 14, 10, 0, tzinfo=UTC)
    store.store_batch([], [], memory=reverted.facts([undone], "action-1", 7, clicked))
    attach = {"userName": "bob", "policyArn": s.ADMINISTRATOR_ACCESS}
    before = s.iam_call("AttachUserPolicy", attach, event_id="rr-5", time="2024-05-14T09:00:00Z")
    after = s.iam_call("AttachUserPolicy", attach, event_id="rr-6", time="2024-05-14T10:30:00Z")
    result = Pipeline(store, PipelineContext(store)).process([before, after], "test")
    assert [(a.rule, a.event_id) for a in result.alerts] == [
        ("privileged_grant", "rr-5"),
        ("remediation_reverted", "rr-6"),
    ]


def test_the_bots_real_clients_carry_the_app_id_the_rule_knows(aws: boto3.Session) -> None:
    sts = AwsSessions(aws).client("sts")
    agents: list[str] = []
    sts.meta.events.register("before-send", lambda request, **_: agents.append(request.headers["User-Agent"].decode()))
    sts.get_caller_identity()
    bot_call = s.iam_call(
        "UpdateAccessKey",
        {"userName": "bob", "accessKeyId": s.access_key_id("bob"), "status": "Inactive"},
        event_id="rr-7",
        user_agent=agents[0],
    )
    assert reverted.UNDONE.key(bot_call) == f"{s.ACCOUNT}|user|bob|key|{s.access_key_id('bob')}"
    assert reverted.UNDONE.key(bot_call | {"userAgent": s.CLI_VERSION}) is None
