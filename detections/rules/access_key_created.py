"""An access key was created for another user, or for root."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Remediation, Rule, RuleContext
from detections.example_records import access_key_id, iam_call, iam_user, role_session, root
from detections.references import aws_api, elastic, panther, sigma


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful CreateAccessKey where the key's owner is not the caller, or the caller is root."""
    if ct.failed(record):
        return None
    owner = ct.request(record).get("userName")
    owner = owner if isinstance(owner, str) and owner else None
    key = ct.response(record).get("accessKey")
    key_id = key.get("accessKeyId") if isinstance(key, dict) else None
    key_id = key_id if isinstance(key_id, str) and key_id else None
    account = ct.account_id(record)
    if owner is None:
        if not ct.is_root(record):
            return None
        return Match(
            title="Access key created for the root user",
            target=ct.actor_arn(record),
            facts={"Key owner": "root", "Access key": key_id or "unknown"},
        )
    if owner == ct.actor_user_name(record):
        return None
    return Match(
        title=f"Access key created for user {owner}",
        target=ct.iam_arn(account, "user", owner),
        facts={"Key owner": owner, "Access key": key_id or "unknown"},
        remediation=Remediation(key_user=owner, access_key_id=key_id),
    )


def _key(owner: str | None) -> dict:
    key = {
        "accessKeyId": access_key_id(f"new:{owner}"),
        "status": "Active",
        "createDate": "May 14, 2024, 9:12:45 AM",
    }
    return {"accessKey": key | ({"userName": owner} if owner else {})}


RULE = Rule(
    id="access_key_created",
    severity=Severity.HIGH,
    title="Access key created for another identity",
    rationale=(
        "Minting a key for someone else hands the caller that user's permissions, with a secret that works "
        "from anywhere and never expires on its own. A root access key is worse: it cannot be limited at all. "
        "People creating their own keys are not reported."
    ),
    response=(
        "Ask the caller and the key's owner whether the key was requested. If not, disable it with the button, "
        "then check the key's use in CloudTrail and the caller's other actions."
    ),
    event_names=frozenset({"CreateAccessKey"}),
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    reports={"CIS": ("1.4",), "MITRE ATT&CK": ("T1098.001",)},
    references=(
        aws_api("iam.amazonaws.com", "CreateAccessKey"),
        sigma("aws_iam_backdoor_users_keys"),
        panther("aws_iam_user_key_created"),
        elastic("persistence_iam_user_created_access_keys_for_another_user"),
    ),
    examples=(
        Example(
            "alice creates a key for bob",
            iam_call(
                "CreateAccessKey",
                {"userName": "bob"},
                _key("bob"),
                event_id="0fed10eb-a976-4714-9e7b-f2aae11252f4",
            ),
            expect=True,
        ),
        Example(
            "alice creates a key for alice-admin (a different user, despite the shared prefix)",
            iam_call(
                "CreateAccessKey",
                {"userName": "alice-admin"},
                _key("alice-admin"),
                event_id="fac0613c-e3ad-4d9a-9f5f-620f723d9c69",
            ),
            expect=True,
        ),
        Example(
            "role session creates a key for a user",
            iam_call(
                "CreateAccessKey",
                {"userName": "alice"},
                _key("alice"),
                event_id="386cc8b3-f9f4-4f29-b709-29bc7d860569",
                actor=role_session("OpsAdmin", "alice"),
            ),
            expect=True,
        ),
        Example(
            "root creates a root access key",
            iam_call(
                "CreateAccessKey",
                None,
                _key(None),
                event_id="2f5f3dd1-4770-4408-9dde-e1eed11060e1",
                actor=root(),
                user_agent="AWS Internal",
            ),
            expect=True,
        ),
        Example(
            "alice creates her own key, naming herself",
            iam_call(
                "CreateAccessKey",
                {"userName": "alice"},
                _key("alice"),
                event_id="bac7bdad-e41c-4bb1-83bf-17339eff55db",
            ),
            expect=False,
        ),
        Example(
            "alice creates her own key without naming a user",
            iam_call("CreateAccessKey", None, _key("alice"), event_id="c02354c7-c685-426a-874b-95fb5b81a0d7"),
            expect=False,
        ),
        Example(
            "user in a path creates their own key",
            iam_call(
                "CreateAccessKey",
                {"userName": "dana"},
                _key("dana"),
                event_id="21a956ac-a4bd-4a4d-82ff-f9e393140e79",
                actor=iam_user("dana", path="/engineering/"),
            ),
            expect=False,
        ),
        Example(
            "key for another user refused by the quota",
            iam_call(
                "CreateAccessKey",
                {"userName": "bob"},
                None,
                event_id="05c4b7a2-4a81-4349-aa00-08380f3bdbe8",
                error="LimitExceededException",
            ),
            expect=False,
        ),
    ),
)
