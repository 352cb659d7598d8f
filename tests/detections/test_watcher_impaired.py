"""watcher_impaired beyond its examples: one alert for an UpdateTrail both rules would report, and the trail's
destination remembered through the real pipeline and store so restating it does not alert again."""

from __future__ import annotations

from pathlib import Path

from core.severity import Severity
from detections import example_records as s
from detections.engine import evaluate
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store
from tests.detections.test_rules import ExampleContext

TRAIL = f"arn:aws:cloudtrail:us-east-1:{s.ACCOUNT}:trail/org-management-events"


def update_trail(event_id: str, minute: int, **request: object) -> dict:
    return s.cloudtrail_call(
        "UpdateTrail",
        {"name": TRAIL} | request,
        {"trailARN": TRAIL},
        event_id=event_id,
        time=f"2024-05-14T09:{minute:02d}:00Z",
    )


def test_trail_moved_and_narrowed_raises_one_alert_saying_both() -> None:
    record = update_trail("wi-1", 0, s3BucketName="exfil-logs-444455556666", isMultiRegionTrail=False)
    alerts = evaluate(record, ExampleContext())
    assert [a.rule for a in alerts] == ["watcher_impaired"]
    assert alerts[0].facts["Logging lost"] == "no longer multi-region"
    narrowed_only = update_trail("wi-2", 0, isMultiRegionTrail=False)
    assert [a.rule for a in evaluate(narrowed_only, ExampleContext())] == ["trail_tampering"]


def test_feed_rule_of_the_stackset_member_is_critical() -> None:
    record = s.event(
        "DeleteRule",
        "events.amazonaws.com",
        event_id="wi-3",
        request={"name": "StackSet-iam-warden-member-0f1e2d3c-ForwardRootActivityRule-8HJ2K4L6M8N0", "force": True},
    )
    (alert,) = evaluate(record, ExampleContext())
    assert alert.rule == "watcher_impaired" and alert.severity is Severity.CRITICAL
    assert "deleted" in alert.title


def test_a_restated_destination_alerts_once_even_across_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "warden.db")
    store = Store(path)
    first = Pipeline(store, PipelineContext(store)).process(
        [update_trail("wi-4", 1, s3BucketName="logs-a"), update_trail("wi-5", 2, s3BucketName="logs-a")], "test"
    )
    assert [a.rule for a in first.alerts] == ["watcher_impaired"]
    restarted = Store(path)
    again = Pipeline(restarted, PipelineContext(restarted)).process(
        [update_trail("wi-6", 3, s3BucketName="logs-a"), update_trail("wi-7", 4, s3BucketName="logs-b")], "test"
    )
    assert [a.facts["Change"] for a in again.alerts] == [
        "trail org-management-events now delivers to bucket logs-b, KMS key (unchanged)"
    ]
