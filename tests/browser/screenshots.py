"""The README's screenshots: each is written by the browser test that sets its scene, on every run of it, so the
pictures in docs/ show the page as the code draws it now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs"
# file in docs/ -> the test (in one of tests/browser/test_*.py) that writes it
SCREENSHOTS = {
    "sandbox.png": "test_admin_detach_asks_to_confirm_then_removes_the_policy_and_updates_the_alert",
    "incident.png": "test_one_actors_calls_are_one_incident_message_with_the_events_in_its_thread",
    "app_home.png": "test_app_home_shows_alerts_findings_last_audit_and_feed_and_an_admins_click_acts",
}


def save(page: Any, name: str, tmp_path: Path) -> Path:
    """Screenshot the page into the test's tmp dir and into docs/`name` (one of SCREENSHOTS); returns the first."""
    assert name in SCREENSHOTS, f"{name} is not one of the README's screenshots"
    kept = tmp_path / name
    page.screenshot(path=str(kept))
    DOCS.mkdir(exist_ok=True)
    (DOCS / name).write_bytes(kept.read_bytes())
    return kept
