"""What the key, MFA, federation and console-login rules put in their alerts beyond firing."""

from __future__ import annotations

from detections import example_records as s
from detections import rule
from tests.detections.test_rules import fired


def test_quarantine_names_the_exposed_key_and_offers_disabling_it() -> None:
    exposed = s.iam_user("ci-deployer")
    record = s.iam_call(
        "AttachUserPolicy",
        {"userName": "ci-deployer", "policyArn": s.QUARANTINE_V3},
        event_id="t-q-1",
        actor=exposed,
        user_agent="AWS Internal",
    )
    alert = fired(record)["key_quarantined"]
    assert alert.facts["Exposed key"] == exposed["accessKeyId"]
    assert alert.remediation == {"key_user": "ci-deployer", "access_key_id": exposed["accessKeyId"]}
    assert "privileged_grant" not in fired(record)


def test_quarantine_by_someone_else_offers_all_the_users_keys() -> None:
    record = s.iam_call(
        "AttachUserPolicy",
        {"userName": "test-user", "policyArn": s.QUARANTINE_V2},
        event_id="t-q-2",
        actor=s.role_session("a-role", "user.name"),
    )
    alert = fired(record)["key_quarantined"]
    assert alert.facts["Exposed key"] == "not in the record"
    assert alert.remediation == {"key_user": "test-user"}


def test_quarantine_removed_with_the_leaked_key_says_so() -> None:
    leaked = s.iam_user("ci-deployer")
    record = s.iam_call(
        "DetachUserPolicy", {"userName": "ci-deployer", "policyArn": s.QUARANTINE_V3}, event_id="t-q-3", actor=leaked
    )
    alert = fired(record)["quarantine_removed"]
    assert alert.severity == "critical"
    assert alert.facts["Removed with the user's own key"] == leaked["accessKeyId"]
    assert alert.remediation == {"key_user": "ci-deployer"}


def test_root_mfa_enrollment_is_one_high_alert_not_also_root_activity() -> None:
    record = s.iam_call(
        "EnableMFADevice",
        {"userName": "AWS ROOT USER", "serialNumber": "arn:aws:iam::111122223333:mfa/root-account-mfa-device"},
        event_id="t-m-1",
        actor=s.root(),
    )
    alerts = fired(record)
    assert set(alerts) == {"mfa_registered"}
    assert alerts["mfa_registered"].severity == "high"
    assert alerts["mfa_registered"].target == "arn:aws:iam::111122223333:root"


def test_mfa_enrolled_for_another_user_is_medium_and_names_the_device() -> None:
    serial = "arn:aws:iam::111122223333:mfa/carol-new"
    record = s.iam_call(
        "EnableMFADevice",
        {"userName": "admin-carol", "serialNumber": serial},
        event_id="t-m-2",
        actor=s.role_session("OpsAdmin", "mallory"),
    )
    alert = fired(record)["mfa_registered"]
    assert alert.severity == "medium" and alert.facts["MFA device"] == serial
    assert alert.target == "arn:aws:iam::111122223333:user/admin-carol"


def test_root_task_session_creating_the_root_password_is_named() -> None:
    key = s.access_key_id("t-lp", temporary=True)
    record = s.iam_call("CreateLoginProfile", None, event_id="t-lp-1", actor=s.root_task_session(key))
    task = {"by": "arn:aws:sts::111122223333:assumed-role/Admin/bob", "task": s.ROOT_TASK + "IAMCreateRootUserPassword"}
    alerts = fired(record, {"task_sessions": {key: task}})
    assert set(alerts) == {"login_profile_created"}
    alert = alerts["login_profile_created"]
    assert alert.title == "Console password created for the root user" and alert.severity == "high"
    assert alert.facts["Requested by"] == task["by"] and alert.facts["Task policy"] == task["task"]
    # The root user's own CreateLoginProfile (no task session known) is still reported, as root's.
    assert fired(record)["login_profile_created"].facts.get("Root session") is None


def test_federation_token_says_what_the_session_may_do_and_for_how_long() -> None:
    rule_examples = {ex.name: ex for ex in rule("federation_token_issued").examples}
    wide = fired(rule_examples["stolen key mints a federated session allowing everything"].record)
    alert = wide["federation_token_issued"]
    assert alert.facts == {
        "Federated user": "admin",
        "Issued by": "svc-reporting",
        "Lifetime": "3600 s",
        "Session policy": "allows everything the user may do",
    }
    assert alert.target == "arn:aws:sts::111122223333:federated-user/admin"
    assert alert.actor_key_id.startswith("AKIA")  # the issuing key, which the alert's actor-key button disables
    plain = fired(rule_examples["federated session without a session policy, default lifetime"].record)
    assert plain["federation_token_issued"].facts["Lifetime"] == "43200 s (the default)"
    assert plain["federation_token_issued"].facts["Session policy"] == "none (the user's own permissions)"


def test_console_login_with_a_saml_provider_is_never_reported_without_mfa() -> None:
    """Panther's "MFA Login - SAML" record: an IAMUser identity whose sign-in names a SAML provider."""
    record = s.console_login(s.iam_user("tester"), event_id="t-c-1")
    assert "console_login_without_mfa" in fired(record)
    record["additionalEventData"]["SamlProviderArn"] = "arn:aws:iam::111122223333:saml-provider/Okta"
    assert "console_login_without_mfa" not in fired(record)


def test_console_login_without_the_mfa_field_is_not_reported() -> None:
    record = s.console_login(s.iam_user("tester"), event_id="t-c-2")
    del record["additionalEventData"]["MFAUsed"]
    assert "console_login_without_mfa" not in fired(record)


def test_quarantine_applied_by_a_person_says_who() -> None:
    actor = s.role_session("SecOps", "responder")
    record = s.iam_call(
        "AttachUserPolicy", {"userName": "ci-deployer", "policyArn": s.QUARANTINE_V3}, event_id="t-q-4", actor=actor
    )
    alert = fired(record)["key_quarantined"]
    assert alert.facts["Applied by"] == actor["arn"]
    assert alert.title == "AWS's compromised-key quarantine put on user ci-deployer"
    record["userAgent"] = "AWS Internal"
    by_aws = fired(record)["key_quarantined"]
    assert by_aws.facts["Applied by"] == "AWS"
    assert by_aws.title == "Access key of user ci-deployer quarantined by AWS (found in public)"


def test_detaching_the_quarantine_policy_is_one_alert_not_two() -> None:
    """quarantine_removed and guardrail_removed both read the detach; the specific rule replaces the generic one."""
    record = s.iam_call(
        "DetachUserPolicy",
        {"userName": "ci-deployer", "policyArn": s.QUARANTINE_V2},
        event_id="t-q-4",
        actor=s.role_session("a-role", "user.name"),
    )
    assert set(fired(record)) == {"quarantine_removed"}


def test_federation_token_lifetime_read_from_text_as_cloudtrail_lake_returns_it() -> None:
    rule_examples = {ex.name: ex for ex in rule("federation_token_issued").examples}
    record = rule_examples["stolen key mints a federated session allowing everything"].record
    as_text = {**record, "requestParameters": {**record["requestParameters"], "durationSeconds": "3600"}}
    assert fired(as_text)["federation_token_issued"].facts["Lifetime"] == "3600 s"
    not_a_number = {**record, "requestParameters": {**record["requestParameters"], "durationSeconds": "soon"}}
    assert fired(not_a_number)["federation_token_issued"].facts["Lifetime"] == "43200 s (the default)"
