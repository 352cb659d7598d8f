"""An IAM user was created."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Memory, Remediation, Rule, RuleContext
from detections.example_records import ACCOUNT, iam_call, role_session, root, user_id
from detections.references import aws_api, panther

if TYPE_CHECKING:
    from core.rows import AlertRow


def user_key(account: str, user_name: str) -> str:
    """The key CREATED_USERS files a user under (IAM user names hold no colon)."""
    return f"{account}:{user_name}"


def _created_name(record: dict) -> str | None:
    created = ct.response(record).get("user")
    created = created if isinstance(created, dict) else {}
    name = created.get("userName") or ct.request(record).get("userName")
    return name if isinstance(name, str) and name else None


def _created_key(record: dict) -> str | None:
    name = _created_name(record)
    return user_key(ct.account_id(record), name) if name else None


def _alert_key(alert: AlertRow) -> str | None:
    name = (alert.target or "").rsplit("/", 1)[-1]  # the user ARN's last part, after any path
    return user_key(alert.account or "", name) if name else None


# The CreateUser events this rule alerted on, by account and user name, for the correlation window (read by
# privileged_user_created); the value is the CreateUser's event id.
CREATED_USERS = Memory(name="created_users", key=_created_key, on_match=True, from_alert=_alert_key)


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A CreateUser that succeeded."""
    if ct.failed(record):
        return None
    created = ct.response(record).get("user")
    created = created if isinstance(created, dict) else {}
    name = _created_name(record)
    if name is None:
        return None
    arn = created.get("arn") if isinstance(created.get("arn"), str) else None
    target = arn or ct.iam_arn(ct.account_id(record), "user", name)
    facts = {"User": name}
    path = created.get("path") or ct.request(record).get("path")
    if isinstance(path, str) and path != "/":
        facts["Path"] = path
    return Match(title=f"IAM user {name} created", target=target, facts=facts, remediation=Remediation(key_user=name))


def _created(name: str, path: str = "/") -> dict:
    return {
        "user": {
            "path": path,
            "userName": name,
            "userId": user_id(name),
            "arn": f"arn:aws:iam::{ACCOUNT}:user{path}{name}",
            "createDate": "May 14, 2024, 9:12:45 AM",
        }
    }


RULE = Rule(
    id="user_created",
    severity=Severity.MEDIUM,
    title="IAM user created",
    rationale=(
        "IAM users carry long-lived passwords and access keys, so each new one is a credential that can leak "
        "and that outlives whoever created it. Where people sign in through SSO, a new user is unusual and a "
        "common way to keep access after a compromise."
    ),
    response=(
        "Confirm the user was requested and has an owner. If not, disable its keys (button), delete it, and "
        "check what the caller did around the same time."
    ),
    event_names=frozenset({"CreateUser"}),
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    remembers=(CREATED_USERS,),
    reports={"MITRE ATT&CK": ("T1136.003",)},
    references=(
        aws_api("iam.amazonaws.com", "CreateUser"),
        panther("aws_iam_create_user"),
    ),
    examples=(
        Example(
            "user created with the CLI",
            iam_call(
                "CreateUser",
                {"userName": "svc-backup2"},
                _created("svc-backup2"),
                event_id="26e90e8e-7f98-4a96-b280-87463aa64aaa",
            ),
            expect=True,
        ),
        Example(
            "user with a path created by an SSO administrator",
            iam_call(
                "CreateUser",
                {"userName": "partner-sync", "path": "/integrations/"},
                _created("partner-sync", "/integrations/"),
                event_id="aacf3c64-da97-45d2-9401-54a44605f297",
                actor=role_session("AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b", "carol@example.com"),
            ),
            expect=True,
        ),
        Example(
            "user created by root from the console",
            iam_call(
                "CreateUser",
                {"userName": "ops"},
                _created("ops"),
                event_id="c6066011-036d-4f3a-9d6a-f39d901c1cf2",
                actor=root(),
                user_agent="AWS Internal",
            ),
            expect=True,
        ),
        Example(
            "user name already taken",
            iam_call(
                "CreateUser",
                {"userName": "bob"},
                None,
                event_id="c2d7428d-8066-4e77-8e7d-81aa03bda429",
                error="EntityAlreadyExistsException",
            ),
            expect=False,
        ),
        Example(
            "caller not allowed to create users",
            iam_call(
                "CreateUser",
                {"userName": "shadow-admin"},
                None,
                event_id="89d7f5dc-a80d-4d21-9425-33908dd32524",
                error="AccessDenied",
            ),
            expect=False,
        ),
    ),
)
