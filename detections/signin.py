"""Console sign-in events (eventType AwsConsoleSignIn): their outcome is not where API calls keep theirs."""

from __future__ import annotations

from core import cloudtrail as ct

SIGN_IN = "AwsConsoleSignIn"


def is_sign_in(record: dict) -> bool:
    """Whether the record is a step of a console sign-in (ConsoleLogin, CheckMfa, ExternalIdPDirectoryLogin, ...)."""
    return record.get("eventType") == SIGN_IN or record.get("eventName") == "ConsoleLogin"


def succeeded(record: dict) -> bool | None:
    """A sign-in step's outcome: CloudTrail writes it as `{eventName: "Success" | "Failure"}` in responseElements,
    with no errorCode. True or False from there; a step that says neither failed when it carries an error, else
    its outcome is unknown (None)."""
    said = ct.response(record).get(str(record.get("eventName") or ""))
    if said == "Success":
        return True
    if said == "Failure":
        return False
    return False if ct.failed(record) else None
