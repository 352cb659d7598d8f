"""`bot.py replay` offline on one CloudTrail file: the rules of issue 11 (part b) alert, and remember across records
(an AssumeRoot followed by its task session's call in the member account)."""

from __future__ import annotations

from pathlib import Path

from detections import example_records as s
from tests.replaying import replay_alerts

ROOT = Path(__file__).resolve().parents[2]


def _at(record: dict, minute: int) -> dict:
    return record | {"eventTime": f"2024-05-14T09:{minute:02d}:00Z"}


def records() -> list[dict]:
    issued = s.assume_root("S3UnlockBucketPolicy", event_id="00000000-0000-4000-8000-00000000b001")
    key = issued["responseElements"]["credentials"]["accessKeyId"]
    task_call = s.event(
        "DeleteBucketPolicy",
        "s3.amazonaws.com",
        event_id="00000000-0000-4000-8000-00000000b002",
        actor=s.root_task_session(key),
        request={"bucketName": "payments-exports"},
        recipientAccountId=s.MEMBER_ACCOUNT,
    )
    exposed = s.iam_user("ci-deployer")
    return [
        _at(issued, 0),
        _at(task_call, 2),
        _at(
            s.sign_in_step(
                s.root(console=False),
                "ExternalIdPDirectoryLogin",
                event_id="00000000-0000-4000-8000-00000000b003",
                success=False,
                error_message="Not a valid response for the provided request id",
            ),
            3,
        ),
        _at(
            s.iam_call(
                "AttachUserPolicy",
                {"userName": "ci-deployer", "policyArn": s.QUARANTINE_V3},
                event_id="00000000-0000-4000-8000-00000000b004",
                actor=exposed,
                user_agent="AWS Internal",
            ),
            4,
        ),
        _at(
            s.iam_call(
                "DetachUserPolicy",
                {"userName": "ci-deployer", "policyArn": s.QUARANTINE_V3},
                event_id="00000000-0000-4000-8000-00000000b005",
                actor=exposed,
            ),
            5,
        ),
        _at(
            s.iam_call(
                "EnableMFADevice",
                {"userName": "admin-carol", "serialNumber": "arn:aws:iam::111122223333:mfa/carol-new"},
                event_id="00000000-0000-4000-8000-00000000b006",
                actor=s.role_session("OpsAdmin", "mallory"),
            ),
            6,
        ),
        _at(
            s.sts_call(
                "GetFederationToken",
                {"name": "admin", "durationSeconds": 3600},
                {"federatedUser": {"arn": "arn:aws:sts::111122223333:federated-user/admin"}},
                event_id="00000000-0000-4000-8000-00000000b007",
                actor=s.iam_user("svc-reporting"),
            ),
            7,
        ),
        _at(s.console_login(s.iam_user("tester"), event_id="00000000-0000-4000-8000-00000000b008"), 8),
    ]


def test_replay_raises_the_new_alerts_offline(tmp_path: Path) -> None:
    path = tmp_path / "111122223333_CloudTrail_us-east-1_20240514T0900Z_b.json"
    alerts, _ = replay_alerts(path, records())
    assert [(a["event_id"][-4:], a["rule"], a["severity"]) for a in alerts] == [
        ("b001", "assume_root", "high"),
        ("b002", "root_activity", "high"),
        ("b003", "root_login_failed", "high"),
        ("b004", "key_quarantined", "high"),
        ("b005", "quarantine_removed", "critical"),
        ("b006", "mfa_registered", "medium"),
        ("b007", "federation_token_issued", "medium"),
        ("b008", "console_login_without_mfa", "medium"),
    ]
    titles = [a["title"] for a in alerts]
    assert titles[1] == "Root task session (S3UnlockBucketPolicy) called DeleteBucketPolicy"
    assert titles[2] == "Failed root sign-in step: ExternalIdPDirectoryLogin"
    assert alerts[1]["account"] == s.MEMBER_ACCOUNT
