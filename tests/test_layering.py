"""One owner per concept: the direction of imports (docs/ARCHITECTURE.md), audit/ doing no Slack or AWS I/O itself,
and the audit checks resolved in the wiring."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Slack and AWS client libraries, and the Slack delivery layer: audit/ gets collaborators that use them instead.
NOT_IN_AUDIT = ("slack_sdk", "slack_bolt", "boto3", "botocore", "slackui")
# The bot's wiring; tests, scripts and benchmarks are their own entry points and may list every check.
WIRING = {Path("app/wiring.py")}
NOT_SCANNED = ("tests", "scripts", "bench", ".venv", ".git")


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def mentions(path: Path, name: str) -> list[int]:
    """Lines where a file uses `name` (as a name, an attribute or an imported name)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Name):
            used = node.id == name
        elif isinstance(node, ast.Attribute):
            used = node.attr == name
        elif isinstance(node, ast.ImportFrom):
            used = any(alias.name == name for alias in node.names)
        else:
            continue
        if used:
            lines.append(node.lineno)
    return lines


def test_audit_imports_no_slack_or_aws_client_library():
    files = sorted((ROOT / "audit").glob("*.py"))
    assert len(files) >= 5  # the scan sees the package (service, runner, report, schedule, digest, ...)
    offending = {
        f"audit/{path.name}": sorted(m for m in imported(path) if m.split(".")[0] in NOT_IN_AUDIT) for path in files
    }
    assert {name: mods for name, mods in offending.items() if mods} == {}


def test_all_checks_is_called_only_in_the_wiring():
    users = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in NOT_SCANNED or relative == Path("checks/__init__.py"):
            continue
        if lines := mentions(path, "all_checks"):
            users[str(relative)] = lines
    assert set(users) <= {str(p) for p in WIRING}, users
    assert "app/wiring.py" in users  # the scan does find the wiring's own use


# Library -> the only package of the bot that may import it (tests, the sandbox, benchmarks and scripts are exempt).
OWNED_LIBRARIES = {"sqlite3": "storage", "sqlite_utils": "storage", "boto3": "aws"}
EXEMPT = ("tests", "sandbox", "bench", "scripts", ".venv", ".git")


def test_each_owned_library_is_imported_only_by_its_owner():
    offending: dict[str, list[str]] = {}
    seen: set[str] = set()
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in EXEMPT:
            continue
        for module in imported(path):
            top = module.split(".")[0]
            if top in OWNED_LIBRARIES:
                seen.add(top)
                if relative.parts[0] != OWNED_LIBRARIES[top]:
                    offending.setdefault(str(relative), []).append(module)
    assert offending == {}
    assert seen == set(OWNED_LIBRARIES)  # the scan does find the owners' own imports


# Tests that drive the command line itself (bot.main, bot.replay); everything else imports the app package.
DRIVE_THE_CLI = {
    "tests/test_logging.py",
    "tests/test_replay_cli.py",
    "tests/fuzz/test_fuzz.py",
    "tests/hunt/test_hunt_cli.py",
    "tests/test_replay_rule_mutes.py",
}


def python_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] not in (".venv", ".git"))


def test_nothing_imports_the_command_line():
    importers = {
        str(path.relative_to(ROOT)) for path in python_files() if any(m.split(".")[0] == "bot" for m in imported(path))
    }
    assert importers - DRIVE_THE_CLI == set()
    assert "tests/test_replay_cli.py" in importers  # the scan does see an `import bot`


def module_name(relative: Path) -> str:
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_bots_packages_import_each_other_without_a_cycle():
    """Package A imports B (at the top or in a function) and B imports A is a cycle: one of them owns too much."""
    modules = {
        module_name(p.relative_to(ROOT)): p for p in python_files() if p.relative_to(ROOT).parts[0] not in NOT_SCANNED
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".")[0]
        used = {m.split(".")[0] for m in imported(path) if m.split(".")[0] in {n.split(".")[0] for n in modules}}
        graph.setdefault(package, set()).update(used - {package})
    assert {"app", "handlers", "sandbox", "storage"} <= graph.keys() and "handlers" in graph["app"]
    order: list[str] = []
    visiting: list[str] = []

    def visit(package: str) -> None:
        if package in order:
            return
        assert package not in visiting, " -> ".join([*visiting[visiting.index(package) :], package])
        visiting.append(package)
        for used in sorted(graph[package]):
            visit(used)
        visiting.pop()
        order.append(package)

    for package in sorted(graph):
        visit(package)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The bot's modules a file imports (at the top or in a function): `from a.b import c` names module a.b.c
    when there is one, else a.b."""
    used: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            used.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                inner = f"{node.module}.{alias.name}"
                if inner in modules:
                    used.add(inner)
                elif node.module in modules:
                    used.add(node.module)
    return used


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` (node -> the nodes it uses), as the path that closes it, or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for used in sorted(graph.get(node, ())):
            if found := visit(used):
                return found
        path.pop()
        done.add(node)
        return None

    return next((found for node in sorted(graph) if (found := visit(node))), None)


def test_a_cycle_is_found_and_a_chain_is_not_one():
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert a_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_module_of_the_bot_imports_itself_back():
    """Within a package too (handlers.commands importing handlers.modals, which imports it, was one): a module
    that needs a function-local import to break a cycle shares a concept with the other."""
    files = {
        module_name(p.relative_to(ROOT)): p for p in python_files() if p.relative_to(ROOT).parts[0] not in NOT_SCANNED
    }
    graph = {name: imported_modules(path, set(files)) - {name} for name, path in files.items()}
    assert "handlers.commands" in graph["handlers.modals"]  # the scan does see imports within a package
    assert a_cycle(graph) is None


# The one module outside detections/ that names a rule: the feed's dead man's switch raises feed_silent's alert
# itself (a silence is the absence of records, so no record can raise it).
NAMES_ITS_RULE = {"ingest/feed_watch.py": {"detections.rules.feed_silent"}}


def test_no_layer_but_the_rules_names_a_rule():
    """The pipeline, the store, the buttons and the rest work through the rule interface (Rule, Memory,
    learns_undone): none compares a rule id or imports a rule's module."""
    from detections import all_rules

    ids = {r.id for r in all_rules()}
    named: dict[str, set[str]] = {}
    for path in python_files():
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (*NOT_SCANNED, "detections", "sandbox"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ids:
                named.setdefault(str(relative), set()).add(node.value)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("detections.rules"):
                named.setdefault(str(relative), set()).add(node.module or "")
            elif (
                isinstance(node, ast.ImportFrom)
                and node.module == "detections"
                and any(a.name == "rules" for a in node.names)
            ):
                named.setdefault(str(relative), set()).add("detections.rules")
    assert named == NAMES_ITS_RULE
    assert len(ids) > 20  # the scan compares against the registry


# docs/ARCHITECTURE.md's table: package -> the bot's packages it may import (its own modules aside).
BELOW_APP = {
    "core",
    "iam",
    "detections",
    "checks",
    "storage",
    "aws",
    "slackui",
    "ingest",
    "audit",
    "delivery",
    "handlers",
    "hunt",
}
ALLOWED_IMPORTS = {
    "core": set(),
    "iam": {"core"},
    "detections": {"core", "iam"},
    "checks": {"core", "iam"},
    "storage": {"core"},
    "aws": {"core", "iam"},
    "slackui": {"core", "iam", "detections", "checks", "storage"},
    "ingest": {"core", "iam", "detections", "storage"},
    "audit": {"core", "iam", "checks", "storage", "aws"},
    "delivery": {"core", "slackui", "storage", "audit"},
    "handlers": {"core", "iam", "detections", "slackui", "storage", "audit", "aws", "checks", "delivery"},
    "hunt": {"core", "detections", "ingest", "storage", "aws"},
    "config": {"core", "audit"},
    "app": BELOW_APP | {"config"},
    "bot": BELOW_APP | {"app", "config", "sandbox"},
    "sandbox": BELOW_APP | {"app", "config", "standins"},
    "standins": set(),
}


def test_every_package_imports_only_below_itself():
    """The direction of imports in docs/ARCHITECTURE.md, type-checking imports included: a UI module naming the
    audit's types depends on the audit as much as one calling it."""
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} | {"bot", "config"}
    scanned = packages - set(NOT_SCANNED)
    assert scanned == set(ALLOWED_IMPORTS), "a package is missing from the table (and from docs/ARCHITECTURE.md)"
    against: dict[str, list[str]] = {}
    for path in python_files():
        relative = path.relative_to(ROOT)
        package = relative.parts[0].removesuffix(".py")
        if package not in ALLOWED_IMPORTS:
            continue
        for module in sorted(imported(path)):
            top = module.split(".")[0]
            if top in packages and top != package and top not in ALLOWED_IMPORTS[package]:
                against.setdefault(str(relative), []).append(module)
    assert against == {}


def test_the_architecture_page_names_every_package():
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    missing = [p for p in ALLOWED_IMPORTS if p != "bot" and f"{p}/" not in page and f"{p}.py" not in page]
    assert missing == []
