"""No expired SSL/TLS server certificate is stored in IAM."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import day, now_of
from core.severity import Severity
from core.times import utc
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per stored server certificate: fail once its Expiration has passed, pass before; one passing
    account-wide finding when IAM stores none."""
    certificates = sorted(snapshot.server_certificates or [], key=lambda c: str(c.get("Arn")))
    now = now_of(snapshot)
    for certificate in certificates:
        arn = str(certificate.get("Arn") or certificate.get("ServerCertificateName", "?"))
        name = certificate.get("ServerCertificateName", "?")
        expires = utc(certificate.get("Expiration"))
        if expires is not None and expires <= now:
            yield fail(arn, f"Server certificate {name} expired on {day(expires)} and is still stored in IAM.")
        else:
            until = f" until {day(expires)}" if expires else ""
            yield ok(arn, f"Server certificate {name} is valid{until}.")
    if not certificates:
        yield ok(ACCOUNT, "IAM stores no server certificates.")


CHECK = Check(
    id="expired_server_certificates",
    title="Expired server certificate stored in IAM",
    severity=Severity.MEDIUM,
    rationale=(
        "An expired certificate left in IAM can still be attached to a load balancer or CloudFront by mistake, "
        "breaking the site or teaching users to click through warnings, and it clutters the inventory that tells "
        "which certificates really serve traffic."
    ),
    remediation=(
        "Check nothing uses it, then delete it: `aws iam delete-server-certificate --server-certificate-name "
        "<name>`; move live certificates to AWS Certificate Manager, which renews them."
    ),
    needs=("server_certificates",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.18",), "Security Hub": ("IAM.26",)},
)
