"""Every AWS API action the bot's code calls, with the reason. The shipped IAM policy is checked against
this list, and in tests every call made through AwsSessions must be on it."""

from __future__ import annotations

# action -> which feature needs it
ACTIONS: dict[str, str] = {
    "sts:GetCallerIdentity": "the bot's own identity, so it never acts on itself",
    "sts:AssumeRole": "the member role in other accounts of the organization",
    "sqs:ReceiveMessage": "real-time events from the EventBridge queue",
    "sqs:DeleteMessage": "delete a message once its events are stored",
    "sqs:GetQueueAttributes": "queue health in /healthz and start-up checks",
    "s3:GetObject": "CloudTrail log files named by S3 notifications",
    "kms:Decrypt": "CloudTrail log files encrypted with SSE-KMS (S3 decrypts on GetObject; only via S3)",
    "cloudtrail:LookupEvents": "event history polling when no queue is configured",
    "iam:GetPolicy": "judge a managed policy granted in an event; audit: AWS-managed policies in use",
    "iam:GetPolicyVersion": "read the granted policy document; audit: AWS-managed policies in use",
    "iam:ListAttachedGroupPolicies": "judge a group a user was added to",
    "iam:ListGroupPolicies": "judge a group a user was added to",
    "iam:GetGroupPolicy": "judge a group a user was added to",
    "iam:GetUserPolicy": "judge an inline policy whose document CloudTrail omitted as too large",
    "iam:GetRolePolicy": "judge an inline policy whose document CloudTrail omitted as too large",
    "iam:GetAccountAuthorizationDetails": (
        "never remove the account's last admin-equivalent grant (and say when a revoked role is it); audit snapshot"
    ),
    "iam:ListRoles": "audit: roles' MaxSessionDuration (absent from GetAccountAuthorizationDetails)",
    "iam:DetachUserPolicy": "button iam_detach_policy",
    "iam:DetachGroupPolicy": "button iam_detach_policy",
    "iam:DetachRolePolicy": "button iam_detach_policy",
    "iam:DeleteUserPolicy": "button iam_detach_policy (inline policies)",
    "iam:DeleteGroupPolicy": "button iam_detach_policy (inline policies)",
    "iam:DeleteRolePolicy": "button iam_detach_policy (inline policies)",
    "iam:ListAccessKeys": "buttons iam_disable_key, iam_disable_actor_key and iam_quarantine_user",
    "iam:UpdateAccessKey": "buttons iam_disable_key, iam_disable_actor_key and iam_quarantine_user (set to Inactive)",
    # containment buttons (core/containment.py)
    "iam:AttachUserPolicy": "button iam_quarantine_user: AWSCompromisedKeyQuarantineV3 (allowed for that ARN only)",
    "iam:PutUserPolicy": "button iam_quarantine_user: deny-all inline policy where AWS's quarantine is missing",
    "iam:DeleteLoginProfile": "button iam_quarantine_user: delete the user's console password",
    "iam:PutRolePolicy": "button iam_revoke_sessions: the inline AWSRevokeOlderSessions deny on older sessions",
    "sso:DeleteAccountAssignment": "button iam_remove_assignment (exactly the assignment in the alert)",
    # audits (one snapshot per account)
    "iam:GenerateCredentialReport": "audit: credential report (passwords, keys, MFA, last use)",
    "iam:GetCredentialReport": "audit: credential report",
    "iam:GetAccountPasswordPolicy": "audit: password policy",
    "iam:GetAccountSummary": "audit: root MFA and root keys",
    "iam:ListVirtualMFADevices": "audit: hardware or virtual MFA on root (and on admin users)",
    # audit checks of issue 13 part 2
    "iam:ListOrganizationsFeatures": "audit: centralized root access on; member accounts still holding root",
    "iam:ListSAMLProviders": "audit: SAML identity providers and their metadata expiry",
    "iam:ListServerCertificates": "audit: expired server certificates stored in IAM",
    "iam:GenerateServiceLastAccessedDetails": "audit: least privilege from Access Advisor",
    "iam:GetServiceLastAccessedDetails": "audit: least privilege from Access Advisor",
    "cloudtrail:DescribeTrails": "audit: CloudTrail coverage",
    "cloudtrail:GetTrailStatus": "audit: CloudTrail delivering",
    "cloudtrail:GetEventSelectors": "audit: CloudTrail logs management events",
    "s3:GetLifecycleConfiguration": "audit: CloudTrail logs kept beyond the 90-day event history",
    "access-analyzer:ListAnalyzers": "audit: IAM Access Analyzer enabled; the unused-access analyzer to read",
    "access-analyzer:ListFindings": "audit: unused roles, keys, passwords and permissions of every principal",
    "access-analyzer:GetFinding": "audit: a principal's unused services, for its trimmed policy (GetFindingV2)",
    "organizations:DescribePolicy": "tell a detached or deleted service control policy from a tag or backup policy",
    "organizations:ListAccounts": "audit: IAMBOT_ACCOUNTS=organization; trusts of the organization's accounts",
    # audit: IAM Identity Center (the account that manages it; elsewhere ListInstances answers with none)
    "sso:ListInstances": "audit: IAM Identity Center instances",
    "sso:ListPermissionSets": "audit: Identity Center permission sets",
    "sso:DescribePermissionSet": "audit, identity_center_admin_grant: a permission set's session duration",
    "sso:ListManagedPoliciesInPermissionSet": "audit, identity_center_admin_grant: its AWS managed policies",
    "sso:GetInlinePolicyForPermissionSet": "audit, identity_center_admin_grant: a permission set's inline policy",
    "sso:ListCustomerManagedPolicyReferencesInPermissionSet": "audit, identity_center_admin_grant: customer policies",
    "sso:GetPermissionsBoundaryForPermissionSet": "audit, identity_center_admin_grant: its permissions boundary",
    "sso:ListAccountsForProvisionedPermissionSet": "audit, identity_center_admin_grant: accounts it is provisioned to",
    "sso:ListAccountAssignments": "audit, identity_center_admin_grant: who holds a permission set in an account",
    "sso:ListAccountAssignmentsForPrincipal": "audit: a user's or group's assignments (when fewer calls)",
    "identitystore:ListUsers": "audit: Identity Center users (individual identities, names in findings)",
    "identitystore:ListGroups": "audit: Identity Center groups (names in findings)",
    "identitystore:ListGroupMemberships": "audit: the people an assigned group reaches",
    "iam:SimulatePrincipalPolicy": "bot.py check: the bot's own policy allows every action on this list",
    # bot.py hunt: Athena over the organization trail's bucket (Athena reads the catalog and S3 as its caller)
    "athena:StartQueryExecution": "hunt: run the generated query over the CloudTrail table",
    "athena:GetQueryExecution": "hunt: the query's state, reason and data scanned",
    "athena:GetQueryResults": "hunt: read the selected records, page by page",
    "athena:StopQueryExecution": "hunt: cancel the query on Ctrl-C",
    "glue:GetDatabase": "hunt: Athena looks up the table's database in the Glue Data Catalog as the caller",
    "glue:GetTable": "hunt: Athena reads the CloudTrail table's definition and partition projection as the caller",
    "s3:ListBucket": "hunt: Athena lists the trail's log files (and reads its results) as the caller",
    "s3:GetBucketLocation": "hunt: Athena checks the region of the trail's and the results' buckets",
    "s3:PutObject": "hunt: Athena writes the query results to --athena-output as the caller",
    # bot.py hunt --lake: CloudTrail Lake queries on the organization's event data store
    "cloudtrail:StartQuery": "hunt --lake: run the generated query on the event data store",
    "cloudtrail:DescribeQuery": "hunt --lake: the query's state, reason, bytes scanned and events matched",
    "cloudtrail:GetQueryResults": "hunt --lake: read the selected records, page by page",
    "cloudtrail:CancelQuery": "hunt --lake: cancel the query on Ctrl-C",
}

# IAM's action prefix for boto3 service names that differ from it.
_PREFIX = {"accessanalyzer": "access-analyzer", "sso-admin": "sso"}
# API operations whose IAM action has another name.
_ACTION_OF_OPERATION = {
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    # IAM authorizes the V2 finding APIs with the V1 actions.
    ("accessanalyzer", "ListFindingsV2"): "access-analyzer:ListFindings",
    ("accessanalyzer", "GetFindingV2"): "access-analyzer:GetFinding",
}

STRICT = False  # tests set this: an undeclared call then raises instead of going out


class UndeclaredCall(Exception):
    """The code called an AWS action that aws/permissions.py does not declare."""


def action_name(service: str, operation: str) -> str:
    """The IAM action for a boto3 service name and API operation name."""
    return _ACTION_OF_OPERATION.get((service, operation)) or f"{_PREFIX.get(service, service)}:{operation}"


def check_call(model: object, **_: object) -> None:
    """botocore before-call hook: in strict mode, refuse actions the list does not declare."""
    if not STRICT:
        return
    operation = getattr(model, "name", "")
    service = getattr(getattr(model, "service_model", None), "service_name", "")
    action = action_name(service, operation)
    if action not in ACTIONS:
        raise UndeclaredCall(f"{action} is called but not declared in aws/permissions.py")
