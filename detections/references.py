"""Links a rule's `references` are made of: AWS's API reference page of an event, and the peer rule sets' rules
(Sigma, Panther, Elastic) that look for the same thing. Built from names so that a link has one spelling."""

from __future__ import annotations

# The API reference of each service whose events the rules read, by CloudTrail eventSource: API_<operation>.html.
_AWS_API = {
    "cloudtrail.amazonaws.com": "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/",
    "config.amazonaws.com": "https://docs.aws.amazon.com/config/latest/APIReference/",
    "events.amazonaws.com": "https://docs.aws.amazon.com/eventbridge/latest/APIReference/",
    "guardduty.amazonaws.com": "https://docs.aws.amazon.com/guardduty/latest/APIReference/",
    "iam.amazonaws.com": "https://docs.aws.amazon.com/IAM/latest/APIReference/",
    "monitoring.amazonaws.com": "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/",
    "organizations.amazonaws.com": "https://docs.aws.amazon.com/organizations/latest/APIReference/",
    "rolesanywhere.amazonaws.com": "https://docs.aws.amazon.com/rolesanywhere/latest/APIReference/",
    "securityhub.amazonaws.com": "https://docs.aws.amazon.com/securityhub/1.0/APIReference/",
    "sqs.amazonaws.com": "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/",
    "sso.amazonaws.com": "https://docs.aws.amazon.com/singlesignon/latest/APIReference/",
    "sts.amazonaws.com": "https://docs.aws.amazon.com/STS/latest/APIReference/",
}

# AWS documentation pages the rules cite beyond one API call.
CONSOLE_SIGN_IN_EVENTS = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html"
RECORD_CONTENTS = (
    "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html"
)
ROOT_USER = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html"
IAM_IN_CLOUDTRAIL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html"
ACCESS_DENIED = "https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html"
PERMISSIONS_BOUNDARIES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
QUARANTINE_POLICY = "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCompromisedKeyQuarantineV3.html"
IDENTITY_CENTER_IN_CLOUDTRAIL = (
    "https://docs.aws.amazon.com/singlesignon/latest/userguide/logging-using-cloudtrail.html"
)
SCHEDULED_RULES = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-rule-schedule.html"


def aws_api(event_source: str, operation: str) -> str:
    """AWS's API reference page of `operation` (a CloudTrail eventName) of the service behind `event_source`."""
    return f"{_AWS_API[event_source]}API_{operation}.html"


def sigma(name: str) -> str:
    """A Sigma rule for CloudTrail (SigmaHQ/sigma, rules/cloud/aws/cloudtrail/<name>.yml)."""
    return f"https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/{name}.yml"


def panther(name: str) -> str:
    """A Panther rule for CloudTrail (panther-labs/panther-analysis, rules/aws_cloudtrail_rules/<name>.yml)."""
    return f"https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/{name}.yml"


def elastic(name: str) -> str:
    """An Elastic rule for AWS (elastic/detection-rules, rules/integrations/aws/<name>.toml)."""
    return f"https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/{name}.toml"
