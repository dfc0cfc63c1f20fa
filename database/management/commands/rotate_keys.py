"""``rotate_keys``: re-encrypt every encrypted column's values under one key id.

Columns are those the model registry declares encrypted (fields of the classes in
``database.fields``). Each column is rewritten in keyset batches, one transaction per batch,
only where a value is not yet under the target key id, so the command can be stopped and run
again at any point. Plaintext values left over from an unfinished in-place encryption are
encrypted on the way. Afterwards it verifies that no value remains under another key id.

Deploy the new key to the running platform (TOKEN_ENCRYPTION_KEYS) before running this, and
remove the old key only after it reports zero values left.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from database import crypto, crypto_batches
from database.errors import ReportsFailures, positive_int

PASSES = 3


class Command(ReportsFailures, BaseCommand):
    help = "Re-encrypt every encrypted column under one key id (batched, resumable)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--to-kid",
            help="Key id to encrypt under (default: TOKEN_ENCRYPTION_ACTIVE_KID).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be re-encrypted, by current key id; write nothing.",
        )
        parser.add_argument("--batch-size", type=positive_int, default=crypto_batches.BATCH_SIZE)
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            help="Seconds to sleep between batches (eases load on a busy primary).",
        )
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="LABEL",
            help="Only this column: app_label.Model.field or table.column (repeatable).",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def writes(self, options) -> bool:
        return not options["dry_run"]

    def handle(self, *args, **options):
        ring = crypto.keyring()
        to_kid = options["to_kid"] or ring.active_kid
        try:
            ring.fernet(to_kid)
        except crypto.EncryptionError as error:
            raise CommandError(str(error)) from None

        columns = self.columns(options["only"])
        if not columns:
            self.stdout.write("No encrypted columns in the model registry; nothing to do.")
            return
        self.stdout.write(
            f"{'Dry run: ' if options['dry_run'] else ''}re-encrypting {len(columns)} column(s) "
            f"under key id {to_kid!r}"
        )
        common = {
            "using": options["database"],
            "batch_size": options["batch_size"],
            "pause": options["pause"],
            "log": self.progress if options["verbosity"] >= 1 else (lambda line: None),
        }
        if options["dry_run"]:
            self.dry_run(columns, to_kid, ring, common)
            return

        left: dict[str, dict[str, int]] = {}
        for column in columns:
            for _ in range(PASSES):
                try:
                    outcome = crypto_batches.rotate_column(column, to_kid=to_kid, **common)
                except crypto.EncryptionError as error:
                    raise CommandError(
                        f"{column.name}: {error}. Batches already committed stay re-encrypted; "
                        "fix the keys and run again."
                    ) from None
                self.stdout.write(crypto_batches.summarise([outcome])[0])
                if not outcome.raced:
                    break
            remaining = crypto_batches.remaining(column, kid=to_kid, using=options["database"])
            if remaining:
                left[column.name] = remaining
        if left:
            details = "; ".join(
                f"{name}: " + ", ".join(f"{kid} {n}" for kid, n in sorted(counts.items()))
                for name, counts in left.items()
            )
            raise CommandError(f"Values remain under other key ids: {details}. Run again.")
        self.stdout.write(
            self.style.SUCCESS(f"Done: every encrypted value is under key id {to_kid!r}.")
        )

    def dry_run(self, columns, to_kid, ring, common):
        missing_keys = set()
        for column in columns:
            counts = crypto_batches.remaining(column, kid=to_kid, using=common["using"])
            total = sum(counts.values())
            detail = ", ".join(f"{kid}: {n}" for kid, n in sorted(counts.items())) or "none"
            self.stdout.write(f"{column.name}: {total} value(s) to re-encrypt ({detail})")
            missing_keys.update(
                kid for kid in counts if kid != "plaintext" and kid not in ring.materials
            )
        if missing_keys:
            raise CommandError(
                "No key configured for key id(s) "
                f"{', '.join(sorted(missing_keys))}: those values cannot be re-encrypted."
            )

    def columns(self, only):
        columns = crypto_batches.encrypted_columns()
        if not only:
            return columns
        wanted = set(only)
        chosen = [c for c in columns if c.label in wanted or f"{c.table}.{c.column}" in wanted]
        unknown = wanted - {c.label for c in chosen} - {f"{c.table}.{c.column}" for c in chosen}
        if unknown:
            raise CommandError(f"Not an encrypted column: {', '.join(sorted(unknown))}")
        return chosen

    def progress(self, line):
        self.stdout.write(line)
