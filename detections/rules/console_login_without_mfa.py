"""An IAM user signed in to the console without MFA."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import ALLOW_ALL, READ_ONLY, console_login, iam_user, policy, role_session
from detections.references import CONSOLE_SIGN_IN_EVENTS, elastic, panther, sigma
from iam.policy import judge_documents


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful ConsoleLogin by an IAM user whose record says MFA was not used; high when the user is
    admin-equivalent (known only online). SAML and Identity Center sign-ins are left out: their MFA is the
    identity provider's, and CloudTrail always says No for them."""
    if ct.identity(record).get("type") != "IAMUser" or ct.response(record).get("ConsoleLogin") != "Success":
        return None
    if ct.additional(record).get("SamlProviderArn") or ct.mfa_used(record) is not False:
        return None
    user = ct.actor_user_name(record)
    if not user:
        return None
    docs = ctx.user_documents(ct.account_id(record), user)
    admin = docs is not None and judge_documents(docs).admin_equivalent
    said = "unknown (AWS not reachable)" if docs is None else ("yes" if admin else "no")
    return Match(
        title=f"User {user} signed in to the console without MFA" + (" (admin-equivalent)" if admin else ""),
        target=ct.actor_arn(record),
        facts={"User": user, "MFA used": "no", "Admin-equivalent": said},
        severity=Severity.HIGH if admin else None,
    )


def _saml_sign_in() -> dict:
    """A SAML sign-in: an assumed-role identity, SamlProviderArn in additionalEventData (as Panther's
    AWS.Console.LoginWithoutMFA test records show), MFAUsed always No."""
    record = console_login(
        role_session("Okta-Admins", "dana@example.com"), event_id="8e0a2c4e-6f8b-4d0a-a2c4-e6f8a0c2e4b6"
    )
    record["additionalEventData"]["SamlProviderArn"] = "arn:aws:iam::111122223333:saml-provider/Okta"
    return record


RULE = Rule(
    id="console_login_without_mfa",
    severity=Severity.MEDIUM,
    title="Console sign-in without MFA",
    rationale=(
        "A console password without MFA falls to phishing, reuse from another breach, or guessing. An IAM user "
        "signing in that way has no second factor at all; when the user can do everything, so can whoever holds "
        "the password."
    ),
    response=(
        "Ask the user whether it was them. Either way, have them enroll MFA (or require it with a policy); if it "
        "was not them, reset the password and review the session's calls."
    ),
    event_names=frozenset({"ConsoleLogin"}),
    event_sources=frozenset({"signin.amazonaws.com"}),
    match=match,
    reports={"CIS": ("1.10",), "MITRE ATT&CK": ("T1078.004",)},
    references=(
        CONSOLE_SIGN_IN_EVENTS,
        sigma("aws_cloudtrail_console_login_success_without_mfa"),
        panther("aws_console_login_without_mfa"),
        elastic("initial_access_iam_user_console_login_without_mfa"),
    ),
    examples=(
        Example(
            "IAM user signs in without MFA (AWS not reachable)",
            console_login(iam_user("tester"), event_id="0a2c4e6a-8b0d-4f2b-94c6-e8a0c2e4f6b8"),
            expect=True,
        ),
        Example(
            "admin-equivalent IAM user signs in without MFA",
            console_login(iam_user("admin-carol"), event_id="2c4e6a8c-0d2f-4b4d-a6e8-a0c2e4f6b8d0"),
            expect=True,
            context={"users": {"admin-carol": [policy(ALLOW_ALL)]}},
        ),
        Example(
            "read-only IAM user signs in without MFA",
            console_login(iam_user("auditor"), event_id="4e6a8c0e-2f4b-4d6f-88a0-c2e4f6b8d0f2"),
            expect=True,
            context={"users": {"auditor": [policy(READ_ONLY)]}},
        ),
        Example(
            "IAM user signs in with MFA",
            console_login(iam_user("tester"), event_id="6a8c0e2a-4b6d-4f8b-aac2-e4f6b8d0f2a4", mfa=True),
            expect=False,
        ),
        Example(
            "failed sign-in without MFA",
            console_login(iam_user("tester"), event_id="8c0e2a4c-6d8f-4b0d-8ce4-f6b8d0f2a4c6", success=False),
            expect=False,
        ),
        Example("SAML sign-in (the identity provider's MFA)", _saml_sign_in(), expect=False),
        Example(
            "Identity Center sign-in",
            console_login(
                role_session("AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b", "dana@example.com"),
                event_id="ac2e4a6c-8d0f-4b2d-9e4a-6b8d0f2a4c6e",
            ),
            expect=False,
        ),
    ),
)
