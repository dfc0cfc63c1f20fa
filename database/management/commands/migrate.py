"""``migrate``, made safe to point at production.

On top of Django's command it
- holds a PostgreSQL advisory lock, so a second migrator fails fast instead of racing;
- with ``--fake-initial``, compares the live catalog of every legacy table with the baseline
  before anything is recorded, and refuses on any difference;
- without it, refuses to run the initial migrations over existing legacy tables;
- reports an unreachable or forbidden database in one paragraph.
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from database import baseline, crypto, errors
from database.locks import LockUnavailable, advisory_lock

DRIFT_REFUSED = 4
ANOTHER_MIGRATOR = 5


class Command(migrate.Command):
    help = (
        "Update the database schema. With --fake-initial, adopt an existing production "
        "database only if its tables match the baseline exactly."
    )

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        try:
            with (
                errors.reported_as_cannot_run(connection),
                advisory_lock(connection, settings.MIGRATE_ADVISORY_LOCK_KEY),
            ):
                self.check_adoption(connection, fake_initial=options["fake_initial"])
                super().handle(*args, **options)
        except LockUnavailable:
            raise CommandError(
                "Another migrate is running on this database (it holds advisory lock "
                f"{settings.MIGRATE_ADVISORY_LOCK_KEY}). Nothing was applied or recorded; "
                "run again once it has finished.",
                returncode=ANOTHER_MIGRATOR,
            ) from None
        except crypto.EncryptionError as error:
            raise CommandError(
                f"Cannot encrypt or decrypt secrets: {error}. Set TOKEN_ENCRYPTION_KEY (and "
                "TOKEN_ENCRYPTION_KEYS for older key ids) to the platform's keys; the batches "
                "already done are kept and a re-run resumes.",
                returncode=errors.CANNOT_RUN,
            ) from None

    def check_adoption(self, connection, *, fake_initial: bool) -> None:
        differences = baseline.adoption_differences(connection)
        if differences:
            self.stderr.write(
                f"The database differs from the production baseline in "
                f"{len(differences)} place(s):"
            )
            for difference in differences:
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

    @staticmethod
    def holds_unadopted_tables(connection) -> bool:
        if not baseline.unapplied_baseline(connection):
            return False
        legacy = set(baseline.load_snapshot()["tables"])
        return bool(baseline.public_tables(connection) & legacy)
