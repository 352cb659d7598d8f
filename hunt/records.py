"""The CloudTrail table for Athena and the event data store of CloudTrail Lake (the columns AWS documents for each),
and the way back from their rows to CloudTrail records: this module is the one owner of that shape.

Hive lower-cases every column and struct field name, keeps nested JSON objects (requestParameters, ...) as JSON
text and booleans as 'true'/'false'; the query returns structs and arrays as JSON text (`json_format`). A record is
rebuilt with CloudTrail's own key names, so the rules read it exactly as they read a record from a log file.

CloudTrail Lake's schema differs: eventTime is a timestamp, readOnly a boolean, and requestParameters,
responseElements, additionalEventData (and addendum, serviceEventDetails, ...) are maps of strings, where a nested
object or list is kept as its JSON text and a number or boolean as its text ('3600', 'true'). The rebuild parses
the JSON text of nested values back; scalars stay text, as Lake holds them (the rules read 'true' like true).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from core.times import utc
from ingest.files import loads


@dataclass(frozen=True)
class Field:
    """One column or struct field: its CloudTrail key, and its kind: string, json (JSON text), bool, timestamp,
    map (of strings), jsonmap (of strings, nested values as JSON text: Lake), struct, or array (of the struct
    `fields`)."""

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
# The columns of a CloudTrail Lake event data store of CloudTrail events ("Supported SQL schemas for event data
# stores", AWS CloudTrail user guide), in its order; eventJson and eventJsonChecksum are not read.
LAKE_IDENTITY = Field(
    "userIdentity",
    "struct",
    (
        *_s("type", "principalId", "arn", "accountId", "accessKeyId", "userName"),
        Field(
            "sessionContext",
            "struct",
            (
                Field("attributes", "struct", (Field("creationDate", "timestamp"), Field("mfaAuthenticated"))),
                Field("sessionIssuer", "struct", _s("type", "principalId", "arn", "accountId", "userName")),
                Field("webIdFederationData", "struct", (Field("federatedProvider"), Field("attributes", "map"))),
                *_s("sourceIdentity", "ec2RoleDelivery", "ec2IssuedInVPC"),
            ),
        ),
        Field("onBehalfOf", "struct", _s("userId", "identityStoreArn")),
        # AWS's schema page spells the last field "credentiaisissuedto"; CloudTrail's records say credentialsIssuedTo.
        Field("inScopeOf", "struct", _s("sourceArn", "sourceAccount", "issuerType", "credentialsIssuedTo")),
        *_s("invokedBy", "identityProvider"),
    ),
)
LAKE_COLUMNS: tuple[Field, ...] = (
    Field("eventVersion"),
    LAKE_IDENTITY,
    Field("eventTime", "timestamp"),
    *_s("eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent", "errorCode", "errorMessage"),
    Field("requestParameters", "jsonmap"),
    Field("responseElements", "jsonmap"),
    Field("additionalEventData", "jsonmap"),
    *_s("requestID", "eventID"),
    Field("readOnly", "bool"),
    Field("resources", "array", _s("accountId", "type", "ARN", "ARNPrefix")),
    *_s("eventType", "apiVersion"),
    Field("managementEvent", "bool"),
    *_s("recipientAccountId", "sharedEventID", "annotation", "vpcEndpointId", "vpcEndpointAccountId"),
    Field("serviceEventDetails", "jsonmap"),
    Field("addendum", "jsonmap"),
    Field("edgeDeviceDetails", "jsonmap"),
    Field("insightDetails", "jsonmap"),
    Field("eventCategory"),
    Field("tlsDetails", "struct", _s("tlsVersion", "cipherSuite", "clientProvidedHostHeader")),
    Field("sessionCredentialFromConsole"),
)
# The partition columns of deploy/athena-cloudtrail.yaml's table: AWSLogs/<org id>/<account>/CloudTrail/<region>/<date>.
PARTITIONS = ("account", "region", "timestamp")


def hive_type(field: Field) -> str:
    """The column's type in the table definition (Hive DDL), e.g. STRUCT<type:STRING, ...>."""
    if field.kind == "struct":
        return "STRUCT<" + ", ".join(f"{f.name}:{hive_type(f)}" for f in field.fields) + ">"
    if field.kind == "array":
        return "ARRAY<STRUCT<" + ", ".join(f"{f.name}:{hive_type(f)}" for f in field.fields) + ">>"
    if field.kind in ("map", "jsonmap"):
        return "MAP<STRING,STRING>"
    return "STRING"


def lake_type(field: Field) -> str:
    """The column's type in a CloudTrail Lake event data store, in the notation AWS documents it with (Hive's):
    timestamps and booleans are typed, where the CloudTrail table for Athena keeps text."""
    if field.kind == "struct":
        return "STRUCT<" + ", ".join(f"{f.name}:{lake_type(f)}" for f in field.fields) + ">"
    if field.kind == "array":
        return "ARRAY<STRUCT<" + ", ".join(f"{f.name}:{lake_type(f)}" for f in field.fields) + ">>"
    return {"timestamp": "TIMESTAMP", "bool": "BOOLEAN"}.get(field.kind) or hive_type(field)


def record_of(row: Mapping[str, str | None]) -> dict:
    """The CloudTrail record a row of the Athena query holds (column name -> text as the engine returns it;
    structs and arrays as JSON text). Absent and NULL values are left out, as CloudTrail leaves them out.

    Raises ValueError when a JSON column holds text that is not JSON (the caller dead-letters the row)."""
    return _rebuilt(COLUMNS, row)


def lake_record_of(row: Mapping[str, str | None]) -> dict:
    """The CloudTrail record a row of the CloudTrail Lake query holds (lower-case column name -> text; structs,
    arrays and maps as JSON text, timestamps as Lake prints them). ValueError as for `record_of`."""
    return _rebuilt(LAKE_COLUMNS, row)


def _rebuilt(columns: tuple[Field, ...], row: Mapping[str, str | None]) -> dict:
    record: dict = {}
    for field in columns:
        text = row.get(field.name)
        if text is None:
            continue
        if field.kind == "string":
            record[field.key] = text
        elif field.kind == "bool":
            record[field.key] = text.lower() == "true"
        elif field.kind == "timestamp":
            record[field.key] = _cloudtrail_time(text)
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
    if field.kind == "timestamp":
        return _cloudtrail_time(str(value))
    if field.kind == "jsonmap":
        return _nested(value) if isinstance(value, dict) else value
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


def _nested(values: dict) -> dict:
    """A Lake map of strings with its nested objects and lists parsed back from their JSON text; NULLs dropped. A
    string that only looks like JSON stays the string it is."""
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, str) and value[:1] in ("{", "["):
            with contextlib.suppress(ValueError):  # not JSON after all: the string it is
                value = loads(value)
        out[key] = value
    return out


def _cloudtrail_time(text: str) -> str:
    """A timestamp as Lake (2024-05-14 09:01:00.000) or DuckDB prints it, in CloudTrail's 2024-05-14T09:01:00Z;
    text that is no time is kept as it is."""
    moment = utc(text)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else text


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


def lake_row(record: Mapping[str, object]) -> dict[str, object]:
    """What a CloudTrail Lake event data store holds for a record (lower-case column name -> value; structs as
    dicts, maps of strings with nested values as JSON text, times as `YYYY-MM-DD HH:MM:SS`), for loading a
    stand-in event data store (tests, the benchmark); Lake builds its rows itself."""
    by_lower = {k.lower(): v for k, v in record.items()}
    return {f.name: _lake_stored(f, by_lower.get(f.name)) for f in LAKE_COLUMNS}


def _lake_stored(field: Field, value: object) -> object:
    if value is None:
        return None
    if field.kind == "struct":
        if not isinstance(value, Mapping):
            return None
        lowered = {str(k).lower(): v for k, v in value.items()}
        return {f.name: _lake_stored(f, lowered.get(f.name)) for f in field.fields}
    if field.kind == "array":
        if not isinstance(value, list):
            return None
        return [_lake_stored(Field(field.key, "struct", field.fields), item) for item in value]
    if field.kind in ("map", "jsonmap"):
        if not isinstance(value, Mapping):
            return None
        return {str(k): _as_text(v) for k, v in value.items()}
    if field.kind == "timestamp":
        moment = utc(value)
        return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None
    if field.kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return _as_text(value)


def _as_text(value: object) -> str | None:
    """A value as a map of strings (or a string column) holds it: text as is, anything else as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
