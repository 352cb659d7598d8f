"""Secrets taken out of a CloudTrail record before anyone is shown it (or it is kept): a copy with every value that
is, or looks like, a credential replaced by REDACTED.

Two tests, both cheap: the key a string sits under (secretAccessKey, sessionToken, password, SAMLAssertion,
privateKey, …, but not the names of those things: secretId, passwordPolicy, tokenCodeLength) and the text itself
(a PEM private key, a Slack token, a JWT, `password=…` inside a longer string). CloudTrail already hides some
values (HIDDEN_DUE_TO_SECURITY_REASONS); this covers the rest and whatever a custom event source writes.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"
MAX_DEPTH = 40  # deeper than any CloudTrail record; a deeper value is replaced, never walked
_SECRET_WORDS = ("secret", "password", "passphrase", "token", "privatekey", "assertion", "credential", "apikey")
# Keys that name or describe a secret rather than hold it.
_SAFE_ENDINGS = (
    "id",
    "ids",
    "arn",
    "name",
    "type",
    "policy",
    "length",
    "age",
    "required",
    "expiration",
    "count",
    "fromconsole",
)
_SECRET_TEXT = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"  # PEM private keys
    r"|xox[abposr]-[A-Za-z0-9-]{8,}"  # Slack tokens
    r"|xapp-[A-Za-z0-9-]{8,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",  # JWTs (OIDC tokens)
    re.DOTALL,
)
# `password=hunter2`, `aws_secret_access_key: abc` inside a longer text (a command line, a user data script).
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(?<![\w:/])((?:aws_)?(?:secret_?access_?key|session_?token|password|passwd|secret|token)[\"']?\s*[=:]\s*[\"']?)"
    r"[^\s\"',;&]+"
)


def secret_key(key: str) -> bool:
    """Whether a value under this key is a secret (compared without case, `_` or `-`)."""
    name = re.sub(r"[^a-z0-9]", "", key.lower())
    return any(word in name for word in _SECRET_WORDS) and not name.endswith(_SAFE_ENDINGS)


def redact_text(text: str) -> str:
    """The text with secret-looking parts replaced."""
    text = _SECRET_TEXT.sub(REDACTED, text)
    return _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + REDACTED, text)


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of a JSON value (a record) with its secrets replaced; the input is not changed."""
    if depth > MAX_DEPTH:
        return "[REDACTED: nested too deeply]"
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str)
            and secret_key(key)
            and isinstance(item, str | int | float)
            and not isinstance(item, bool)
            and item != ""
            else redact(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item, depth + 1) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
