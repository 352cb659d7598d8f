"""Regenerate the README's generated tables (rules, techniques, checks, variables) from the registries and
detections/techniques.py: `make readme`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks import all_checks  # noqa: E402
from config import VARIABLES  # noqa: E402
from core.actions import ALERT_ACTIONS, BUTTON_DOCS, INCIDENT_ACTIONS  # noqa: E402
from detections import all_rules  # noqa: E402
from detections.techniques import SOURCE, TECHNIQUES  # noqa: E402


def rules_table() -> str:
    """The detection rules as a Markdown table."""
    rows = ["| id | severity | what it catches | MITRE ATT&CK | events read |", "|---|---|---|---|---|"]
    for rule in all_rules():
        events = "any call by the root user" if rule.any_root_event else ", ".join(sorted(rule.event_names))
        if rule.refused_event_names:
            verbs = sorted({re.match(r"[A-Z][a-z]*", n).group(0) for n in rule.refused_event_names}, reverse=True)
            calls = ", ".join(f"{v}*" for v in verbs)
            events += f"; only when refused: {len(rule.refused_event_names)} {calls} calls"
        if not rule.reads_records:
            events = "none: raised by the bot when its event feed falls silent"
        mitre = ", ".join(rule.reports.get("MITRE ATT&CK", ()))
        rows.append(f"| `{rule.id}` | {rule.severity.value} | {rule.title} | {mitre} | {events} |")
    return "\n".join(rows)


def techniques_table() -> str:
    """Stratus Red Team's techniques of the four tactics and the rules that catch each (or why none does)."""
    rows = [
        f"| [Stratus Red Team]({SOURCE}/index.md) technique | tactics | caught by |",
        "|---|---|---|",
    ]
    for technique in TECHNIQUES:
        if technique.caught:
            caught = ", ".join(f"`{r}`" for r in technique.rules)
            caught += f" ({technique.note})" if technique.note else ""
        else:
            caught = f"not caught: {technique.not_caught}"
        rows.append(f"| [`{technique.id}`]({technique.url}) | {', '.join(technique.tactics)} | {caught} |")
    return "\n".join(rows)


def checks_table() -> str:
    """The audit checks as a Markdown table, with their compliance mappings."""
    rows = ["| id | severity | what it checks | mappings |", "|---|---|---|---|"]
    for check in sorted(all_checks(), key=lambda c: (c.severity.rank, c.id)):
        maps = "; ".join(f"{name} {', '.join(ids)}" for name, ids in check.mappings.items() if ids)
        rows.append(f"| `{check.id}` | {check.severity.value} | {check.title} | {maps} |")
    return "\n".join(rows)


def variables_table() -> str:
    """The environment variables as a Markdown table."""
    rows = ["| variable | what it is | default |", "|---|---|---|"]
    for var in VARIABLES:
        need = " **Required to serve.**" if var.needed_to_serve else ""
        rows.append(f"| `{var.name}` | {var.purpose}.{need} | {f'`{var.default}`' if var.default else ''} |")
    return "\n".join(rows)


def buttons_table() -> str:
    """The alert buttons as a Markdown table, in the order a message shows them."""
    rows = ["| button (action id) | what it does | who |", "|---|---|---|"]
    for action in (*ALERT_ACTIONS, *INCIDENT_ACTIONS):
        doc = BUTTON_DOCS[action]
        rows.append(f"| {doc.name} (`{action}`) | {doc.does} | {doc.who} |")
    return "\n".join(rows)


TABLES = {
    "rules": rules_table,
    "techniques": techniques_table,
    "checks": checks_table,
    "variables": variables_table,
    "buttons": buttons_table,
}


def regenerate(text: str) -> str:
    """README text with every `<!-- generated:NAME -->…<!-- /generated:NAME -->` block refreshed."""
    for name, make in TABLES.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- /generated:{name} -->)", re.S)
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    return text


if __name__ == "__main__":
    readme = ROOT / "README.md"
    readme.write_text(regenerate(readme.read_text()))
    print("README.md tables regenerated")
