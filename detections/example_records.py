"""Builders for realistic CloudTrail records, used by the rules' examples.

Every record has the fields CloudTrail writes for a management event; identifiers (principal ids,
access keys, request ids) are derived from names so examples stay short and deterministic. Values
use the documentation account 111122223333 and documentation IP ranges.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

ACCOUNT = "111122223333"
TIME = "2024-05-14T09:12:45Z"
IP = "198.51.100.23"
CLI_VERSION = "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1018-aws md/arch#x86_64 lang/python#3.11.8"
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15"
)

_ERROR_MESSAGES = {
    "AccessDenied": (
        "User: {actor} is not authorized to perform: {action} because no identity-based policy allows "
        "the {action} action"
    ),
    "NoSuchEntityException": "The user with name {name} cannot be found.",
    "EntityAlreadyExistsException": "User with name {name} already exists.",
    "LimitExceededException": "Cannot exceed quota for AccessKeysPerUser: 2",
    "DeleteConflictException": "MFA Device is in use.",
    "TrailNotFoundException": "Unknown trail: {name} for the user: 111122223333",
    "Throttling": "Rate exceeded",
}


def _token(prefix: str, seed: str, length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    digest = hashlib.sha256(seed.encode()).digest()
    return prefix + "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def user_id(name: str) -> str:
    """A stable IAM user id (AIDA…) for a user name."""
    return _token("AIDA", f"user:{name}", 17)


def access_key_id(owner: str, temporary: bool = False) -> str:
    """A stable access key id: AKIA… long-term, ASIA… for session credentials."""
    return _token("ASIA" if temporary else "AKIA", f"key:{owner}:{temporary}", 16)


def iam_user(name: str = "alice", *, console: bool = False, mfa: bool = False, path: str = "/") -> dict:
    """The userIdentity of an IAM user, signing with an access key or (console) a session."""
    ident: dict[str, Any] = {
        "type": "IAMUser",
        "principalId": user_id(name),
        "arn": f"arn:aws:iam::{ACCOUNT}:user{path}{name}",
        "accountId": ACCOUNT,
        "accessKeyId": access_key_id(name, temporary=console),
        "userName": name,
    }
    if console:
        ident["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": "2024-05-14T08:40:02Z", "mfaAuthenticated": str(mfa).lower()},
        }
    return ident


def role_session(role: str = "OpsAdmin", session: str = "alice@example.com", *, mfa: bool = False) -> dict:
    """The userIdentity of an assumed-role session (SSO, federation or sts:AssumeRole)."""
    role_id = _token("AROA", f"role:{role}", 17)
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": access_key_id(f"{role}/{session}", temporary=True),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": "2024-05-14T08:51:19Z", "mfaAuthenticated": str(mfa).lower()},
        },
    }


def root(*, console: bool = True, mfa: bool = False) -> dict:
    """The userIdentity of the account's root user (a console session unless `console` is False)."""
    ident: dict[str, Any] = {
        "type": "Root",
        "principalId": ACCOUNT,
        "arn": f"arn:aws:iam::{ACCOUNT}:root",
        "accountId": ACCOUNT,
        "accessKeyId": access_key_id("root", temporary=console),
    }
    if console:
        ident["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": "2024-05-14T09:01:33Z", "mfaAuthenticated": str(mfa).lower()},
        }
    return ident


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def event(
    event_name: str,
    source: str,
    *,
    event_id: str,
    actor: dict | None = None,
    request: dict | None = None,
    response: dict | None = None,
    error: str | None = None,
    time: str = TIME,
    ip: str = IP,
    user_agent: str | None = None,
    region: str = "us-east-1",
    read_only: bool = False,
    event_type: str = "AwsApiCall",
    **extra: Any,
) -> dict:
    """A management-event record as CloudTrail delivers it; `error` is an errorCode (the call failed)."""
    actor = actor if actor is not None else iam_user()
    service = source.split(".", 1)[0]
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": actor,
        "eventTime": time,
        "eventSource": source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": user_agent or f"{CLI_VERSION} prompt/off command/{service}.{_kebab(event_name)}",
    }
    if error:
        template = _ERROR_MESSAGES.get(error, "{action} failed")
        record["errorCode"] = error
        record["errorMessage"] = template.format(
            actor=actor.get("arn", ""),
            action=f"{service}:{event_name}",
            name=(request or {}).get("userName") or (request or {}).get("name") or "",
        )
    record |= {
        "requestParameters": request,
        "responseElements": None if error else response,
        "requestID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"request:{event_id}")),
        "eventID": event_id,
        "readOnly": read_only,
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": source,
        },
    }
    record |= extra
    return record


def iam_call(
    event_name: str,
    request: dict | None,
    response: dict | None = None,
    *,
    event_id: str,
    actor: dict | None = None,
    error: str | None = None,
    **kwargs: Any,
) -> dict:
    """A call to the IAM API (global, so logged in us-east-1)."""
    return event(
        event_name,
        "iam.amazonaws.com",
        event_id=event_id,
        actor=actor,
        request=request,
        response=response,
        error=error,
        **kwargs,
    )


def cloudtrail_call(
    event_name: str,
    request: dict | None,
    response: dict | None = None,
    *,
    event_id: str,
    actor: dict | None = None,
    error: str | None = None,
    **kwargs: Any,
) -> dict:
    """A call to the CloudTrail API."""
    return event(
        event_name,
        "cloudtrail.amazonaws.com",
        event_id=event_id,
        actor=actor,
        request=request,
        response=response,
        error=error,
        **kwargs,
    )


def console_login(
    actor: dict, *, event_id: str, success: bool = True, mfa: bool = False, ip: str = "203.0.113.77"
) -> dict:
    """A ConsoleLogin sign-in event (these carry no requestID and no access key)."""
    additional: dict[str, str] = {
        "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        "MobileVersion": "No",
        "MFAUsed": "Yes" if mfa else "No",
    }
    if mfa and actor.get("type") == "Root":
        additional["MFAIdentifier"] = f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"
    identity = {k: v for k, v in actor.items() if k != "sessionContext"} | {"accessKeyId": ""}
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": TIME,
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": BROWSER,
    }
    if not success:
        record["errorMessage"] = "Failed authentication"
    record |= {
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
        "additionalEventData": additional,
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "signin.aws.amazon.com",
        },
    }
    return record


def policy_json(*statements: dict) -> str:
    """A policy document as CloudTrail logs it in requestParameters: a JSON string."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


def policy(*statements: dict) -> dict:
    """A policy document as a dict (what GetPolicyVersion returns, for example contexts)."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def user_arn(name: str) -> str:
    """The ARN of an IAM user in the sample account."""
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def policy_arn(name: str) -> str:
    """The ARN of a customer managed policy in the sample account."""
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
READ_ONLY = {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "iam:Get*", "iam:List*"], "Resource": "*"}


MEMBER_ACCOUNT = "444455556666"  # a member account of the sample organization (111122223333 manages it)
ROOT_TASK = "arn:aws:iam::aws:policy/root-task/"


def sts_call(
    event_name: str,
    request: dict | None,
    response: dict | None = None,
    *,
    event_id: str,
    actor: dict | None = None,
    error: str | None = None,
    **kwargs: Any,
) -> dict:
    """A call to the STS API (regional: AssumeRoot has no global endpoint)."""
    return event(
        event_name,
        "sts.amazonaws.com",
        event_id=event_id,
        actor=actor,
        request=request,
        response=response,
        error=error,
        **({"read_only": True} | kwargs),
    )


def assume_root(
    task: str, *, event_id: str, target: str = MEMBER_ACCOUNT, actor: dict | None = None, error: str | None = None
) -> dict:
    """An sts:AssumeRoot call by the management account for a root task session in `target`, in the shape of
    the example in AWS's IAM User Guide ("Track privileged tasks in AWS CloudTrail"): the caller's session
    context carries `assumedRoot`, and the issued key is the task session's."""
    caller = actor if actor is not None else role_session("OrgRootTasks", "alice@example.com")
    if isinstance(caller.get("sessionContext"), dict):
        caller = caller | {"sessionContext": caller["sessionContext"] | {"assumedRoot": "true"}}
    credentials = {
        "accessKeyId": access_key_id(f"root-task:{event_id}", temporary=True),
        "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN",
        "expiration": "May 14, 2024, 9:27:45 AM",
    }
    return sts_call(
        "AssumeRoot",
        {"targetPrincipal": target, "taskPolicyArn": {"arn": ROOT_TASK + task}},
        {"credentials": credentials},
        event_id=event_id,
        actor=caller,
        error=error,
        region="us-west-2",
    )


def root_task_session(key_id: str, account: str = MEMBER_ACCOUNT) -> dict:
    """The userIdentity of the calls a root task session makes in the member account (AWS's example: a Root
    identity signing with the AssumeRoot key, its session context holding only attributes)."""
    return {
        "type": "Root",
        "principalId": account,
        "arn": f"arn:aws:iam::{account}:root",
        "accountId": account,
        "accessKeyId": key_id,
        "sessionContext": {"attributes": {"creationDate": "2024-05-14T09:12:45Z", "mfaAuthenticated": "false"}},
    }


def sign_in_step(
    actor: dict, event_name: str, *, event_id: str, success: bool, error_message: str | None = None
) -> dict:
    """A console sign-in event other than ConsoleLogin (CheckMfa, ExternalIdPDirectoryLogin, PasswordUpdated, ...):
    its outcome is `{eventName: "Success" | "Failure"}` in responseElements and it has no errorCode: AWS's
    PasswordUpdated example (CloudTrail User Guide, sign-in event examples) and Panther's AWS.Root.Activity test
    record of a failed ExternalIdPDirectoryLogin."""
    record = console_login(actor, event_id=event_id, success=success)
    record["eventName"] = event_name
    record["responseElements"] = {event_name: "Success" if success else "Failure"}
    del record["additionalEventData"]
    record.pop("errorMessage", None)
    if not success and error_message:
        record["errorMessage"] = error_message
    return record


QUARANTINE_V2 = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"
QUARANTINE_V3 = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"


SSO_INSTANCE = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"


def permission_set_arn(suffix: str) -> str:
    """An IAM Identity Center permission set ARN as CloudTrail writes it (`permissionSet/<instance id>/ps-…`)."""
    return f"arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-{suffix}"


def sso_call(
    event_name: str,
    request: dict | None,
    response: dict | None = None,
    *,
    event_id: str,
    actor: dict | None = None,
    error: str | None = None,
    **kwargs: Any,
) -> dict:
    """A call to the IAM Identity Center admin API (sso.amazonaws.com; the console's calls say "AWS Internal")."""
    return event(
        event_name,
        "sso.amazonaws.com",
        event_id=event_id,
        actor=actor,
        request={"instanceArn": SSO_INSTANCE, **(request or {})},
        response=response,
        error=error,
        **kwargs,
    )
