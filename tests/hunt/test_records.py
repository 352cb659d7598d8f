"""hunt/records.py: a row of the CloudTrail table, as Athena returns it, back into the record the rules read."""

from __future__ import annotations

import json

from hunt.records import record_of
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
