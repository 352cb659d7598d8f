"""Fix commands with the finding's own resource filled in, instead of `<user>`-style placeholders."""

from __future__ import annotations

import re

_COMMAND = re.compile(r"`(aws [^`]+)`")
_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")


def placeholders(resource: str, detail: str = "") -> dict[str, str]:
    """What the finding's resource (an ARN) and detail say for each placeholder the checks' remediations use.

    Only unambiguous values: `<arn>` for a policy, `<user>`/`<role>`/`<name>` from a user's or role's ARN, `<trail>`
    from a trail's, `<id>` when the detail names exactly one access key."""
    values: dict[str, str] = {}
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        service, path = parts[2], parts[5]
        kind, _, rest = path.partition("/")
        name = rest.rsplit("/", 1)[-1]
        if service == "iam" and kind in ("user", "role") and name:
            values[f"<{kind}>"] = name
            values["<name>"] = name
        elif service == "iam" and kind == "policy":
            values["<arn>"] = resource
        elif service == "cloudtrail" and kind == "trail" and name:
            values["<trail>"] = name
    keys = set(_KEY_ID.findall(detail))
    if len(keys) == 1:
        values["<id>"] = keys.pop()
    return values


def fill(text: str, resource: str, detail: str = "") -> str:
    """`text` with every placeholder the resource answers replaced; the others are left for the reader."""
    for placeholder, value in placeholders(resource, detail).items():
        text = text.replace(placeholder, value)
    return text


def commands(remediation: str, resource: str, detail: str = "") -> list[str]:
    """The `aws ...` commands quoted in a remediation, filled in for this resource (each once, in order)."""
    seen: list[str] = []
    for command in _COMMAND.findall(fill(remediation, resource, detail)):
        if command not in seen:
            seen.append(command)
    return seen
