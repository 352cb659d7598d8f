"""Every rule declares what it maps to and where it is documented: MITRE ATT&CK technique ids, and references with
an AWS documentation page for its events (peer rules besides, where a peer has one)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from detections import all_rules, rule
from detections.base import Rule
from detections.references import aws_api, elastic, panther, sigma

TECHNIQUE = re.compile(r"T[0-9]{4}(\.[0-9]{3})?")
AWS_DOCS = "https://docs.aws.amazon.com/"
PEERS = (
    "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/",
    "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/",
    "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/",
)


def metadata_problems(detection: Rule) -> list[str]:
    """What is missing or malformed in a rule's MITRE ATT&CK ids and references (empty: nothing)."""
    problems = []
    techniques = detection.reports.get("MITRE ATT&CK", ())
    if not techniques:
        problems.append("no MITRE ATT&CK technique")
    problems += [f"not a technique id: {t!r}" for t in techniques if not TECHNIQUE.fullmatch(t)]
    if len(set(techniques)) != len(techniques):
        problems.append("a technique listed twice")
    refs = detection.references
    if not any(r.startswith(AWS_DOCS) for r in refs):
        problems.append("no AWS documentation reference")
    problems += [
        f"neither AWS documentation nor a peer rule: {r}" for r in refs if not r.startswith((AWS_DOCS, *PEERS))
    ]
    if len(set(refs)) != len(refs):
        problems.append("a reference listed twice")
    return problems


@pytest.mark.parametrize("detection", all_rules(), ids=lambda r: r.id)
def test_rule_declares_mitre_techniques_and_references(detection: Rule) -> None:
    assert metadata_problems(detection) == []


def test_a_rule_without_them_is_caught() -> None:
    complete = rule("access_key_created")
    assert metadata_problems(dataclasses.replace(complete, reports={"CIS": ("1.4",)})) == ["no MITRE ATT&CK technique"]
    assert metadata_problems(dataclasses.replace(complete, references=())) == ["no AWS documentation reference"]
    odd = dataclasses.replace(
        complete, reports={"MITRE ATT&CK": ("T1098.1",)}, references=(*complete.references, "http://example.com")
    )
    assert metadata_problems(odd) == [
        "not a technique id: 'T1098.1'",
        "neither AWS documentation nor a peer rule: http://example.com",
    ]


def test_reference_links_are_spelled_one_way() -> None:
    assert aws_api("iam.amazonaws.com", "CreateAccessKey") == (
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html"
    )
    assert aws_api("sts.amazonaws.com", "AssumeRoot").endswith("/STS/latest/APIReference/API_AssumeRoot.html")
    with pytest.raises(KeyError):
        aws_api("s3.amazonaws.com", "PutBucketPolicy")  # no rule reads S3: no page to point at
    assert sigma("aws_root_account_usage").startswith(PEERS[0]) and sigma("x").endswith("/cloudtrail/x.yml")
    assert panther("aws_root_activity").startswith(PEERS[1]) and panther("x").endswith("/x.yml")
    assert elastic("initial_access_console_login_root").startswith(PEERS[2]) and elastic("x").endswith("/x.toml")


def test_api_references_name_calls_the_rules_read() -> None:
    """An API page cited is of a call some rule reads (a typo in an operation name shows here); a rule may cite a
    call another rule reads for it (privileged_user_created correlates with user_created's CreateUser)."""
    api = re.compile(r"https://docs\.aws\.amazon\.com/[^/]+/(?:latest|1\.0)/APIReference/API_([A-Za-z0-9]+)\.html")
    cited = {found.group(1) for r in all_rules() for ref in r.references if (found := api.fullmatch(ref))}
    assert cited
    assert {op for op in cited if not any(r.reads(op, root=False) for r in all_rules())} == set()
