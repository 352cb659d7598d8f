"""Secrets taken out of CloudTrail records: by the key they sit under and by how they look, names of secrets kept."""

from __future__ import annotations

import copy
import json

from core.redaction import REDACTED, redact, secret_key
from detections import example_records


def test_credentials_in_a_response_are_redacted_and_their_names_kept():
    record = example_records.sts_call(
        "AssumeRole",
        {"roleArn": "arn:aws:iam::111122223333:role/Ops", "roleSessionName": "s"},
        {
            "credentials": {
                "accessKeyId": "ASIAEXAMPLE000000001",
                "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "sessionToken": "FwoGZXIvYXdzEXAMPLE",
                "expiration": "Dec 2, 2026, 9:00:00 AM",
            }
        },
        event_id="evt-assume",
    )
    before = copy.deepcopy(record)
    clean = redact(record)
    assert record == before  # the input is left as it was
    credentials = clean["responseElements"]["credentials"]
    assert credentials["secretAccessKey"] == credentials["sessionToken"] == REDACTED
    assert credentials["accessKeyId"] == "ASIAEXAMPLE000000001" and credentials["expiration"].startswith("Dec")
    assert clean["eventName"] == "AssumeRole" and clean["userIdentity"] == record["userIdentity"]


def test_passwords_keys_and_tokens_go_by_key_name_but_not_the_names_of_secrets():
    record = {
        "requestParameters": {
            "userName": "bob",
            "password": "hunter2",
            "newPassword": "hunter3",
            "passwordResetRequired": True,
            "SAMLAssertion": "PHNhbWw+",
            "privateKey": "key material",
            "secretId": "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
            "secretString": "s3cr3t",
            "tokenCode": "123456",
            "client_secret": "abc",
        },
        "sessionCredentialFromConsole": "true",
        "additionalEventData": {"MFAUsed": "Yes"},
    }
    clean = redact(record)["requestParameters"]
    assert [k for k, v in clean.items() if v == REDACTED] == [
        "password",
        "newPassword",
        "SAMLAssertion",
        "privateKey",
        "secretString",
        "tokenCode",
        "client_secret",
    ]
    assert clean["secretId"].endswith(":secret:db-AbCdEf") and clean["passwordResetRequired"] is True
    assert redact(record)["sessionCredentialFromConsole"] == "true"
    assert not secret_key("passwordPolicy") and not secret_key("secretArn") and secret_key("x-amz-security-token")


def test_secrets_inside_text_are_redacted_wherever_they_are():
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    record = {
        "requestParameters": {
            "userData": "#!/bin/sh\nexport AWS_SECRET_ACCESS_KEY=abcd1234\nrun --password=hunter2 --user bob",
            "certificate": f"cert then {pem} done",
            "list": ["xoxb-123456789-abcdefghij", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2ln", "plain"],
        }
    }
    clean = json.dumps(redact(record))
    for secret in ("abcd1234", "hunter2", "MIIEow", "xoxb-123456789", "eyJhbGci"):
        assert secret not in clean, secret
    assert (
        "AWS_SECRET_ACCESS_KEY=[REDACTED]" in clean and "--user bob" in clean and "cert then [REDACTED] done" in clean
    )
    assert '"plain"' in clean


def test_a_value_nested_deeper_than_any_record_is_replaced_not_walked():
    deep: dict = {"v": "x"}
    for _ in range(100):
        deep = {"d": deep}
    assert "nested too deeply" in json.dumps(redact(deep))
