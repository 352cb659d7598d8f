"""The README tells the truth: generated tables match the registries, quick start matches the Makefile."""

from __future__ import annotations

from pathlib import Path

from scripts.readme_tables import TABLES, regenerate

ROOT = Path(__file__).resolve().parent.parent


def test_generated_tables_are_current():
    text = (ROOT / "README.md").read_text()
    for name in TABLES:
        assert f"<!-- generated:{name} -->" in text
    assert regenerate(text) == text, "README tables are stale: run `make readme`"


def test_quick_start_commands_exist_and_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
