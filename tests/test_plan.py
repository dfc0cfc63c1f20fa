"""``migrate --fake-initial --plan`` and ``sqlmigrate`` say what will really happen."""

import re

import pytest
from django.db.migrations.loader import MigrationLoader

from database.management.commands.migrate import DRIFT_REFUSED
from database.online import operations
from database.schema import baseline

DJANGO_GENERIC = {
    "Custom state/database change combination",
    "Raw Python operation",
    "Raw SQL operation",
}
PROJECT_APPS = {
    "accounts",
    "content",
    "research",
    "social",
    "organizations",
    "goals",
    "workflows",
    "embeddings",
    "database",
}


def nothing_written(database) -> bool:
    (row,) = database.execute(
        "SELECT to_regclass('public.django_migrations'), to_regnamespace('archive')"
    )
    return row == (None, None)


def test_plan_on_production_says_the_check_passed_and_what_is_faked(production_db):
    result = production_db.manage("migrate", "--fake-initial", "--plan")

    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = out.splitlines()
    assert lines[0].startswith("Baseline check passed: the 16 legacy tables match")
    assert "Only the catalog was read." in lines[0]
    for app, name in baseline.BASELINE_MIGRATIONS:
        assert f"{app}.{name}: WILL BE FAKED (its tables exist and match the baseline" in out
    assert "accounts.0002_account_security_and_admin_tables: WILL BE APPLIED" in out
    assert "accounts.0007_retire_registration_keys: WILL BE APPLIED" in out
    assert out.count("WILL BE FAKED") == 4
    assert re.fullmatch(r"\d+ migration\(s\): 4 faked, \d+ applied\.", lines[-1])
    assert "    fake: table users already matches production (model User)" in lines
    assert "    fake: table inbox_settings already matches production" in out
    # No operation is left to Django's generic words, and nothing faked says it is created.
    assert "Custom state/database change combination" not in out
    assert "from the production DDL" not in out
    assert not [line for line in lines if line.strip() in DJANGO_GENERIC]
    # The archive steps, the online recipes and the Python steps say what they do.
    assert (
        "    Archive id, key, description, max_uses, current_uses, expires_at, "
        "email_domain_restriction, is_active, created_at, created_by of registration_keys "
        "into archive.registration_keys with a manifest row, key sealed with the platform's "
        "key (one transaction, row locks only)"
    ) in lines
    assert (
        "      then Fill users.public_id with gen_random_uuid() where it is NULL, in "
        "primary-key batches of 10,000 rows, one transaction each (online, resumable)"
    ) in lines
    assert "    Raw Python operation: Encrypt plaintext connection tokens in place" in out
    # OnlineAlterField is described by the steps its migration state gives it: the column's
    # own table and the index the state knows, not only the type it changes to.
    assert (
        "    Convert notifications.created_at to timestamptz, values read as UTC (a catalog "
        "change, no rewrite); its indexes ix_notifications_created_at dropped and rebuilt "
        "concurrently around it"
    ) in lines
    assert not [line for line in lines if "online to " in line]
    assert nothing_written(production_db)


def test_plan_on_drifted_production_is_refused_with_the_readable_line(production_db):
    production_db.execute("ALTER TABLE users ALTER COLUMN email DROP NOT NULL")

    result = production_db.manage("migrate", "--fake-initial", "--plan")

    assert result.returncode == DRIFT_REFUSED, result.stdout + result.stderr
    assert "Baseline check failed: the database differs from the production baseline in 1 " in (
        result.stderr
    )
    assert (
        "  - users.email: column nullability: NOT NULL expected, the column is nullable"
        in result.stderr.splitlines()
    )
    assert "Refusing to adopt" in result.stderr
    assert "Planned operations" not in result.stdout
    assert "Traceback" not in result.stderr
    assert nothing_written(production_db)


def test_plan_on_an_empty_database_applies_everything(make_database):
    database = make_database("empty")

    result = database.manage("migrate", "--fake-initial", "--plan")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Baseline check: no legacy table in this database")
    assert "WILL BE FAKED" not in result.stdout
    assert "accounts.0001_initial: WILL BE APPLIED" in result.stdout
    assert "    Create legacy table users (model User) from the production DDL" in result.stdout
    assert re.search(r"^\d+ migration\(s\): 0 faked, \d+ applied\.$", result.stdout, re.M)
    assert nothing_written(database)


def test_every_project_operation_describes_itself_in_words():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    generic = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app not in PROJECT_APPS:
            continue
        stack = list(migration.operations)
        while stack:
            operation = stack.pop()
            stack.extend(getattr(operation, "database_operations", []))
            for backwards in (False, True):
                text = operations.describe(operation, backwards=backwards)
                if text.removeprefix("Undo: ") in DJANGO_GENERIC or "\n" in text:
                    generic.append(f"{app}.{name}: {type(operation).__name__}: {text!r}")
    assert generic == []


ARCHIVE_STATEMENTS = [
    "CREATE SCHEMA IF NOT EXISTS archive;",
    "CREATE TABLE IF NOT EXISTS archive.manifest (",
    'CREATE TABLE IF NOT EXISTS "archive"."{table}" AS SELECT ',
    "INSERT INTO archive.manifest (source, selection, archive_table, migration, row_count, "
    "checksum) SELECT 'public.{source}'",
    'INSERT INTO "archive"."{table}" (',
]


@pytest.mark.parametrize(
    ("migration", "source", "table", "then"),
    [
        (
            "0007_retire_registration_keys",
            "registration_keys",
            "registration_keys",
            "DROP TABLE registration_keys;",
        ),
        (
            "0005_user_settings_one_row_per_user",
            "user_settings",
            "user_settings_duplicates",
            "DELETE FROM user_settings WHERE id NOT IN (SELECT min(id) FROM "
            "public.user_settings GROUP BY user_id);",
        ),
        (
            "0013_admin_users_is_active_required",
            "admin_users",
            "admin_users_is_active_null",
            'UPDATE "public"."admin_users" SET "is_active" = false WHERE "is_active" IS NULL;',
        ),
    ],
)
def test_sqlmigrate_prints_the_archive_statements(production_db, migration, source, table, then):
    result = production_db.manage("sqlmigrate", "accounts", migration)

    assert result.returncode == 0, result.stderr
    assert "CANNOT BE WRITTEN AS SQL" not in result.stdout
    for statement in ARCHIVE_STATEMENTS:
        assert statement.format(table=table, source=source) in result.stdout
    archived = result.stdout.index(f'INSERT INTO "archive"."{table}"')
    assert result.stdout.index(then) > archived


def test_the_printed_archive_statements_of_0007_run_as_printed(production_db):
    printed = production_db.manage("sqlmigrate", "accounts", "0007_retire_registration_keys")
    assert printed.returncode == 0, printed.stderr
    assert "-- then archive.registration_keys.key is sealed" in printed.stdout

    production_db.execute(printed.stdout)

    assert production_db.execute(
        "SELECT source, archive_table, row_count FROM archive.manifest ORDER BY id"
    ) == [
        ("public.users", "archive.users_registration_key_id", 1),
        ("public.registration_keys", "archive.registration_keys", 2),
    ]
    assert production_db.execute("SELECT to_regclass('public.registration_keys')") == [(None,)]


def test_sqlmigrate_prints_the_recipes_online_alter_field_reads_from_the_state(production_db):
    result = production_db.manage(
        "sqlmigrate", "accounts", "0008_accounts_json_to_jsonb_and_timestamptz"
    )

    assert result.returncode == 0, result.stderr
    assert "-- Convert notifications.created_at to timestamptz" in result.stdout
    rebuilt = [
        'DROP INDEX CONCURRENTLY IF EXISTS "public"."ix_notifications_created_at";',
        'SET LOCAL TimeZone = \'UTC\'; ALTER TABLE "public"."notifications" ALTER COLUMN '
        '"created_at" '
        "TYPE timestamp with time zone;",
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "ix_notifications_created_at" ON '
        '"public"."notifications" ("created_at");',
    ]
    start = result.stdout.index(rebuilt[0])
    assert result.stdout[start:].split("\n")[:3] == rebuilt
    assert (
        'ALTER TABLE "public"."user_settings" ALTER COLUMN "posting_times" SET DEFAULT '
        """'{"twitter": "09:00", "instagram": "10:00"}'::jsonb;"""
    ) in result.stdout
