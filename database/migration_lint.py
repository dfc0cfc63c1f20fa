"""Refuse migrations that would lock or rewrite a live table, before they reach production.

Every operation of a migration is printed as ``sqlmigrate`` prints it (on a scratch database
holding production's schema) and its SQL is checked by squawk, a maintained linter of
PostgreSQL migrations, against the rules below; the operation types then say what squawk
cannot know: which operations are the project's online recipes (``database.online``,
``database.recipes``, ``database.conversions``, ``database.archive``), whose DDL runs under a
lock timeout with retries in Python and whose type changes and drops are done the safe way,
and which drops an ``ArchiveRows`` of the same migration made lossless. Statements on tables
created by the same migration are not checked: nothing can be waiting for a table that did not
exist.

A finding that was reviewed and accepted is listed, with its reason, in
``database/migration_lint_exceptions.toml``.
"""

import json
import re
import shutil
import subprocess
import sysconfig
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation

from database.archive import ArchiveRows
from database.online import RunDDL
from database.operations import quote

EXCEPTIONS_FILE = Path(__file__).with_name("migration_lint_exceptions.toml")
PRODUCTION_VERSION = "15"

# Where the project's online operations live (a package of that name counts too). Their DDL
# runs under a lock timeout and is retried (database.online.run_ddl).
ONLINE_MODULES = (
    "database.online",
    "database.recipes",
    "database.conversions",
    "database.archive",
)

REMEDIES = {
    "index-not-concurrent": "build or drop the index CONCURRENTLY in an atomic = False "
    "migration (database.recipes OnlineAddIndex/OnlineRemoveIndex, AddUniqueConstraint)",
    "type-change": "use database.recipes.OnlineAlterField (a shadow column, backfilled in "
    "batches, swapped)",
    "volatile-default": "add the column nullable with its default (database.online.AddColumn), "
    "then Backfill in batches",
    "not-null-without-check": "use database.recipes.OnlineAlterField (a CHECK added NOT "
    "VALID, validated, then SET NOT NULL without a scan)",
    "constraint-not-valid": "add it NOT VALID and VALIDATE it in a later transaction "
    "(database.online.AddForeignKey, in an atomic = False migration)",
    "drop-without-archive": "archive what is dropped first, in the same migration "
    "(database.archive.ArchiveRows)",
    "lock-timeout": "run the DDL through database.online.RunDDL (a lock timeout, retried), "
    "or SET LOCAL lock_timeout before it in an atomic migration",
    "unlintable": "review what it runs and list it in "
    "database/migration_lint_exceptions.toml with why it is safe",
    "concurrent-in-transaction": "set atomic = False on the migration",
}

# squawk's rules that this project enforces, under the project's rule names.
SQUAWK_RULES = {
    "require-concurrent-index-creation": "index-not-concurrent",
    "require-concurrent-index-deletion": "index-not-concurrent",
    "disallowed-unique-constraint": "index-not-concurrent",
    "adding-serial-primary-key-field": "index-not-concurrent",
    "changing-column-type": "type-change",
    "adding-field-with-default": "volatile-default",
    "adding-not-nullable-field": "not-null-without-check",
    "adding-required-field": "not-null-without-check",
    "constraint-missing-not-valid": "constraint-not-valid",
    "adding-foreign-key-constraint": "constraint-not-valid",
    "ban-drop-column": "drop-without-archive",
    "ban-drop-table": "drop-without-archive",
    "ban-concurrent-index-creation-in-transaction": "concurrent-in-transaction",
}
# What an online recipe does safely although its SQL looks otherwise: the shadow-column swap
# drops the old column, timestamptz is a catalog change in UTC, emptied columns are re-added.
RECIPE_WAIVES = {"type-change", "drop-without-archive", "unlintable"}

_NAME = r'(?:"?(\w+)"?\.)?"?(\w+)"?'
_TOUCHES = re.compile(
    r"\b(?:CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"|ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?"
    r"|DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?"
    r"|LOCK\s+TABLE\s+(?:ONLY\s+)?"
    r"|TRUNCATE\s+(?:TABLE\s+)?"
    r"|CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:\S+\s+)?ON\s+(?:ONLY\s+)?"
    r"|CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\s+.*?\s+ON\s+)" + _NAME,
    re.IGNORECASE | re.DOTALL,
)
_DROP_INDEX = re.compile(
    r"\bDROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?" + _NAME, re.IGNORECASE
)
_CREATES_TABLE = re.compile(
    r"\bCREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?" + _NAME, re.IGNORECASE
)
_DROPS_COLUMN = re.compile(r"\bDROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?\"?(\w+)\"?", re.IGNORECASE)
_LOCK_TIMEOUT = re.compile(
    r"\b(?:SET\s+(LOCAL\s+)?lock_timeout\s*(?:=|TO)\s*'?(\w+)'?|RESET\s+lock_timeout)",
    re.IGNORECASE,
)
_DO_BLOCK = re.compile(r"^\s*DO\s+(?:LANGUAGE\s+\w+\s+)?\$", re.IGNORECASE | re.MULTILINE)
# sqlmigrate's stand-ins for the bounds of a batch (``<batch end>``): any value parses.
_PLACEHOLDER = re.compile(r"<[a-z][a-z ]*>")


class LintError(RuntimeError):
    """The lint cannot run: squawk is missing, or the exceptions file is malformed."""


@dataclass(frozen=True)
class Finding:
    migration: str
    operation: str
    rule: str
    why: str

    def __str__(self) -> str:
        return f"{self.migration}: {self.operation}: {self.rule}: {self.why}"


@dataclass(frozen=True)
class ReviewedException:
    """A finding accepted after review, with the reason it is safe."""

    migration: str
    operation: str
    rule: str
    reason: str

    def covers(self, finding: Finding) -> bool:
        return (finding.migration, finding.operation, finding.rule) == (
            self.migration,
            self.operation,
            self.rule,
        )


@dataclass
class Step:
    """One database operation of a migration and the SQL it prints."""

    label: str
    operation: Operation
    statements: list[str] = field(default_factory=list)

    @property
    def online(self) -> bool:
        module = type(self.operation).__module__
        return any(module == name or module.startswith(f"{name}.") for name in ONLINE_MODULES)

    @property
    def recipe(self) -> bool:
        """An online operation that builds its own SQL (not raw statements passed through)."""
        return self.online and not isinstance(self.operation, RunDDL)


@dataclass
class PrintedMigration:
    key: str
    atomic: bool
    steps: list[Step]
    index_tables: dict[str, str]

    @cached_property
    def new_tables(self) -> set[str]:
        return {
            _table_name(match)
            for step in self.steps
            for statement in step.statements
            for match in _CREATES_TABLE.finditer(statement)
        }

    def table_of(self, statement: str) -> str | None:
        if match := _TOUCHES.search(statement):
            return _table_name(match)
        if match := _DROP_INDEX.search(statement):
            return self.index_tables.get(match.group(2), match.group(2))
        return None

    def on_existing_table(self, statement: str) -> bool:
        table = self.table_of(statement)
        return table is not None and table not in self.new_tables


def _table_name(match: re.Match) -> str:
    schema, name = match.group(1), match.group(2)
    return name if schema in (None, "public") else f"{schema}.{name}"


def _leaf_steps(
    operations, app_label, schema_editor, state, prefix: str = ""
) -> Iterator[tuple[str, Operation, object, object]]:
    """(label, operation, from_state, to_state) of every database operation, in the order
    and with the states that ``migrate`` gives them (``SeparateDatabaseAndState`` opened)."""
    for number, operation in enumerate(operations, start=1):
        label = f"{prefix}{number}"
        from_state = state.clone()
        operation.state_forwards(app_label, state)
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from _leaf_steps(
                operation.database_operations, app_label, schema_editor, from_state, f"{label}."
            )
        else:
            yield label, operation, from_state, state


def print_migration(loader: MigrationLoader, key: tuple[str, str], connection) -> PrintedMigration:
    """Each database operation of a migration with the statements ``sqlmigrate`` prints for
    it: the same schema editor collecting SQL, with the same states. A ``RunPython`` is not
    run (what it does cannot be printed); other operations that sqlmigrate leaves out as "not
    reducible to SQL" are printed too, since the project's print what they would run."""
    migration = loader.disk_migrations[key]
    state = loader.project_state(key, at_end=False)
    index_tables = {
        index.name: model.options.get("db_table") or f"{model.app_label}_{model.name_lower}"
        for model in state.models.values()
        for index in [*model.options.get("indexes", []), *model.options.get("constraints", [])]
    }
    steps = []
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as schema_editor:
        for label, operation, from_state, to_state in _leaf_steps(
            migration.operations, key[0], schema_editor, state
        ):
            step = Step(f"#{label} {type(operation).__name__}", operation)
            if not isinstance(operation, migrations.RunPython):
                before = len(schema_editor.collected_sql)
                operation.database_forwards(key[0], schema_editor, from_state, to_state)
                step.statements = schema_editor.collected_sql[before:]
            steps.append(step)
    return PrintedMigration(f"{key[0]}.{key[1]}", migration.atomic, steps, index_tables)


def lint(printed: list[PrintedMigration]) -> list[Finding]:
    """Every finding of the printed migrations, squawk's and the project's own."""
    findings = [*squawk_findings(printed)]
    for migration in printed:
        findings += [*lock_timeout_findings(migration), *unlintable_findings(migration)]
    unique: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:  # the first of an operation's findings under a rule says why
        unique.setdefault((finding.migration, finding.operation, finding.rule), finding)
    order = {m.key: n for n, m in enumerate(printed)}
    return sorted(unique.values(), key=lambda f: (order[f.migration], _label_key(f.operation)))


def _label_key(label: str) -> list[int]:
    return [int(part) for part in label[1:].split(" ")[0].split(".")]


def squawk_findings(printed: list[PrintedMigration]) -> Iterator[Finding]:
    """squawk's violations of ``SQUAWK_RULES`` on existing tables, with the project's waivers:
    online recipes change types and drop safely, an ``ArchiveRows`` makes a drop lossless."""
    installed = Path(sysconfig.get_path("scripts")) / "squawk"
    squawk = str(installed) if installed.exists() else shutil.which("squawk")
    if squawk is None:
        raise LintError(
            "squawk is not installed: it lints the SQL of the migrations. Install the "
            "project's development dependencies (pip install -e '.[dev]', or make test)."
        )
    with tempfile.TemporaryDirectory(prefix="migration-lint-") as folder:
        files = {str(Path(folder) / migration.key): migration for migration in printed}
        lines = {path: _write_sql(Path(path), migration) for path, migration in files.items()}
        for violation in _run_squawk(squawk, sorted(files)):
            rule = SQUAWK_RULES.get(violation["rule_name"])
            migration = files[violation["file"]]
            printed_lines = lines[violation["file"]]
            step, statement = printed_lines[min(violation["line"], len(printed_lines) - 1)]
            if rule is None or step is None or not migration.on_existing_table(statement):
                continue
            if step.recipe and rule in RECIPE_WAIVES:
                continue
            if rule == "drop-without-archive" and _archived(migration, step, statement):
                continue
            why = f"{violation['message']} ({quote(statement)}); {REMEDIES[rule]}"
            yield Finding(migration.key, step.label, rule, why)


def _write_sql(path: Path, migration: PrintedMigration) -> list[tuple[Step | None, str]]:
    """Write the migration's SQL for squawk, inside BEGIN and COMMIT when ``migrate`` runs
    it in one transaction, as sqlmigrate prints it; return the step and statement of each
    line."""
    lines: list[tuple[Step | None, str]] = []
    texts: list[str] = []
    for step in migration.steps:
        for statement in step.statements:
            texts.append(_PLACEHOLDER.sub("NULL", statement))
            lines += [(step, statement)] * (texts[-1].count("\n") + 1)
    if migration.atomic:
        texts, lines = ["BEGIN;", *texts, "COMMIT;"], [(None, ""), *lines, (None, "")]
    path.write_text("\n".join(texts) + "\n")
    return lines


def _run_squawk(squawk: str, files: list[str]) -> list[dict]:
    if not files:
        return []
    result = subprocess.run(
        [squawk, "--pg-version", PRODUCTION_VERSION, "--reporter", "json", *files],
        capture_output=True,
        text=True,
    )
    if result.returncode not in (0, 1):
        raise LintError(f"squawk failed (exit {result.returncode}): {result.stderr.strip()}")
    return json.loads(result.stdout or "[]")


def _archived(migration: PrintedMigration, dropping: Step, statement: str) -> bool:
    """An ``ArchiveRows`` earlier in the migration keeps what ``statement`` drops."""
    table = migration.table_of(statement)
    columns = {match.group(1) for match in _DROPS_COLUMN.finditer(statement)}
    for step in migration.steps:
        if step is dropping:
            return False
        archive = step.operation
        # A dropped table needs an archive of it; dropped columns, one that holds them.
        if (
            isinstance(archive, ArchiveRows)
            and archive.table == table
            and (archive.columns is None or columns <= set(archive.columns))
        ):
            return True
    return False


def lock_timeout_findings(migration: PrintedMigration) -> Iterator[Finding]:
    """DDL on an existing table that no lock timeout bounds: it queues behind any long
    transaction and every query queues behind it. The online operations set theirs in
    Python; elsewhere a ``SET lock_timeout`` must come first (``SET LOCAL`` only counts in an
    atomic migration, where it lasts to the end)."""
    timeout = False
    for step in migration.steps:
        flagged = False
        for statement in step.statements:
            ddl = _ddl_on_existing_table(migration, statement)
            position = ddl.start() if ddl else len(statement)
            for match in _LOCK_TIMEOUT.finditer(statement[:position]):
                timeout = _sets_timeout(match, migration.atomic)
            if ddl and not (step.online or timeout or flagged):
                flagged = True
                why = f"DDL without a lock timeout ({quote(statement)})"
                yield Finding(
                    migration.key, step.label, "lock-timeout", f"{why}; {REMEDIES['lock-timeout']}"
                )
            for match in _LOCK_TIMEOUT.finditer(statement, position):
                timeout = _sets_timeout(match, migration.atomic)


def _ddl_on_existing_table(migration: PrintedMigration, statement: str) -> re.Match | None:
    ddl = _TOUCHES.search(statement) or _DROP_INDEX.search(statement)
    if ddl is None or _CREATES_TABLE.match(ddl.group(0)):
        return None
    return ddl if migration.on_existing_table(statement) else None


def _sets_timeout(match: re.Match, atomic: bool) -> bool:
    if match.group(2) is None:  # RESET lock_timeout
        return False
    local, value = match.group(1), match.group(2).lower()
    return value not in ("0", "default") and (atomic or not local)


def unlintable_findings(migration: PrintedMigration) -> Iterator[Finding]:
    """Code whose statements no linter sees: ``RunPython``, and ``DO`` blocks outside the
    online recipes."""
    for step in migration.steps:
        if isinstance(step.operation, migrations.RunPython):
            why = "what Python runs is not printed, so it cannot be linted"
        elif not step.recipe and any(_DO_BLOCK.search(s) for s in step.statements):
            why = "the statements inside a DO block cannot be linted"
        else:
            continue
        yield Finding(migration.key, step.label, "unlintable", f"{why}; {REMEDIES['unlintable']}")


EXCEPTION_FIELDS = ("migration", "operation", "rule", "reason")


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> list[ReviewedException]:
    """The reviewed exceptions: each names a migration, an operation and a rule, and why."""
    try:
        entries = tomllib.loads(path.read_text()).get("exception", [])
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise LintError(f"Cannot read the exceptions file {path}: {error}.") from None
    exceptions = []
    for number, entry in enumerate(entries, start=1):
        missing = [key for key in EXCEPTION_FIELDS if not entry.get(key)]
        if missing or entry["rule"] not in REMEDIES:
            problem = (
                f"lacks {', '.join(missing)}" if missing else f"names no rule: {entry['rule']!r}"
            )
            raise LintError(
                f"Exception {number} in {path} {problem}. Each [[exception]] gives migration, "
                f"operation, rule (one of {', '.join(REMEDIES)}) and the reason it is safe."
            )
        exceptions.append(ReviewedException(*(entry[key] for key in EXCEPTION_FIELDS)))
    return exceptions


def apply_exceptions(
    findings: list[Finding], exceptions: list[ReviewedException], linted: set[str]
) -> tuple[list[Finding], list[ReviewedException]]:
    """The findings no exception covers, and the exceptions of the linted migrations that
    cover nothing any more (stale: the migration changed, so the review must be redone)."""
    left = [f for f in findings if not any(e.covers(f) for e in exceptions)]
    stale = [
        e for e in exceptions if e.migration in linted and not any(e.covers(f) for f in findings)
    ]
    return left, stale
