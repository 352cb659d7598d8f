"""deploy/athena-cloudtrail.yaml: the table `bot.py hunt` queries has the columns hunt/records.py rebuilds records
from (those AWS documents for CloudTrail in Athena) and the partitions the generated query prunes by."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import yaml

from detections import all_rules
from hunt.query import HuntQuery, athena_sql
from hunt.records import COLUMNS, PARTITIONS, hive_type

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "athena-cloudtrail.yaml"
# The columns of AWS's CREATE TABLE for CloudTrail logs with partition projection (Athena user guide).
DOCUMENTED = [
    "eventversion",
    "useridentity",
    "eventtime",
    "eventsource",
    "eventname",
    "awsregion",
    "sourceipaddress",
    "useragent",
    "errorcode",
    "errormessage",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "requestid",
    "eventid",
    "readonly",
    "resources",
    "eventtype",
    "apiversion",
    "recipientaccountid",
    "serviceeventdetails",
    "sharedeventid",
    "vpcendpointid",
    "vpcendpointaccountid",
    "eventcategory",
    "addendum",
    "sessioncredentialfromconsole",
    "edgedevicedetails",
    "tlsdetails",
]


def table() -> dict:
    return yaml.safe_load(TEMPLATE.read_text())["Resources"]["Table"]["Properties"]["TableInput"]


def test_columns_are_the_documented_ones_as_records_are_rebuilt_from_them():
    columns = table()["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in columns] == DOCUMENTED == [c.name for c in COLUMNS]
    assert [c["Type"] for c in columns] == [hive_type(c).lower() for c in COLUMNS]
    identity = next(c["Type"] for c in columns if c["Name"] == "useridentity")
    assert identity.startswith("struct<type:string, principalid:string, arn:string, accountid:string,")
    assert "sessionissuer:struct<type:string, principalid:string, arn:string, accountid:string, username:string>" in (
        identity
    )


def test_partitions_are_projected_over_the_organization_trails_keys():
    spec = table()
    assert [p["Name"] for p in spec["PartitionKeys"]] == list(PARTITIONS)
    params = spec["Parameters"]
    assert params["projection.enabled"] == "true"
    assert (params["projection.timestamp.type"], params["projection.timestamp.format"]) == ("date", "yyyy/MM/dd")
    assert params["projection.account.type"] == params["projection.region.type"] == "enum"
    assert params["storage.location.template"] == {
        "Fn::Sub": "s3://${TrailBucket}/AWSLogs/${OrganizationId}/${!account}/CloudTrail/${!region}/${!timestamp}"
    }
    assert spec["StorageDescriptor"]["InputFormat"] == "com.amazon.emr.cloudtrail.CloudTrailInputFormat"


def test_the_query_prunes_by_exactly_the_tables_partitions_in_their_format():
    query = HuntQuery(
        "iam_warden.cloudtrail",
        datetime(2024, 5, 1, tzinfo=UTC),
        datetime(2024, 5, 3, 12, tzinfo=UTC),
        all_rules(),
        ("111122223333",),
        ("eu-west-1",),
    )
    sql = athena_sql(query)
    assert "\"timestamp\" BETWEEN '2024/05/01' AND '2024/05/03'" in sql  # yyyy/MM/dd, as projected
    assert "account IN ('111122223333')" in sql and "region IN ('eu-west-1')" in sql
    output = yaml.safe_load(TEMPLATE.read_text())["Outputs"]["Table"]["Value"]["Fn::Sub"]
    assert re.fullmatch(r"\$\{DatabaseName\}\.\$\{TableName\}", output)
