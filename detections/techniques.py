"""Public attack techniques and the rules that catch them: Stratus Red Team's AWS persistence, privilege-escalation,
credential-access and defense-evasion techniques (DataDog/stratus-red-team, docs/attack-techniques/AWS/, as
listed in its index.md of 2026-08-19, commit 7c9a7a5), each with the rule(s) that raise an alert when it is
detonated, or why none does.

A caught technique carries the CloudTrail records its detonation writes that matter (built with
`example_records`, in the shape the technique's own page shows), and `rules` is exactly what those records raise
together, offline, in order: tests/detections/test_techniques.py replays them through a fresh pipeline.
`scripts/readme_tables.py` renders the table in the README."""

from __future__ import annotations

from dataclasses import dataclass

from detections.example_records import (
    ADMINISTRATOR_ACCESS,
    cloudtrail_call,
    event,
    iam_call,
    iam_user,
    policy_json,
    role_session,
    sts_call,
)

SOURCE = "https://github.com/DataDog/stratus-red-team/blob/main/docs/attack-techniques/AWS"
TACTICS = ("persistence", "privilege-escalation", "credential-access", "defense-evasion")

# Stratus's fictitious attacker account, and the identity a detonation runs as (a stolen key of a CI user).
_ATTACKER_ACCOUNT = "193672423079"
_DETONATOR = iam_user("ci-runner")
_TRAIL = "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail"


@dataclass(frozen=True)
class Technique:
    """One Stratus Red Team technique: its id and title, the tactics Stratus files it under (of TACTICS), and
    either the rules that catch it with the records that show it, or why no rule does."""

    id: str
    name: str
    tactics: tuple[str, ...]
    rules: tuple[str, ...] = ()
    records: tuple[dict, ...] = ()
    not_caught: str = ""  # why no rule catches it (empty when caught)
    note: str = ""  # what else to know about how it is caught

    @property
    def caught(self) -> bool:
        """Whether some rule raises an alert on it."""
        return bool(self.rules)

    @property
    def url(self) -> str:
        """The technique's page in Stratus Red Team's documentation."""
        return f"{SOURCE}/{self.id}.md"


def _trust(*statements: dict) -> str:
    return policy_json(*statements)


_EXTERNAL_TRUST = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{_ATTACKER_ACCOUNT}:root"},
    "Action": "sts:AssumeRole",
}
_EC2_TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}

TECHNIQUES: tuple[Technique, ...] = (
    # ---- persistence --------------------------------------------------------------------------------------------
    Technique(
        "aws.persistence.iam-backdoor-role",
        "Backdoor an IAM Role",
        ("persistence",),
        rules=("role_trust_opened",),
        records=(
            iam_call(
                "UpdateAssumeRolePolicy",
                {"roleName": "stratus-red-team-backdoor-r-role", "policyDocument": _trust(_EC2_TRUST, _EXTERNAL_TRUST)},
                event_id="5a7e0001-0000-4000-8000-000000000001",
                actor=_DETONATOR,
            ),
        ),
    ),
    Technique(
        "aws.persistence.iam-backdoor-user",
        "Create an Access Key on an IAM User",
        ("persistence", "privilege-escalation"),
        rules=("access_key_created",),
        records=(
            iam_call(
                "CreateAccessKey",
                {"userName": "stratus-red-team-backdoor-u-user"},
                {
                    "accessKey": {
                        "userName": "stratus-red-team-backdoor-u-user",
                        "accessKeyId": "AKIAZ7EXAMPLESTRATUS",
                        "status": "Active",
                        "createDate": "Jul 30, 2024, 9:53:13 PM",
                    }
                },
                event_id="5a7e0002-0000-4000-8000-000000000002",
                actor=_DETONATOR,
            ),
        ),
    ),
    Technique(
        "aws.persistence.iam-create-admin-user",
        "Create an administrative IAM User",
        ("persistence", "privilege-escalation"),
        rules=("user_created", "privileged_user_created", "access_key_created"),
        records=(
            iam_call(
                "CreateUser",
                {"userName": "stratus-red-team-admin-user"},
                {
                    "user": {
                        "path": "/",
                        "userName": "stratus-red-team-admin-user",
                        "arn": "arn:aws:iam::111122223333:user/stratus-red-team-admin-user",
                    }
                },
                event_id="5a7e0003-0000-4000-8000-000000000003",
                actor=_DETONATOR,
            ),
            iam_call(
                "AttachUserPolicy",
                {"userName": "stratus-red-team-admin-user", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="5a7e0004-0000-4000-8000-000000000004",
                actor=_DETONATOR,
                time="2024-05-14T09:12:50Z",
            ),
            iam_call(
                "CreateAccessKey",
                {"userName": "stratus-red-team-admin-user"},
                event_id="5a7e0005-0000-4000-8000-000000000005",
                actor=_DETONATOR,
                time="2024-05-14T09:12:55Z",
            ),
        ),
        note="the admin grant to a user made minutes before is privileged_user_created (it replaces privileged_grant)",
    ),
    Technique(
        "aws.persistence.iam-create-backdoor-role",
        "Create a backdoored IAM Role",
        ("persistence",),
        rules=("role_trust_opened", "privileged_grant"),
        records=(
            iam_call(
                "CreateRole",
                {
                    "roleName": "stratus-red-team-malicious-iam-role",
                    "assumeRolePolicyDocument": _trust(_EXTERNAL_TRUST),
                },
                event_id="5a7e0006-0000-4000-8000-000000000006",
                actor=_DETONATOR,
            ),
            iam_call(
                "AttachRolePolicy",
                {"roleName": "stratus-red-team-malicious-iam-role", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="5a7e0007-0000-4000-8000-000000000007",
                actor=_DETONATOR,
                time="2024-05-14T09:12:50Z",
            ),
        ),
    ),
    Technique(
        "aws.persistence.iam-create-user-login-profile",
        "Create a Login Profile on an IAM User",
        ("persistence", "privilege-escalation"),
        rules=("login_profile_created",),
        records=(
            iam_call(
                "CreateLoginProfile",
                {"userName": "stratus-red-team-login-profile-user", "passwordResetRequired": False},
                {
                    "loginProfile": {
                        "userName": "stratus-red-team-login-profile-user",
                        "createDate": "Aug 1, 2024, 1:42:22 PM",
                        "passwordResetRequired": False,
                    }
                },
                event_id="5a7e0008-0000-4000-8000-000000000008",
                actor=_DETONATOR,
            ),
        ),
    ),
    Technique(
        "aws.persistence.lambda-backdoor-function",
        "Backdoor Lambda Function Through Resource-Based Policy",
        ("persistence",),
        not_caught="a Lambda function's resource policy (AddPermission): no identity gains power, no rule reads Lambda",
    ),
    Technique(
        "aws.persistence.lambda-layer-extension",
        "Add a Malicious Lambda Extension",
        ("persistence", "privilege-escalation"),
        not_caught="code added to a function (UpdateFunctionConfiguration): compute, not an identity technique",
    ),
    Technique(
        "aws.persistence.lambda-overwrite-code",
        "Overwrite Lambda Function Code",
        ("persistence",),
        not_caught="code replaced in a function (UpdateFunctionCode): compute, not an identity technique",
    ),
    Technique(
        "aws.persistence.rolesanywhere-create-trust-anchor",
        "Create an IAM Roles Anywhere trust anchor",
        ("persistence", "privilege-escalation"),
        rules=("federation_trust_changed",),
        records=(
            event(
                "CreateTrustAnchor",
                "rolesanywhere.amazonaws.com",
                event_id="5a7e0009-0000-4000-8000-000000000009",
                actor=_DETONATOR,
                request={
                    "name": "stratus-red-team-trust-anchor",
                    "source": {
                        "sourceType": "CERTIFICATE_BUNDLE",
                        "sourceData": {"x509CertificateData": "-----BEGIN CERTIFICATE-----\nMIIB..."},
                    },
                    "enabled": True,
                },
                response={
                    "trustAnchor": {
                        "trustAnchorArn": "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/"
                        "2b4c6d8e-0f1a-4b3c-9d5e-7f8091a2b3c4",
                        "name": "stratus-red-team-trust-anchor",
                        "enabled": True,
                    }
                },
            ),
        ),
    ),
    Technique(
        "aws.persistence.sts-federation-token",
        "Generate temporary AWS credentials using GetFederationToken",
        ("persistence",),
        rules=("federation_token_issued",),
        records=(
            sts_call(
                "GetFederationToken",
                {
                    "name": "stratus_red_team",
                    "policy": policy_json({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                },
                {
                    "credentials": {"accessKeyId": "ASIAZ7EXAMPLESTRATUS", "expiration": "Nov 30, 2024, 8:43:17 PM"},
                    "federatedUser": {
                        "federatedUserId": "111122223333:stratus_red_team",
                        "arn": "arn:aws:sts::111122223333:federated-user/stratus_red_team",
                    },
                },
                event_id="5a7e000a-0000-4000-8000-00000000000a",
                actor=_DETONATOR,
            ),
        ),
    ),
    # ---- privilege escalation (besides the persistence techniques Stratus files here too) ----------------------
    Technique(
        "aws.execution.ec2-user-data",
        "Execute Commands on EC2 Instance via User Data",
        ("privilege-escalation",),
        not_caught="user data changed on an instance (ModifyInstanceAttribute), whose role the code then runs as: "
        "EC2, which no rule reads",
    ),
    Technique(
        "aws.execution.sagemaker-update-lifecycle-config",
        "Execute Commands on SageMaker Notebook Instance via Lifecycle Configuration",
        ("privilege-escalation",),
        not_caught="a notebook's lifecycle script changed (UpdateNotebookInstance): SageMaker, which no rule reads",
    ),
    Technique(
        "aws.privilege-escalation.iam-update-user-login-profile",
        "Change IAM user password",
        ("privilege-escalation",),
        rules=("login_profile_created",),
        records=(
            iam_call(
                "UpdateLoginProfile",
                {"userName": "stratus-red-team-update-login-profile-user"},
                event_id="5a7e000b-0000-4000-8000-00000000000b",
                actor=_DETONATOR,
            ),
        ),
    ),
    # ---- credential access --------------------------------------------------------------------------------------
    Technique(
        "aws.credential-access.ec2-get-password-data",
        "Retrieve EC2 Password Data",
        ("credential-access",),
        not_caught="refused EC2 GetPasswordData calls: iam_writes_refused counts refused IAM calls only",
    ),
    Technique(
        "aws.credential-access.ec2-steal-instance-credentials",
        "Steal EC2 Instance Credentials",
        ("credential-access",),
        not_caught="the stolen role's calls look like the instance's own; telling them apart takes where they come "
        "from (GuardDuty's InstanceCredentialExfiltration findings), not one CloudTrail record",
    ),
    Technique(
        "aws.credential-access.secretsmanager-batch-retrieve-secrets",
        "Retrieve a High Number of Secrets Manager secrets (Batch)",
        ("credential-access",),
        not_caught="secret values read (BatchGetSecretValue): data access, not an identity technique",
    ),
    Technique(
        "aws.credential-access.secretsmanager-retrieve-secrets",
        "Retrieve a High Number of Secrets Manager secrets",
        ("credential-access",),
        not_caught="secret values read (GetSecretValue): data access, not an identity technique",
    ),
    Technique(
        "aws.credential-access.ssm-retrieve-securestring-parameters",
        "Retrieve And Decrypt SSM Parameters",
        ("credential-access",),
        not_caught="parameters read and decrypted (GetParameters): data access, not an identity technique",
    ),
    # ---- defense evasion ----------------------------------------------------------------------------------------
    Technique(
        "aws.defense-evasion.cloudtrail-delete",
        "Delete CloudTrail Trail",
        ("defense-evasion",),
        rules=("trail_tampering",),
        records=(
            cloudtrail_call(
                "DeleteTrail",
                {"name": _TRAIL},
                event_id="5a7e000c-0000-4000-8000-00000000000c",
                actor=_DETONATOR,
            ),
        ),
    ),
    Technique(
        "aws.defense-evasion.cloudtrail-event-selectors",
        "Disable CloudTrail Logging Through Event Selectors",
        ("defense-evasion",),
        rules=("trail_tampering",),
        records=(
            cloudtrail_call(
                "PutEventSelectors",
                {
                    "trailName": _TRAIL,
                    "eventSelectors": [
                        {
                            "readWriteType": "All",
                            "includeManagementEvents": False,
                            "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::stratus-red-team"]}],
                        }
                    ],
                },
                {"trailARN": _TRAIL},
                event_id="5a7e000d-0000-4000-8000-00000000000d",
                actor=_DETONATOR,
            ),
        ),
    ),
    Technique(
        "aws.defense-evasion.cloudtrail-lifecycle-rule",
        "CloudTrail Logs Impairment Through S3 Lifecycle Rule",
        ("defense-evasion",),
        not_caught="a 1-day expiry on the trail's bucket (S3 PutBucketLifecycle): the trail is unchanged and no rule "
        "reads S3 bucket configuration",
    ),
    Technique(
        "aws.defense-evasion.cloudtrail-stop",
        "Stop CloudTrail Trail",
        ("defense-evasion",),
        rules=("trail_tampering",),
        records=(
            cloudtrail_call(
                "StopLogging",
                {"name": _TRAIL},
                event_id="5a7e000e-0000-4000-8000-00000000000e",
                actor=_DETONATOR,
            ),
        ),
    ),
    Technique(
        "aws.defense-evasion.dns-delete-logs",
        "Delete DNS query logs",
        ("defense-evasion",),
        not_caught="Route 53 Resolver query logging deleted: not one of the watchers watcher_impaired tracks",
    ),
    Technique(
        "aws.defense-evasion.organizations-leave",
        "Attempt to Leave the AWS Organization",
        ("defense-evasion",),
        rules=("guardrail_removed",),
        records=(
            event(
                "LeaveOrganization",
                "organizations.amazonaws.com",
                event_id="5a7e000f-0000-4000-8000-00000000000f",
                actor=role_session("stratus-red-team-leave-org-role", "stratus-red-team"),
                error="AccessDeniedException",
            ),
        ),
        note="critical even when refused, as Stratus's detonation is",
    ),
    Technique(
        "aws.defense-evasion.vpc-remove-flow-logs",
        "Remove VPC Flow Logs",
        ("defense-evasion",),
        not_caught="network logging removed (EC2 DeleteFlowLogs): not one of the watchers watcher_impaired tracks",
    ),
)


def technique(technique_id: str) -> Technique:
    """The technique with this Stratus id (KeyError if none)."""
    for t in TECHNIQUES:
        if t.id == technique_id:
            return t
    raise KeyError(technique_id)
