"""``clear_expired_tokens``: remove emailed tokens the platform no longer honours (D13).

``users.password_reset_token`` and ``users.email_verification_token`` stay in plaintext because
the running platform looks users up by them. Once expired they are useless to the platform
and only a risk, so this command sets them to NULL. A token counts as expired when its
``*_sent_at`` is older than the platform's lifetime (``PASSWORD_RESET_TOKEN_HOURS``, default
2 h; ``EMAIL_VERIFICATION_TOKEN_HOURS``, default 24 h: the values of the platform's
``backend/api/auth_open.py``), or when ``*_sent_at`` is NULL, which the platform also treats as
expired. ``*_sent_at`` is kept: it is no secret and records when a token was last sent.

Rows are cleared in primary-key batches, one transaction each; the ``UPDATE`` re-checks the
condition, so a token issued meanwhile is never cleared. Safe to stop and run again.
"""

import datetime

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from psycopg import sql

from database.errors import USAGE, ReportsFailures, positive_int
from database.online import batches
from database.token_expiry import TOKENS, expired

BATCH_SIZE = 1_000


class Command(ReportsFailures, BaseCommand):
    help = "Clear password-reset and email-verification tokens past their lifetime."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-hours",
            type=int,
            default=None,
            help="Lifetime of a password-reset token (default: PASSWORD_RESET_TOKEN_HOURS).",
        )
        parser.add_argument(
            "--verification-hours",
            type=int,
            default=None,
            help="Lifetime of a verification token (default: EMAIL_VERIFICATION_TOKEN_HOURS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count only; change nothing.")
        parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE)
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def writes(self, options) -> bool:
        return not options["dry_run"]

    def handle(self, *args, **options):
        hours = {
            "PASSWORD_RESET_TOKEN_HOURS": options["reset_hours"],
            "EMAIL_VERIFICATION_TOKEN_HOURS": options["verification_hours"],
        }
        user_model = apps.get_model("accounts", "User")
        users = user_model._default_manager.using(options["database"])
        now = timezone.now()
        for token_field, sent_field, setting in TOKENS:
            lifetime = hours[setting]
            if lifetime is None:
                lifetime = getattr(settings, setting)
            if lifetime < 0:
                raise CommandError(
                    f"a token lifetime cannot be negative ({lifetime} h)", returncode=USAGE
                )
            condition = expired(token_field, sent_field, now - datetime.timedelta(hours=lifetime))
            if options["dry_run"]:
                count = users.filter(condition).count()
                self.stdout.write(
                    f"{token_field}: {count} expired (older than {lifetime} h) would be cleared"
                )
                continue
            cleared = self.clear(users, token_field, condition, options)
            self.stdout.write(
                f"{token_field}: {cleared} expired (older than {lifetime} h) cleared"
            )

    def clear(self, users, token_field, condition, options) -> int:
        connection = connections[options["database"]]
        table = batches.Table.of_model(users.model)
        expired_rows = sql.SQL(_where_sql(users.filter(condition), connection))
        token = sql.Identifier(users.model._meta.get_field(token_field).column)

        def update(key_range: sql.Composable) -> sql.Composable:
            return sql.SQL("UPDATE {t} SET {token} = NULL WHERE {range} AND {expired}").format(
                t=table.identifier, token=token, range=key_range, expired=expired_rows
            )

        def clear_batch(cursor, key_range: batches.KeyRange) -> int:
            statement = update(key_range.condition(table))
            cursor.execute(statement.as_string(cursor.connection))
            return cursor.rowcount

        cleared = 0
        for key_range, rows in batches.each_batch(
            connection,
            table,
            clear_batch,
            batch_size=options["batch_size"],
            among=expired_rows,
            throttle=batches.throttling(connection, progress=self.stdout.write),
            statement=update(sql.SQL("<key range>")).as_string(connection.connection),
        ):
            cleared += rows
            if options["verbosity"] >= 2:
                self.stdout.write(f"{token_field}: {cleared} cleared, up to id {key_range.upto}")
        return cleared


def _where_sql(queryset, connection) -> str:
    """The WHERE clause of ``queryset`` as SQL text, its values inlined."""
    query = queryset.query
    where, params = query.get_compiler(connection=connection).compile(query.where)
    return connection.ops.compose_sql(where, params)
