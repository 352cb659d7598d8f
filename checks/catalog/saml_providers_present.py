"""People arrive through federation: SAML providers exist, and their metadata has not expired."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import day, now_of, principal_name
from checks.helpers_roles_trails import is_identity_center_role
from core.severity import Severity
from core.times import utc
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per SAML provider: pass with its metadata expiry (ValidUntil), fail once that date has passed. With no
    provider: pass when IAM Identity Center roles show federation in use, fail otherwise."""
    providers = sorted(snapshot.saml_providers or [], key=lambda p: str(p.get("Arn")))
    now = now_of(snapshot)
    for provider in providers:
        arn = str(provider.get("Arn", "?"))
        name = principal_name(arn)
        until = utc(provider.get("ValidUntil"))
        if until is None:
            yield ok(arn, f"SAML provider {name} is present (its metadata expiry is not given).")
        elif until <= now:
            yield fail(arn, f"SAML provider {name}'s metadata expired on {day(until)}: sign-ins through it fail.")
        else:
            yield ok(arn, f"SAML provider {name} is present; its metadata is valid until {day(until)}.")
    if providers:
        return
    if any(is_identity_center_role(r) for r in snapshot.roles or []):
        yield ok(ACCOUNT, "No IAM SAML provider, but IAM Identity Center roles show people arrive through it.")
    else:
        yield fail(ACCOUNT, "No SAML provider and no IAM Identity Center roles: people sign in as IAM users.")


CHECK = Check(
    id="saml_providers_present",
    title="No identity federation (SAML) or expired SAML metadata",
    severity=Severity.LOW,
    rationale=(
        "When people sign in through the company's identity provider, leaving the company ends their AWS "
        "access too, MFA is enforced in one place, and nobody holds a long-lived IAM password. A SAML provider "
        "whose metadata has expired breaks every sign-in through it, which tends to be fixed under pressure."
    ),
    remediation=(
        "Federate through IAM Identity Center, or create a SAML provider: `aws iam create-saml-provider --name "
        "<idp> --saml-metadata-document file://metadata.xml`; refresh expiring metadata with `aws iam "
        "update-saml-provider --saml-provider-arn <arn> --saml-metadata-document file://metadata.xml`."
    ),
    needs=("saml_providers", "authorization"),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.20",)},
)
