"""An audit that could not run everywhere says so in every form of its report and never exits 0."""

from __future__ import annotations

import csv
import io

import boto3
from botocore.awsrequest import AWSResponse

from audit import terminal
from audit.runner import Auditor
from aws.sessions import AwsSessions
from checks import all_checks
from storage import Store
from tests.audit.test_lifecycle import A1, A2, CHECKS, FakeSessions, World, user

OWN = "123456789012"  # moto's account
MEMBER = "210987654321"
PASSING_ON_A_NEW_ACCOUNT = ("admin_principals", "root_access_keys", "console_user_without_mfa")


def deny_member_role(params: dict, **_: object):
    """A before-call hook answering sts:AssumeRole into MEMBER with AccessDenied (moto grants every role)."""
    if MEMBER not in str(params.get("body", "")):
        return None
    error = {"Code": "AccessDenied", "Message": f"not authorized to assume a role in {MEMBER}", "Type": "Sender"}
    return AWSResponse("https://sts.amazonaws.com/", 403, {}, None), {"Error": error, "ResponseMetadata": {}}


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_one_of_two_accounts_unreachable_is_named_in_every_form_and_exits_4(aws: boto3.Session):
    aws.events.register("before-call.sts.AssumeRole", deny_member_role)
    checks = tuple(c for c in all_checks() if c.id in PASSING_ON_A_NEW_ACCOUNT)
    auditor = Auditor(AwsSessions(aws), Store(":memory:"), (OWN, MEMBER), checks=checks)
    report = auditor.run("cli")

    assert report.audited() == [OWN] and list(report.unaudited) == [MEMBER]
    assert report.unaudited[MEMBER].startswith("access denied: ") and "cannot assume" in report.unaudited[MEMBER]
    assert report.failing() == [] and {r.status for r in report.results} == {"pass"}  # what ran is clean...
    assert report.exit_code() == 4  # ...but the member account was never seen
    assert report.failure() is None and not report.complete()
    [error] = report.as_json()["errors"]
    assert error.startswith(f"{MEMBER}: cannot assume arn:aws:iam::{MEMBER}:role/IAMWardenMember (AccessDenied)")
    [gap] = [r for r in csv_rows(report.csv_text()) if r["status"] == "error"]
    assert (gap["account"], gap["resource"], gap["check"]) == (MEMBER, "account", "")
    assert "cannot assume" in gap["detail"]
    table = terminal.table(report, {})
    assert "1 of 2 account(s) audited" in table and "AUDIT INCOMPLETE: 1 account(s) not audited" in table
    assert "no open findings;" not in table


def test_exit_codes_complete_incomplete_blocking_and_unreached(tmp_path):
    store = Store(tmp_path / "a.db")
    clean = World({A1: [user(A1, "carol")]}, min_length=16)
    assert Auditor(FakeSessions(), store, (A1,), collect=clean.collect, checks=CHECKS).run("cli").exit_code() == 0

    clean.missing_parts = {"authorization": "AccessDenied on iam:GetAccountAuthorizationDetails"}
    skipped = Auditor(FakeSessions(), store, (A1,), collect=clean.collect, checks=CHECKS).run("cli")
    assert skipped.exit_code() == 4 and skipped.audited() == [A1]  # test_password ran, test_mfa could not
    [gap] = [r for r in csv_rows(skipped.csv_text()) if r["status"] == "error"]
    assert (gap["check"], gap["account"]) == ("test_mfa", A1) and "AccessDenied" in gap["detail"]
    assert "1 check(s) could not run" in terminal.table(skipped, {})

    blocking = World({A1: [user(A1, "bad-alice")]}, min_length=16, unreachable={A2})
    report = Auditor(FakeSessions(), store, (A1, A2), collect=blocking.collect, checks=CHECKS).run("cli")
    assert report.exit_code() == 3 and report.audited() == [A1]  # critical open, even though A2 was not seen

    nowhere = World({}, unreachable={A1, A2})
    unreached = Auditor(FakeSessions(), store, (A1, A2), collect=nowhere.collect, checks=CHECKS).run("cli")
    assert unreached.exit_code() == 2 and unreached.audited() == []
    assert unreached.failure() == (
        f"{A1}: cannot assume arn:aws:iam::{A1}:role/IAMWardenMember (AccessDenied) (and 1 other account(s) failed too)"
    )
    store.close()


def test_an_account_where_every_part_was_denied_is_not_audited(tmp_path):
    store = Store(tmp_path / "a.db")
    denied = {"authorization": "AccessDenied on iam:GetAccountAuthorizationDetails"}
    denied["password_policy"] = "AccessDenied on iam:GetAccountPasswordPolicy"
    world = World({A1: [user(A1, "bad-alice")]}, missing_parts=denied)
    report = Auditor(FakeSessions(), store, (A1,), collect=world.collect, checks=CHECKS).run("cli")
    assert report.exit_code() == 2 and report.unaudited == {
        A1: "access denied (authorization: AccessDenied on iam:GetAccountAuthorizationDetails; "
        "password_policy: AccessDenied on iam:GetAccountPasswordPolicy)"
    }
    assert report.failure() == f"account {A1}: {report.unaudited[A1]}"
    assert f"{A1}: not audited: access denied" in report.errors[-1]
    store.close()


def test_accounts_that_cannot_be_listed_name_the_cause():
    class NoCredentials(FakeSessions):
        def own_account(self) -> str:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()

    report = Auditor(NoCredentials(), Store(":memory:"), (A1,), checks=CHECKS).run("cli")
    assert report.exit_code() == 2 and report.accounts == []
    assert report.failure() is not None and report.failure().startswith("no AWS credentials")
    assert report.errors == ["could not list the accounts to audit: Unable to locate credentials"]


def test_the_slack_report_of_a_partial_audit_says_it_is_incomplete(aws: boto3.Session):
    from slackui import blocks

    aws.events.register("before-call.sts.AssumeRole", deny_member_role)
    checks = tuple(c for c in all_checks() if c.id in PASSING_ON_A_NEW_ACCOUNT)
    report = Auditor(AwsSessions(aws), Store(":memory:"), (OWN, MEMBER), checks=checks).run("cli")

    message = blocks.audit_report(report, {}, {})
    headline = message["blocks"][0]["text"]["text"]
    assert "*Incomplete:* 1 account(s) not audited" in headline
    assert ":white_check_mark: no open findings" not in headline  # what ran was clean, but MEMBER was never seen
    assert message["text"].startswith("IAM audit of 2 accounts (incomplete)")
    assert any(MEMBER in b.get("text", {}).get("text", "") for b in message["blocks"][1:])  # the gap is listed


def test_the_slack_report_of_a_complete_clean_audit_is_unchanged(aws: boto3.Session):
    from slackui import blocks

    checks = tuple(c for c in all_checks() if c.id in PASSING_ON_A_NEW_ACCOUNT)
    report = Auditor(AwsSessions(aws), Store(":memory:"), (OWN,), checks=checks).run("cli")

    assert report.complete()
    assert blocks.audit_report(report, {}, {})["blocks"][0]["text"]["text"].endswith(
        ":white_check_mark: no open findings"
    )
