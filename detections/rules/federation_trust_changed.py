"""An identity provider, Identity Center identity source or Roles Anywhere trust anchor was added or changed."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import ACCOUNT, event, iam_call, role_session
from detections.references import aws_api, elastic, sigma

# eventSource -> the calls of that service that change whom the account lets in, and how the alert words them.
CHANGES: dict[str, dict[str, str]] = {
    "iam.amazonaws.com": {
        "CreateSAMLProvider": "SAML identity provider created",
        "UpdateSAMLProvider": "SAML identity provider's metadata replaced",
        "DeleteSAMLProvider": "SAML identity provider deleted",
        "CreateOpenIDConnectProvider": "OpenID Connect identity provider created",
        "UpdateOpenIDConnectProviderThumbprint": "OpenID Connect provider's certificate thumbprints replaced",
        "AddClientIDToOpenIDConnectProvider": "audience (client id) added to an OpenID Connect provider",
        "RemoveClientIDFromOpenIDConnectProvider": "audience (client id) removed from an OpenID Connect provider",
    },
    "sso.amazonaws.com": {
        "AssociateDirectory": "directory made the Identity Center identity source",
        "DisassociateDirectory": "directory removed as the Identity Center identity source",
    },
    "sso-directory.amazonaws.com": {
        "CreateExternalIdPConfigurationForDirectory": "external identity provider set as Identity Center's source",
        "UpdateExternalIdPConfigurationForDirectory": "Identity Center's external identity provider changed",
        "EnableExternalIdPConfigurationForDirectory": "Identity Center's external identity provider enabled",
        "DisableExternalIdPConfigurationForDirectory": "Identity Center's external identity provider disabled",
        "DeleteExternalIdPConfigurationForDirectory": "Identity Center's external identity provider deleted",
    },
    "rolesanywhere.amazonaws.com": {
        "CreateTrustAnchor": "IAM Roles Anywhere trust anchor created",
        "UpdateTrustAnchor": "IAM Roles Anywhere trust anchor's certificate source changed",
        "EnableTrustAnchor": "IAM Roles Anywhere trust anchor enabled",
        "CreateProfile": "IAM Roles Anywhere profile created",
        "UpdateProfile": "IAM Roles Anywhere profile changed",
        "EnableProfile": "IAM Roles Anywhere profile enabled",
    },
}
# Where each kind of call names what it changed: request fields, then response fields (nested one level).
_SUBJECT_FIELDS = (
    "sAMLProviderArn",
    "openIDConnectProviderArn",
    "trustAnchorArn",
    "profileArn",
    "trustAnchorId",
    "profileId",
    "directoryId",
    "url",
    "name",
)


def _subject(record: dict) -> str | None:
    """The ARN, id or name of the provider, anchor or profile the call changed."""
    req, resp = ct.request(record), ct.response(record)
    for where in (req, resp, *(v for v in resp.values() if isinstance(v, dict))):
        for field in _SUBJECT_FIELDS:
            value = where.get(field)
            if isinstance(value, str) and value:
                return value
    return None


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful call that adds or changes a way into the account that needs no IAM user."""
    change = CHANGES.get(str(record.get("eventSource") or ""), {}).get(str(record.get("eventName") or ""))
    if change is None or ct.failed(record):
        return None
    subject = _subject(record)
    facts = {"Change": change} | ({"Changed": subject} if subject else {})
    title = change[0].upper() + change[1:] + (f": {subject.rsplit('/', 1)[-1]}" if subject else "")
    return Match(title=title, target=subject, facts=facts)


_SAML = f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"
_GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
_ANCHOR = f"arn:aws:rolesanywhere:us-east-1:{ACCOUNT}:trust-anchor/2f6e1a7c-4b3d-4e8f-9a0b-1c2d3e4f5a6b"
_INTRUDER = role_session("OpsAdmin", "mallory")
_METADATA = '<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor entityID="http://www.okta.com/exk1a2b3c4"/>'

RULE = Rule(
    id="federation_trust_changed",
    severity=Severity.HIGH,
    title="Federation trust changed",
    rationale=(
        "A SAML or OpenID Connect provider, Identity Center's identity source or a Roles Anywhere trust anchor "
        "decides which outside identities and certificates may become roles in the account. Adding or changing "
        "one is an account-wide backdoor that needs no IAM user, no access key and no password, and that "
        "survives the removal of every credential used to plant it."
    ),
    response=(
        "Confirm with the identity team that the change was planned. If not, restore the provider's metadata, "
        "thumbprints and audiences (or delete the provider, anchor or profile), then look for role sessions "
        "federated through it since the change and review the caller's other activity."
    ),
    event_names=frozenset(name for names in CHANGES.values() for name in names),
    event_sources=frozenset(CHANGES),
    match=match,
    reports={"MITRE ATT&CK": ("T1484.002", "T1556.007")},
    references=(
        aws_api("iam.amazonaws.com", "CreateSAMLProvider"),
        aws_api("iam.amazonaws.com", "CreateOpenIDConnectProvider"),
        aws_api("rolesanywhere.amazonaws.com", "CreateTrustAnchor"),
        sigma("aws_sso_idp_change"),
        elastic("persistence_iam_saml_provider_created"),
        elastic("persistence_iam_oidc_provider_created"),
        elastic("persistence_iam_roles_anywhere_trusted_anchor_created_with_external_ca"),
    ),
    examples=(
        Example(
            "SAML provider created",
            iam_call(
                "CreateSAMLProvider",
                {"sAMLMetadataDocument": _METADATA, "name": "Okta"},
                {"sAMLProviderArn": _SAML},
                event_id="d27e0b8a-f6d9-4fce-8a7b-8b9c0d1e2f17",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "GitHub OIDC provider's thumbprints replaced",
            iam_call(
                "UpdateOpenIDConnectProviderThumbprint",
                {"openIDConnectProviderArn": _GITHUB, "thumbprintList": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]},
                None,
                event_id="e38f1c9b-a7ea-4adf-9b8c-9c0d1e2f3a18",
            ),
            expect=True,
        ),
        Example(
            "Roles Anywhere trust anchor created",
            event(
                "CreateTrustAnchor",
                "rolesanywhere.amazonaws.com",
                event_id="f49a2d0c-b8fb-4bea-8c9d-0d1e2f3a4b19",
                actor=_INTRUDER,
                request={
                    "name": "contractor-ca",
                    "source": {
                        "sourceType": "CERTIFICATE_BUNDLE",
                        "sourceData": {"x509CertificateData": "-----BEGIN CERTIFICATE-----\nMIIB..."},
                    },
                    "enabled": True,
                },
                response={"trustAnchor": {"trustAnchorArn": _ANCHOR, "name": "contractor-ca", "enabled": True}},
            ),
            expect=True,
        ),
        Example(
            "Identity Center's external identity provider changed",
            event(
                "UpdateExternalIdPConfigurationForDirectory",
                "sso-directory.amazonaws.com",
                event_id="05ab3e1d-c90c-4cfb-9dae-1e2f3a4b5c20",
                request={"directoryId": "d-9067a1b2c3"},
            ),
            expect=True,
        ),
        Example(
            "SAML provider creation refused",
            iam_call(
                "CreateSAMLProvider",
                {"sAMLMetadataDocument": _METADATA, "name": "Okta"},
                None,
                event_id="16bc4f2e-da1d-4d0c-8ebf-2f3a4b5c6d21",
                error="AccessDenied",
                actor=_INTRUDER,
            ),
            expect=False,
        ),
        Example(
            "an Identity Center console profile, not a Roles Anywhere one",
            event(
                "CreateProfile",
                "sso.amazonaws.com",
                event_id="27cd5a3f-eb2e-4e1d-9fc0-3a4b5c6d7e22",
                request={"instanceId": "ins-1a2b3c4d5e6f7a8b", "profile": {"name": "default"}},
            ),
            expect=False,
        ),
    ),
)
