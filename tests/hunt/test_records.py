"""hunt/records.py: a row of the CloudTrail table, as Athena returns it, back into the record the rules read."""

from __future__ import annotations

import json

from hunt.records import lake_record_of, record_of
from hunt.runner import run_pages
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store

ROW = {
    "eventversion": "1.09",
    "useridentity": json.dumps(
        {
            "type": "AssumedRole",
            "principalid": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/OpsAdmin/alice",
            "accountid": "111122223333",
            "invokedby": None,
            "onbehalfof": None,
            "sessioncontext": {
                "attributes": {"mfaauthenticated": "true", "creationdate": "2024-05-14T09:00:00Z"},
                "sessionissuer": {"type": "Role", "username": "OpsAdmin", "arn": None},
                "ec2roledelivery": None,
                "webidfederationdata": None,
            },
        }
    ),
    "eventtime": "2024-05-14T09:01:00Z",
    "eventname": "CreateUser",
    "requestparameters": '{"userName":"eve","tags":[{"key":"team","value":"red"}]}',
    "responseelements": None,
    "eventid": "00000000-0000-4000-8000-000000000001",
    "readonly": "false",
    "resources": json.dumps([{"arn": "arn:aws:iam::111122223333:user/eve", "accountid": "111122223333", "type": None}]),
    "recipientaccountid": "111122223333",
}


def test_a_row_becomes_the_record_with_cloudtrails_names_and_no_nulls():
    assert record_of(ROW) == {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/OpsAdmin/alice",
            "accountId": "111122223333",
            "sessionContext": {
                "attributes": {"mfaAuthenticated": "true", "creationDate": "2024-05-14T09:00:00Z"},
                "sessionIssuer": {"type": "Role", "userName": "OpsAdmin"},
            },
        },
        "eventTime": "2024-05-14T09:01:00Z",
        "eventName": "CreateUser",
        "requestParameters": {"userName": "eve", "tags": [{"key": "team", "value": "red"}]},
        "eventID": "00000000-0000-4000-8000-000000000001",
        "readOnly": False,
        "resources": [{"ARN": "arn:aws:iam::111122223333:user/eve", "accountId": "111122223333"}],
        "recipientAccountId": "111122223333",
    }


def test_a_row_whose_json_column_is_not_json_is_a_dead_letter_and_the_rest_go_on():
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store))
    broken = {**ROW, "eventid": "00000000-0000-4000-8000-000000000002", "requestparameters": '{"userName": "x'}
    stats = run_pages([[broken, ROW]], pipeline, "hunt:q")
    assert (stats.rows, stats.dead_letters, stats.alerts) == (2, 1, 1)
    (letter,) = store.dead_letters()
    assert letter.source == "hunt:q:page 1"
    assert letter.reason == "row not readable as a CloudTrail record (JSONDecodeError)"


# A row of the Lake query as CloudTrail Lake returns it: Trino's text for a timestamp and a boolean, structs and
# maps as JSON, a map's nested list as JSON text and its number and boolean as text.
LAKE_ROW = {
    "eventversion": "1.09",
    "useridentity": json.dumps(
        {
            "type": "AssumedRole",
            "principalid": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/OpsAdmin/alice",
            "accountid": "111122223333",
            "accesskeyid": "ASIAEXAMPLE",
            "username": None,
            "sessioncontext": {
                "attributes": {"creationdate": "2024-05-14 09:00:00.000", "mfaauthenticated": "true"},
                "sessionissuer": {"type": "Role", "username": "OpsAdmin", "arn": None},
                "webidfederationdata": None,
                "sourceidentity": None,
            },
            "inscopeof": None,
        }
    ),
    "eventtime": "2024-05-14 09:01:00.000",
    "eventname": "CreateUser",
    "requestparameters": json.dumps(
        {"userName": "eve", "tags": '[{"key":"team","value":"red"}]', "note": "[draft", "maxAge": "3600", "x": None}
    ),
    "eventid": "00000000-0000-4000-8000-000000000001",
    "readonly": "false",
    "managementevent": "true",
    "resources": json.dumps([{"arn": "arn:aws:iam::111122223333:user/eve", "accountid": "111122223333"}]),
    "recipientaccountid": "111122223333",
}


def test_a_lake_row_becomes_the_record_with_cloudtrails_names_times_and_nested_values():
    assert lake_record_of(LAKE_ROW) == {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/OpsAdmin/alice",
            "accountId": "111122223333",
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "attributes": {"creationDate": "2024-05-14T09:00:00Z", "mfaAuthenticated": "true"},
                "sessionIssuer": {"type": "Role", "userName": "OpsAdmin"},
            },
        },
        "eventTime": "2024-05-14T09:01:00Z",
        "eventName": "CreateUser",
        # The nested list is parsed back; text that only starts like JSON and the number stay text, as Lake has them.
        "requestParameters": {
            "userName": "eve",
            "tags": [{"key": "team", "value": "red"}],
            "note": "[draft",
            "maxAge": "3600",
        },
        "eventID": "00000000-0000-4000-8000-000000000001",
        "readOnly": False,
        "managementEvent": True,
        "resources": [{"ARN": "arn:aws:iam::111122223333:user/eve", "accountId": "111122223333"}],
        "recipientAccountId": "111122223333",
    }


def test_a_lake_row_whose_struct_is_not_json_is_a_dead_letter():
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store))
    broken = {**LAKE_ROW, "eventid": "00000000-0000-4000-8000-000000000002", "useridentity": "{type=IAMUser"}
    stats = run_pages([[broken, LAKE_ROW]], pipeline, "hunt:lake", rebuild=lake_record_of)
    assert (stats.rows, stats.dead_letters, stats.alerts) == (2, 1, 1)
    (letter,) = store.dead_letters()
    assert letter.reason == "row not readable as a CloudTrail record (JSONDecodeError)"
