"""Fix commands filled with the finding's resource: only what the ARN (or detail) says for sure."""

from __future__ import annotations

from audit.fixes import commands, fill, placeholders

USER = "arn:aws:iam::123456789012:user/dev/alice"
ROLE = "arn:aws:iam::123456789012:role/service-role/deployer"


def test_a_users_arn_fills_user_and_name_and_one_key_in_the_detail():
    text = "`aws iam update-access-key --user-name <user> --access-key-id <id> --status Inactive`"
    assert commands(text, USER, "key AKIAABCDEFGHIJKLMNOP unused for 120 days") == [
        "aws iam update-access-key --user-name alice --access-key-id AKIAABCDEFGHIJKLMNOP --status Inactive"
    ]


def test_two_keys_in_the_detail_leave_the_key_placeholder():
    detail = "AKIAABCDEFGHIJKLMNOP and AKIAQRSTUVWXYZ234567 are both active"
    assert "<id>" in fill("--access-key-id <id>", USER, detail)


def test_a_role_fills_role_but_not_user_and_a_policy_fills_arn():
    assert placeholders(ROLE) == {"<role>": "deployer", "<name>": "deployer"}
    policy = "arn:aws:iam::123456789012:policy/too-broad"
    assert fill("--policy-arn <arn> --user-name <user>", policy) == f"--policy-arn {policy} --user-name <user>"


def test_a_trail_and_an_account_wide_finding():
    trail = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-trail"
    assert fill("start-logging --name <trail>", trail) == "start-logging --name org-trail"
    assert placeholders("account") == {}


def test_commands_are_listed_once_in_order():
    text = "Run `aws iam a --user-name <user>`, then `aws iam b`, then `aws iam a --user-name <user>` again."
    assert commands(text, USER) == ["aws iam a --user-name alice", "aws iam b"]
