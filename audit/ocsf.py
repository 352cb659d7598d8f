"""The audit report as OCSF Detection Findings: the JSON schema Prowler writes and Security Hub reads.

One finding object per result (pass, fail and muted alike, as Prowler does), class Detection Finding (2004),
activity Create; a muted failure is status Suppressed. The objects are plain dicts; the tests validate them with
the py-ocsf-models package.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

from audit.report import AuditReport
from checks.base import Check, Status
from checks.engine import Result
from core.severity import Severity

OCSF_VERSION = "1.5.0"
CLASS_UID = 2004  # Detection Finding
ACTIVITY_CREATE = 1
SEVERITY_ID = {
    Severity.INFO: 1,  # Informational
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}
SEVERITY_NAME = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
STATUS_ID = {Status.FAIL: 1, Status.PASS: 1, Status.MUTED: 3}  # New, or Suppressed by a mute
STATUS_NAME = {1: "New", 3: "Suppressed"}
# An IAM resource type as Security Hub names it, by the ARN's resource kind.
RESOURCE_TYPES = {
    ("iam", "user"): "AwsIamUser",
    ("iam", "role"): "AwsIamRole",
    ("iam", "group"): "AwsIamGroup",
    ("iam", "policy"): "AwsIamPolicy",
    ("cloudtrail", "trail"): "AwsCloudTrailTrail",
}


def finding_uid(result: Result) -> str:
    """A stable id for one check's result on one resource (the same across audits, as Security Hub expects)."""
    digest = hashlib.sha256(f"{result.check_id}|{result.account}|{result.resource}".encode()).hexdigest()[:20]
    return f"iam-warden-{result.check_id}-{result.account}-{digest}"


def _resource(result: Result) -> dict:
    parts = result.resource.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        service, kind = parts[2], parts[5].partition("/")[0]
        region = parts[3] or "global"
        name = parts[5].rsplit("/", 1)[-1]
        kind_name = RESOURCE_TYPES.get((service, kind), "Other")
        partition = parts[1]
    else:  # an account-wide finding
        region, name, kind_name, partition = "global", result.account, "AwsAccount", "aws"
    return {
        "uid": result.resource if result.resource != "account" else result.account,
        "name": name,
        "type": kind_name,
        "region": region,
        "cloud_partition": partition,
    }


def detection_finding(result: Result, check: Check | None, version: str, at: datetime) -> dict:
    """One result as an OCSF Detection Finding."""
    severity_id = SEVERITY_ID[Severity(result.severity)]
    status_id = STATUS_ID[result.status]
    resource = _resource(result)
    finding: dict = {
        "message": f"{result.title}: {result.detail}",
        "metadata": {
            "event_code": result.check_id,
            "product": {"name": "IAM Warden", "uid": "iam-warden", "vendor_name": "IAM Warden", "version": version},
            "profiles": ["cloud", "datetime"],
            "version": OCSF_VERSION,
        },
        "severity_id": severity_id,
        "severity": SEVERITY_NAME[severity_id],
        "status": STATUS_NAME[status_id],
        "status_id": status_id,
        "status_code": result.status.value.upper(),
        "status_detail": result.detail,
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "finding_info": {
            "uid": finding_uid(result),
            "title": result.title,
            "desc": check.rationale if check else result.title,
            "created_time": int(at.timestamp()),
            "created_time_dt": at.isoformat(),
            "types": ["IAM posture"],
        },
        "resources": [resource],
        "category_name": "Findings",
        "category_uid": 2,
        "class_name": "Detection Finding",
        "class_uid": CLASS_UID,
        "cloud": {
            "account": {"uid": result.account, "name": result.account, "type": "AWS Account", "type_id": 10},
            "provider": "aws",
            "region": resource["region"],
        },
        "time": int(at.timestamp()),
        "time_dt": at.isoformat(),
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
    }
    if check is not None:
        finding["remediation"] = {"desc": check.remediation, "references": []}
        finding["risk_details"] = check.rationale
        if check.mappings:
            finding["unmapped"] = {"compliance": {k: list(v) for k, v in check.mappings.items()}}
    return finding


def ocsf_findings(
    report: AuditReport, checks: Mapping[str, Check], version: str, at: datetime | None = None
) -> list[dict]:
    """Every result of the report as an OCSF Detection Finding, failures first (most severe first)."""
    at = at or datetime.now(UTC)
    ordered = sorted(
        report.results, key=lambda r: (r.status != Status.FAIL, Severity(r.severity).rank, r.check_id, r.resource)
    )
    return [detection_finding(r, checks.get(r.check_id), version, at) for r in ordered]


def ocsf_text(report: AuditReport, checks: Mapping[str, Check], version: str, at: datetime | None = None) -> str:
    """The OCSF findings as one JSON array (the shape of Prowler's `.ocsf.json` files)."""
    return json.dumps(ocsf_findings(report, checks, version, at), indent=2) + "\n"
