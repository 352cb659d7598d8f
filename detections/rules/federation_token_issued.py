"""An IAM user minted federated-user credentials with GetFederationToken."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import ALLOW_ALL, iam_user, policy_json, role_session, root, sts_call
from detections.references import aws_api, elastic
from iam.policy import judge_document

DEFAULT_SECONDS = 43_200  # GetFederationToken's default duration (12 hours) when the call names none


def _session_policy(record: dict) -> str:
    raw = ct.request(record).get("policy")
    arns = ct.request(record).get("policyArns")
    if raw is None and not arns:
        return "none (the user's own permissions)"
    doc = ct.policy_document(raw) if raw is not None else None
    if doc is not None and judge_document(doc).admin_equivalent:
        return "allows everything the user may do"
    return "scoped by a session policy"


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful GetFederationToken called with an IAM user's credentials."""
    if ct.failed(record) or ct.identity(record).get("type") != "IAMUser":
        return None
    req, resp = ct.request(record), ct.response(record)
    name = req.get("name")
    name = name if isinstance(name, str) and name else "unknown"
    federated = resp.get("federatedUser")
    arn = federated.get("arn") if isinstance(federated, dict) else None
    seconds = req.get("durationSeconds")
    # CloudTrail Lake hands the number back as text ("3600"); a bool is never a duration.
    if isinstance(seconds, str) and seconds.isdigit():
        seconds = int(seconds)
    given = isinstance(seconds, int) and not isinstance(seconds, bool)
    duration = f"{seconds} s" if given else f"{DEFAULT_SECONDS} s (the default)"
    user = ct.actor_user_name(record) or "unknown"
    return Match(
        title=f"User {user} minted federated-user credentials ({name})",
        target=str(arn) if arn else ct.actor_arn(record),
        facts={
            "Federated user": name,
            "Issued by": user,
            "Lifetime": duration,
            "Session policy": _session_policy(record),
        },
    )


def _federation(name: str, event_id: str, *, policy: str | None, seconds: int | None, actor: dict) -> dict:
    """A GetFederationToken record shaped like Stratus Red Team's detonation log of
    aws.persistence.sts-federation-token (policy as a JSON string, readOnly false)."""
    request: dict = {"name": name} | ({"policy": policy} if policy else {})
    if seconds is not None:
        request["durationSeconds"] = seconds
    response = {
        "credentials": {
            "accessKeyId": "ASIA" + event_id.replace("-", "")[:16].upper(),
            "expiration": "May 14, 2024, 9:12:45 PM",
            "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLEFEDERATIONTOKEN",
        },
        "federatedUser": {
            "arn": f"arn:aws:sts::111122223333:federated-user/{name}",
            "federatedUserId": f"111122223333:{name}",
        },
        "packedPolicySize": 4,
    }
    return sts_call("GetFederationToken", request, response, event_id=event_id, actor=actor, read_only=False)


RULE = Rule(
    id="federation_token_issued",
    severity=Severity.MEDIUM,
    title="Federated-user credentials minted by an IAM user",
    rationale=(
        "GetFederationToken turns an IAM user's access key into up to 36 hours of session credentials under any "
        "name, which can open the console. Attackers with a stolen key use it to reach the console and to keep "
        "access: the session outlives the key's deactivation or deletion, and its calls appear under the new name."
    ),
    response=(
        "Ask the user's owner whether a broker or tool issues these sessions. If not, disable the user's key, and "
        "to end sessions already issued deny the user everything with an inline policy conditioned on "
        "aws:TokenIssueTime (disabling the key alone does not end them); then review what the federated user did."
    ),
    event_names=frozenset({"GetFederationToken"}),
    event_sources=frozenset({"sts.amazonaws.com"}),
    match=match,
    reports={"MITRE ATT&CK": ("T1550.001", "T1078.004")},
    references=(
        aws_api("sts.amazonaws.com", "GetFederationToken"),
        elastic("defense_evasion_sts_get_federation_token"),
        elastic("privilege_escalation_sts_get_federation_token_administrator_access"),
    ),
    examples=(
        Example(
            "stolen key mints a federated session allowing everything",
            _federation(
                "admin",
                "6e882b9d-2af8-4c67-b91f-aeac6a0e5e71",
                policy=policy_json(ALLOW_ALL),
                seconds=3600,
                actor=iam_user("svc-reporting"),
            ),
            expect=True,
        ),
        Example(
            "federated session without a session policy, default lifetime",
            _federation("backup", "0a2c4e6f-8b0d-4f2a-b4c6-e8f0a2c4e6f8", policy=None, seconds=None, actor=iam_user()),
            expect=True,
        ),
        Example(
            "root mints one (reported as root activity)",
            _federation(
                "ops", "6a8c0e2f-4d6b-4e8a-90c2-c4e6f8a0c2e4", policy=None, seconds=900, actor=root(console=False)
            ),
            expect=False,
        ),
        Example(
            "role sessions cannot call it (refused)",
            sts_call(
                "GetFederationToken",
                {"name": "admin"},
                None,
                event_id="2c4e6a8f-0d2b-4a4c-86e8-f0a2c4e6f8a0",
                actor=role_session("OpsAdmin", "mallory"),
                error="AccessDenied",
                read_only=False,
            ),
            expect=False,
        ),
        Example(
            "an IAM user's GetFederationToken refused",
            sts_call(
                "GetFederationToken",
                {"name": "admin", "durationSeconds": 129600},
                None,
                event_id="4e6a8c0f-2b4d-4c6e-a8f0-a2c4e6f8a0c2",
                actor=iam_user("svc-reporting"),
                error="AccessDenied",
                read_only=False,
            ),
            expect=False,
        ),
    ),
)
