"""``migrate``, made safe to point at production.

On top of Django's command it
- holds the migrate lease (``database.lease``), so a second migrator fails fast instead of
  racing, directly or through a transaction-mode pooler;
- with ``--fake-initial``, compares the live catalog of every legacy table with the baseline
  before anything is recorded, says that the check passed, and refuses on any difference;
- without it, refuses to run the initial migrations over existing legacy tables;
- with ``--plan``, runs the same (read-only) check first, then says of every migration
  whether it WILL BE FAKED or APPLIED, and describes every operation in words;
- refuses a read-only server or hot standby before anything runs (not
  ``--plan`` or ``--check``: they write nothing), and
  reports every operational failure in one paragraph (``database.errors``).
"""

import contextlib
import itertools
import sys
from collections.abc import Iterator

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.executor import MigrationExecutor

from database import errors, lease, pooler
from database.online import batches, operations, recipes
from database.schema import baseline
from database.secrets import crypto, keyring

DRIFT_REFUSED = 4
ANOTHER_MIGRATOR = 5
FAKED = "WILL BE FAKED"
APPLIED = "WILL BE APPLIED"
UNAPPLIED = "WILL BE UNAPPLIED"
# The lines Django's migrate leaves open until the step is done (its " OK").
_STARTED_LINES = {
    "apply_start": "  Applying {}...",
    "unapply_start": "  Unapplying {}...",
    "render_start": "  Rendering model states...",
}


class Command(errors.ReportsFailures, migrate.Command):
    help = (
        "Update the database schema. With --fake-initial, adopt an existing production "
        "database only if its tables match the baseline exactly."
    )

    started_line = ""  # what Django wrote without its newline ("  Applying app.name...")
    line_broken = False  # progress lines came after it: its result goes on a line of its own

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        try:
            with self.one_migrator(connection, options):
                check = self.check_adoption(connection, fake_initial=options["fake_initial"])
                if options["verbosity"] >= 1 or options["plan"]:
                    self.stdout.write(check.summary(), self.style.SUCCESS)
                if options["plan"] and not options["prune"]:
                    self.show_plan(connection, options)
                else:
                    self.check_encryption_keys(connection, options)
                    with batches.reporting_to(self.report_progress):
                        super().handle(*args, **options)
        except lease.LeaseHeld as held:
            raise CommandError(
                "Another migrate is running on this database: it holds the migrate lease "
                f"({held.holder or 'it has just ended'}). Nothing was applied or recorded; run "
                "again once it has finished. A migrate that died keeps the lease until it "
                f"expires, at most {self.migrate_lease.seconds:g} s after its last renewal "
                "(MIGRATE_LEASE_SECONDS).",
                returncode=ANOTHER_MIGRATOR,
            ) from None
        except lease.LeaseLost:
            raise CommandError(
                "This migrate lost its lease: it could not renew it for "
                f"{self.migrate_lease.seconds:g} s (MIGRATE_LEASE_SECONDS), so another "
                "migrate may have taken over. It stopped before the next migration; the "
                "migrations it finished are recorded. Run showmigrations, then migrate again "
                "once no other migrate runs.",
                returncode=ANOTHER_MIGRATOR,
            ) from None
        except crypto.EncryptionError as error:
            raise CommandError(
                f"Cannot encrypt or decrypt secrets: {error}. Set TOKEN_ENCRYPTION_KEY (and "
                "TOKEN_ENCRYPTION_KEYS for older key ids) to the platform's keys; the batches "
                "already done are kept and a re-run resumes.",
                returncode=errors.CANNOT_RUN,
            ) from None

    def writes(self, options) -> bool:
        return not (options["plan"] or options["check_unapplied"])

    @contextlib.contextmanager
    def one_migrator(self, connection, options) -> Iterator[None]:
        """Hold the migrate lease for the run (database.lease); ``--plan`` and ``--check``
        write nothing and take none. Through a transaction pooler, declared or detected,
        the run keeps no state in its session (database.pooler)."""
        seconds = self.lease_seconds()
        try:
            pooler.adapt(connection)
        except pooler.UnknownPoolerMode as error:
            raise CommandError(str(error), returncode=errors.CANNOT_RUN) from None
        if not self.writes(options):
            yield
            return
        self.migrate_lease = lease.Lease(connection, seconds)
        with self.migrate_lease.held():
            yield

    @staticmethod
    def lease_seconds() -> float:
        text = str(settings.MIGRATE_LEASE_SECONDS)
        try:
            seconds = float(text)
        except ValueError:
            seconds = float("nan")
        if not seconds >= 1:  # also refuses nan
            raise CommandError(
                f"MIGRATE_LEASE_SECONDS is {text!r}: it must be a number of seconds, at least "
                "1 (the default is 60). Nothing was applied.",
                returncode=errors.CANNOT_RUN,
            )
        return seconds

    def migration_progress_callback(self, action, migration=None, fake=False):
        # A lease that expired under a stalled run may be another's now: stop between
        # migrations rather than apply the next one twice.
        if action in ("apply_start", "unapply_start") and getattr(self, "migrate_lease", None):
            self.migrate_lease.renew()
        if self.line_broken and action.endswith("_success"):
            self.stdout.write(self.started_line, ending="")
        self.line_broken = False
        started = _STARTED_LINES.get(action)
        self.started_line = started.format(migration) if started else ""
        super().migration_progress_callback(action, migration, fake)

    def report_progress(self, line: str) -> None:
        """The batches' progress, each line on its own, indented under its migration."""
        if self.verbosity < 1:
            return
        if self.started_line and not self.line_broken:
            self.stdout.write("")
            self.line_broken = True
        self.stdout.write(f"    {line.strip()}" if self.started_line else line)
        self.stdout.flush()

    def check_adoption(self, connection, *, fake_initial: bool) -> baseline.AdoptionCheck:
        check = baseline.adoption_check(connection)
        if check.differences:
            self.stderr.write(check.summary())
            for difference in check.differences:
                self.stderr.write(f"  - {difference}")
            raise CommandError(
                "Refusing to adopt this database: its legacy tables are not the ones the "
                "initial migrations describe. Nothing was recorded. Reconcile the "
                "differences above (or restore the expected schema) and run again.",
                returncode=DRIFT_REFUSED,
            )
        if not fake_initial and self.holds_unadopted_tables(connection):
            raise CommandError(
                "This database already holds the production tables but no migration is "
                "recorded. Adopt it with 'migrate --fake-initial', which first verifies "
                "that the tables match the baseline.",
                returncode=DRIFT_REFUSED,
            )
        return check

    def check_encryption_keys(self, connection, options) -> None:
        """Refuse before anything is applied when a pending migration seals or encrypts
        secrets (``needs_encryption_keys``) and the active key is not configured, or is not
        the key the database's keyring records for its id (``database.secrets.keyring``, which
        records it on first use): found at accounts.0007, it would stop the upgrade half-way,
        and a resumed encryption with another key would mix two keys under one id."""
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(self.plan_targets(executor, options))
        needing = [
            f"{migration.app_label}.{migration.name}"
            for migration, _ in plan
            if getattr(migration, "needs_encryption_keys", False)
        ]
        if not needing:
            return
        try:
            ring = crypto.keyring()
            ring.fernet(ring.active_kid)
            keyring.verify(connection, ring.active_kid)
        except crypto.KeyMismatch as error:
            raise CommandError(
                f"{', '.join(needing)} seal or encrypt secrets, but {error} No migration was "
                "applied.",
                returncode=errors.CANNOT_RUN,
            ) from None
        except crypto.EncryptionError as error:
            raise CommandError(
                f"{', '.join(needing)} seal or encrypt secrets, but {error} Nothing was "
                "applied: set the platform's key and run again.",
                returncode=errors.CANNOT_RUN,
            ) from None

    @staticmethod
    def holds_unadopted_tables(connection) -> bool:
        if not baseline.unapplied_baseline(connection):
            return False
        legacy = set(baseline.load_snapshot()["tables"])
        return bool(baseline.public_tables(connection) & legacy)

    def show_plan(self, connection, options) -> None:
        """Print what ``migrate`` would do, as Django's ``--plan`` does, but truthfully.

        Each migration is marked WILL BE FAKED (``--fake-initial`` and its tables exist: the
        baseline check above has compared the legacy ones), APPLIED or UNAPPLIED, and each
        operation is described by what it does. Reads only.
        """
        connection.prepare_database()
        executor = MigrationExecutor(connection)
        executor.loader.check_consistent_history(connection)
        plan = executor.migration_plan(self.plan_targets(executor, options))
        self.stdout.write(
            "Planned operations (--plan runs and records nothing):", self.style.MIGRATE_LABEL
        )
        if not plan:
            self.stdout.write("  No planned migration operations.")
        verdicts: dict[str, int] = {}
        for migration, backwards in plan:
            faked = (
                options["fake_initial"]
                and not backwards
                and executor.detect_soft_applied(None, migration)[0]
            )
            verdict = UNAPPLIED if backwards else FAKED if faked else APPLIED
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
            self.stdout.write(
                f"{migration}: {verdict}{self.why(migration, verdict)}",
                self.style.MIGRATE_HEADING,
            )
            states = self.operation_states(executor, migration, faked or backwards)
            for operation, (before, after) in zip(migration.operations, states, strict=False):
                if faked:
                    message, is_error = self.describe_faked(operation), False
                elif hasattr(operation, "steps") and not backwards:
                    message, is_error = "\n      then ".join(operation.steps()), False
                elif hasattr(operation, "recipe") and before is not None:
                    message, is_error = self.describe_recipe(
                        connection, migration.app_label, operation, before, after
                    )
                else:
                    message, is_error = self.describe_operation(operation, backwards)
                self.stdout.write("    " + message, self.style.WARNING if is_error else None)
        if plan:
            counts = ", ".join(
                f"{verdicts.get(verdict, 0)} {verdict.removeprefix('WILL BE ').lower()}"
                for verdict in (FAKED, APPLIED, UNAPPLIED)
                if verdict in verdicts or verdict != UNAPPLIED
            )
            self.stdout.write(f"{len(plan)} migration(s): {counts}.")
        if options["check_unapplied"] and plan:
            sys.exit(1)

    @staticmethod
    def why(migration, verdict: str) -> str:
        if verdict != FAKED:
            return ""
        if (migration.app_label, migration.name) in baseline.BASELINE_MIGRATIONS:
            return " (its tables exist and match the baseline: recorded as applied, not run)"
        return " (its tables exist: recorded as applied, not run)"

    @staticmethod
    def plan_targets(executor, options) -> list[tuple[str, str | None]]:
        """The migrations to migrate to, as Django's ``migrate`` works them out."""
        loader = executor.loader
        app_label, name = options["app_label"], options["migration_name"]
        if app_label and app_label not in loader.migrated_apps:
            raise CommandError(f"App '{app_label}' does not have migrations.")
        if app_label and name:
            if name == "zero":
                return [(app_label, None)]
            try:
                return [(app_label, loader.get_migration_by_prefix(app_label, name).name)]
            except AmbiguityError:
                raise CommandError(
                    f"More than one migration matches '{name}' in app '{app_label}'. "
                    "Please be more specific."
                ) from None
            except KeyError:
                raise CommandError(
                    f"Cannot find a migration matching '{name}' from app '{app_label}'."
                ) from None
        leaves = loader.graph.leaf_nodes()
        return [key for key in leaves if key[0] == app_label] if app_label else leaves

    @staticmethod
    def operation_states(executor, migration, skip: bool):
        """(state before, state after) of each operation, as applying ``migration`` forwards
        would build them; (None, None) each when ``skip`` or when no operation reads them
        (rendering the project state costs time)."""
        if skip or not any(hasattr(op, "recipe") for op in migration.operations):
            return itertools.repeat((None, None))
        state = executor.loader.project_state((migration.app_label, migration.name), at_end=False)
        states = []
        for operation in migration.operations:
            after = state.clone()
            operation.state_forwards(migration.app_label, after)
            states.append((state, after))
            state = after
        return states

    @staticmethod
    def describe_recipe(connection, app_label, operation, before, after):
        """An online twin of a Django operation, by the steps its migration state gives it
        (``database.online.recipes``); its refusal, as an error, if it cannot run online."""
        try:
            with connection.schema_editor(collect_sql=True, atomic=False) as editor:
                steps = operation.recipe(app_label, editor, before, after)
        except recipes.CannotAlterOnline as refusal:
            return str(refusal), True
        if not steps:
            return f"{operation.describe()}: nothing to run on this database", False
        return "\n      then ".join(step.describe() for step in steps), False

    @staticmethod
    def describe_operation(operation, backwards):
        """An operation in words (``database.online.operations.describe``); an error if
        irreversible."""
        return (
            operations.describe(operation, backwards=backwards),
            backwards and not operation.reversible,
        )

    @staticmethod
    def describe_faked(operation) -> str:
        if hasattr(operation, "describe_faked"):
            return operation.describe_faked()
        return f"fake, not run: {operations.describe(operation)}"
