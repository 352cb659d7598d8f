"""The CloudTrail table for Athena (the columns AWS documents) and the way back from its rows to CloudTrail records.

Hive lower-cases every column and struct field name, keeps nested JSON objects (requestParameters, ...) as JSON
text and booleans as 'true'/'false'; the query returns structs and arrays as JSON text (`json_format`). A record is
rebuilt with CloudTrail's own key names, so the rules read it exactly as they read a record from a log file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ingest.files import loads


@dataclass(frozen=True)
class Field:
    """One column or struct field: its CloudTrail key, and its kind: string, json (JSON text), bool, map, struct,
    or array (of the struct `fields`)."""

    key: str
    kind: str = "string"
    fields: tuple[Field, ...] = ()

    @property
    def name(self) -> str:
        """The column (or struct field) name in the table: Hive's lower-case spelling."""
        return self.key.lower()


def _s(*keys: str) -> tuple[Field, ...]:
    return tuple(Field(k) for k in keys)


USER_IDENTITY = Field(
    "userIdentity",
    "struct",
    (
        *_s("type", "principalId", "arn", "accountId", "invokedBy", "accessKeyId", "userName"),
        Field("onBehalfOf", "struct", _s("userId", "identityStoreArn")),
        Field(
            "sessionContext",
            "struct",
            (
                Field("attributes", "struct", _s("mfaAuthenticated", "creationDate")),
                Field("sessionIssuer", "struct", _s("type", "principalId", "arn", "accountId", "userName")),
                Field("ec2RoleDelivery"),
                Field("webIdFederationData", "struct", (Field("federatedProvider"), Field("attributes", "map"))),
            ),
        ),
    ),
)

# The columns of the CloudTrail table AWS documents for Athena, in its order.
COLUMNS: tuple[Field, ...] = (
    Field("eventVersion"),
    USER_IDENTITY,
    *_s("eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent"),
    *_s("errorCode", "errorMessage"),
    Field("requestParameters", "json"),
    Field("responseElements", "json"),
    Field("additionalEventData", "json"),
    *_s("requestID", "eventID"),
    Field("readOnly", "bool"),
    Field("resources", "array", _s("ARN", "accountId", "type")),
    *_s("eventType", "apiVersion", "recipientAccountId"),
    Field("serviceEventDetails", "json"),
    *_s("sharedEventID", "vpcEndpointId", "vpcEndpointAccountId", "eventCategory"),
    Field("addendum", "struct", _s("reason", "updatedFields", "originalRequestID", "originalEventID")),
    Field("sessionCredentialFromConsole"),
    Field("edgeDeviceDetails", "json"),
    Field("tlsDetails", "struct", _s("tlsVersion", "cipherSuite", "clientProvidedHostHeader")),
)
# The partition columns of deploy/athena-cloudtrail.yaml's table: AWSLogs/<org id>/<account>/CloudTrail/<region>/<date>.
PARTITIONS = ("account", "region", "timestamp")


def hive_type(field: Field) -> str:
    """The column's type in the table definition (Hive DDL), e.g. STRUCT<type:STRING, ...>."""
    if field.kind == "struct":
        return "STRUCT<" + ", ".join(f"{f.name}:{hive_type(f)}" for f in field.fields) + ">"
    if field.kind == "array":
        return "ARRAY<STRUCT<" + ", ".join(f"{f.name}:{hive_type(f)}" for f in field.fields) + ">>"
    if field.kind == "map":
        return "MAP<STRING,STRING>"
    return "STRING"


def record_of(row: Mapping[str, str | None]) -> dict:
    """The CloudTrail record a row of the query holds (column name -> text as the engine returns it; structs and
    arrays as JSON text). Absent and NULL values are left out, as CloudTrail leaves them out.

    Raises ValueError when a JSON column holds text that is not JSON (the caller dead-letters the row)."""
    record: dict = {}
    for field in COLUMNS:
        text = row.get(field.name)
        if text is None:
            continue
        if field.kind == "string":
            record[field.key] = text
        elif field.kind == "bool":
            record[field.key] = text.lower() == "true"
        elif field.kind == "json":
            value = loads(text)
            if value is not None:
                record[field.key] = value
        else:
            value = _named(field, loads(text))
            if value is not None:
                record[field.key] = value
    return record


def _named(field: Field, value: object) -> object:
    """A struct, array or map value with CloudTrail's key names back, NULL fields dropped."""
    if value is None:
        return None
    if field.kind == "array":
        return [_named(Field(field.key, "struct", field.fields), item) for item in value or ()]  # type: ignore[union-attr]
    if field.kind != "struct" or not isinstance(value, dict):
        return value
    lowered = {str(k).lower(): v for k, v in value.items()}
    named = {}
    for sub in field.fields:
        item = _named(sub, lowered.get(sub.name))
        if item is not None:
            named[sub.key] = item
    return named


def table_row(record: Mapping[str, object]) -> dict[str, object]:
    """What the CloudTrail SerDe stores for a record (column name -> value; structs as dicts of lower-case fields,
    fields the table does not declare dropped), plus the partition values its log file's key gives it. For loading
    a stand-in table (tests, the benchmark); Athena builds its rows itself."""
    by_lower = {k.lower(): v for k, v in record.items()}
    row: dict[str, object] = {f.name: _stored(f, by_lower.get(f.name)) for f in COLUMNS}
    when = str(record.get("eventTime") or "")
    row["account"] = str(record.get("recipientAccountId") or "")
    row["region"] = str(record.get("awsRegion") or "")
    row["timestamp"] = when[:10].replace("-", "/")
    return row


def _stored(field: Field, value: object) -> object:
    if value is None:
        return None
    if field.kind == "struct":
        if not isinstance(value, Mapping):
            return None
        lowered = {str(k).lower(): v for k, v in value.items()}
        return {f.name: _stored(f, lowered.get(f.name)) for f in field.fields}
    if field.kind == "array":
        return [_stored(Field(field.key, "struct", field.fields), item) for item in value]  # type: ignore[union-attr]
    if field.kind == "map":
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else None
    if field.kind == "json" or (field.kind == "string" and isinstance(value, dict | list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
