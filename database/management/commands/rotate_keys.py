"""``rotate_keys``: re-encrypt every encrypted column's values under one key id.

Columns are those the model registry declares encrypted (fields of the classes in
``database.fields``). Each column is rewritten in keyset batches, one transaction per batch,
only where a value is not yet under the target key id, so the command can be stopped and run
again at any point. Plaintext values left over from an unfinished in-place encryption are
encrypted on the way. Afterwards it verifies that no value remains under another key id.

Deploy the new key to the running platform (TOKEN_ENCRYPTION_KEYS) before running this, and
remove the old key only after it reports zero values left.

Before writing anything it checks the target key, and every configured key the database's
keyring knows, against the keyring (``database.secrets.keyring``): a wrong key is refused with
nothing written. The archived secrets (``database.online.archive.reseal``: retired registration
keys, original 2FA backup codes) are re-sealed too, so a migration reversed after the old key is
removed still restores them.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from database import errors
from database.errors import ReportsFailures, positive_int
from database.online import archive
from database.secrets import batches, crypto, keyring

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
        parser.add_argument("--batch-size", type=positive_int, default=batches.BATCH_SIZE)
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            help="Seconds to sleep between batches (eases load on a busy primary); the "
            "batches also wait for standbys (MIGRATE_MAX_REPLICA_LAG_BYTES).",
        )
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="LABEL",
            help="Only this column: app_label.Model.field or table.column (repeatable); "
            "the archived secrets are re-sealed only without --only.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def writes(self, options) -> bool:
        return not options["dry_run"]

    def handle(self, *args, **options):
        ring = crypto.keyring()
        to_kid = options["to_kid"] or ring.active_kid
        connection = connections[options["database"]]
        self.refuse_wrong_keys(ring.fernet, to_kid)
        columns = self.columns(options["only"])
        if not columns:
            self.stdout.write("No encrypted columns in the model registry; nothing to do.")
            return
        if not options["dry_run"]:
            self.refuse_wrong_keys(self.verify_keys, connection, ring, to_kid)
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
            self.dry_run(columns, to_kid, ring, common, archives=not options["only"])
            return

        left: dict[str, dict[str, int]] = {}
        for column in columns:
            for _ in range(PASSES):
                try:
                    outcome = batches.rotate_column(column, to_kid=to_kid, **common)
                except crypto.EncryptionError as error:
                    raise CommandError(
                        f"{column.name}: {error}. Batches already committed stay re-encrypted; "
                        "fix the keys and run again."
                    ) from None
                self.stdout.write(batches.summarise([outcome])[0])
                if not outcome.raced:
                    break
            remaining = batches.remaining(column, kid=to_kid, using=options["database"])
            if remaining:
                left[column.name] = remaining
        if not options["only"]:
            left.update(self.reseal_archives(connection, to_kid, dry_run=False))
        if left:
            details = "; ".join(
                f"{name}: " + ", ".join(f"{kid} {n}" for kid, n in sorted(counts.items()))
                for name, counts in left.items()
            )
            raise CommandError(f"Values remain under other key ids: {details}. Run again.")
        self.stdout.write(
            self.style.SUCCESS(f"Done: every encrypted value is under key id {to_kid!r}.")
        )

    @staticmethod
    def refuse_wrong_keys(check, *args) -> None:
        try:
            check(*args)
        except crypto.EncryptionError as error:
            raise CommandError(
                f"Cannot re-encrypt: {error}", returncode=errors.CANNOT_RUN
            ) from None

    @staticmethod
    def verify_keys(connection, ring, to_kid) -> None:
        """Before any value is written: the target key and every configured key the
        database's keyring knows must be the keys it recorded (``database.secrets.keyring``)."""
        known = keyring.recorded(connection)
        for kid in sorted({to_kid, *(kid for kid in ring.kids if kid in known)}):
            keyring.verify(connection, kid)

    def reseal_archives(self, connection, to_kid, *, dry_run) -> dict[str, dict[str, int]]:
        """The archived secrets (``database.online.archive.reseal``): re-sealed, or counted;
        returns what remains under other key ids."""
        if dry_run:
            counts = archive.reseal(connection, to_kid, dry_run=True)
        else:
            try:
                archive.reseal(connection, to_kid)
            except crypto.EncryptionError as error:
                raise CommandError(
                    f"The archive: {error}. Batches already done stay re-sealed; fix "
                    "the keys and run again.",
                    returncode=errors.CANNOT_RUN,
                ) from None
            counts = archive.reseal(connection, to_kid, dry_run=True)
        left = {}
        for name, by_kid in counts.items():
            remaining = {kid: n for kid, n in by_kid.items() if kid != to_kid}
            verb = "to re-seal" if dry_run else "left under other key ids"
            detail = ", ".join(f"{kid}: {n}" for kid, n in sorted(remaining.items())) or "none"
            self.stdout.write(f"{name}: {sum(remaining.values())} value(s) {verb} ({detail})")
            if remaining:
                left[name] = remaining
        return left

    def dry_run(self, columns, to_kid, ring, common, *, archives):
        missing_keys = set()
        for column in columns:
            counts = batches.remaining(column, kid=to_kid, using=common["using"])
            total = sum(counts.values())
            detail = ", ".join(f"{kid}: {n}" for kid, n in sorted(counts.items())) or "none"
            self.stdout.write(f"{column.name}: {total} value(s) to re-encrypt ({detail})")
            missing_keys.update(
                kid for kid in counts if kid != "plaintext" and kid not in ring.materials
            )
        archived = (
            self.reseal_archives(connections[common["using"]], to_kid, dry_run=True)
            if archives
            else {}
        )
        for counts in archived.values():
            missing_keys.update(
                kid for kid in counts if kid != "plaintext" and kid not in ring.materials
            )
        if missing_keys:
            raise CommandError(
                "No key configured for key id(s) "
                f"{', '.join(sorted(missing_keys))}: those values cannot be re-encrypted."
            )

    def columns(self, only):
        columns = batches.encrypted_columns()
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
