"""The upgrade: adopted production and an empty database converge, nothing is lost, the
upgrade survives being killed, and it can be undone back to the baseline and redone."""

import functools
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from database.schema import baseline
from database.schema.catalog import diff_catalogs, read_catalog
from database.schema.rowcheck import archived_rows, changed_rows, legacy_rows


def catalog(database):
    with database.connect() as conn, conn.transaction(), conn.cursor() as cursor:
        return read_catalog(cursor)


@pytest.fixture(scope="module")
def migrated_empty(server, django_db_blocker):
    """The catalog of an empty database migrated from scratch."""
    from database.schema import scratch
    from tests.conftest import _create

    database = _create(server, "fresh")
    try:
        result = database.manage("migrate", "--no-input")
        assert result.returncode == 0, result.stderr
        yield catalog(database)
    finally:
        scratch.drop_database(server, database.name)


def test_adopted_production_and_a_fresh_database_end_with_the_same_schema(
    migrated_empty, make_database, adopted_template
):
    adopted = make_database("adopted", template=adopted_template)

    assert diff_catalogs(migrated_empty, catalog(adopted)) == []
    assert len(migrated_empty["tables"]) > 50


def test_no_legacy_value_is_lost_by_the_upgrade(production_db):
    with production_db.connect() as conn:
        before = legacy_rows(conn)

    result = production_db.manage("migrate", "--fake-initial", "--no-input")

    assert result.returncode == 0, result.stderr
    with production_db.connect() as conn:
        after, archived = legacy_rows(conn), archived_rows(conn)
    assert changed_rows(before, after, archived) == []
    assert archived["user_settings"].keys() == {4}  # the duplicate settings row of user 2


def test_every_public_id_is_distinct_and_not_null(make_database, adopted_template):
    adopted = make_database("adopted", template=adopted_template)
    tables = [
        "users",
        "admin_users",
        "notifications",
        "content_logs",
        "content",
        "memories",
        "company_knowledge",
        "social_platform_connections",
    ]
    for table in tables:
        ((rows, filled, distinct),) = adopted.execute(
            f"SELECT count(*), count(public_id), count(DISTINCT public_id) FROM {table}"
        )
        assert rows == filled == distinct > 0, table


def grow(database, rows: int) -> None:
    """Add ``rows`` content_logs and a tenth as many users to a production copy."""
    database.execute(
        "INSERT INTO users (email, username, created_at) "
        "SELECT 'bulk' || n || '@example.com', 'bulk' || n, now() "
        "FROM generate_series(1, %s) n",
        [rows // 10],
    )
    database.execute("SELECT setval('content_logs_id_seq', (SELECT max(id) FROM content_logs))")
    database.execute(
        "INSERT INTO content_logs (user_id, platform, content, content_type, metadata) "
        "SELECT 1 + mod(n, 5), 'twitter', 'post ' || n, 'text', '{\"n\": 1}' "
        "FROM generate_series(1, %s) n",
        [rows],
    )
    database.execute("ANALYZE")


def start_migrate(database) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "migrate", "--fake-initial", "--no-input"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_an_upgrade_killed_at_several_points_completes_when_run_again(
    production_db, migrated_empty
):
    grow(production_db, 300_000)
    with production_db.connect() as conn:
        before = legacy_rows(conn)

    kills = 0
    for delay in (1.5, 3.0, 4.5, 6.0):
        run = start_migrate(production_db)
        time.sleep(delay)
        if run.poll() is None:
            run.send_signal(signal.SIGKILL)
            kills += 1
        run.communicate()
        applied = production_db.applied_migrations()
        assert len(applied) == len(set(applied)), "a migration was recorded twice"
    final = start_migrate(production_db)
    _out, err = final.communicate(timeout=600)

    assert final.returncode == 0, err
    assert kills >= 2
    assert diff_catalogs(migrated_empty, catalog(production_db)) == []
    with production_db.connect() as conn:
        after, archived = legacy_rows(conn), archived_rows(conn)
    assert changed_rows(before, after, archived) == []
    ((rows, distinct),) = production_db.execute(
        "SELECT count(*), count(DISTINCT public_id) FROM content_logs"
    )
    assert rows == distinct == 300_006
    applied = production_db.applied_migrations()
    assert len(applied) == len(set(applied))


def migrate_to_baseline(database) -> None:
    for app in ("organizations", "goals", "workflows"):
        result = database.manage("migrate", app, "zero", "--no-input")
        assert result.returncode == 0, result.stderr
    for app, name in baseline.BASELINE_MIGRATIONS:
        result = database.manage("migrate", app, name, "--no-input")
        assert result.returncode == 0, result.stderr


KEYS_AS_TEXT = "SELECT k::text FROM registration_keys k ORDER BY 1"
KEY_LINKS = "SELECT id, registration_key_id FROM users ORDER BY id"


def test_backwards_to_the_baseline_and_forwards_again(production_db, migrated_empty):
    with production_db.connect() as conn:
        original = legacy_rows(conn)
    keys, links = production_db.execute(KEYS_AS_TEXT), production_db.execute(KEY_LINKS)
    assert production_db.manage("migrate", "--fake-initial", "--no-input").returncode == 0

    migrate_to_baseline(production_db)

    assert production_db.execute(KEYS_AS_TEXT) == keys  # byte for byte
    assert production_db.execute(KEY_LINKS) == links
    with production_db.connect() as conn:
        assert legacy_rows(conn) == original
        with conn.transaction(), conn.cursor() as cursor:
            back = read_catalog(cursor, baseline.load_snapshot()["tables"])
    # PostgreSQL cannot put a column back at its old position: the restored
    # users.registration_key_id and the columns converted back to json come last. Column
    # order is the only difference from the baseline: types, defaults, keys, indexes match.
    differences = diff_catalogs(baseline.load_snapshot(), back)
    assert {difference.kind for difference in differences} == {"column order"}
    for difference in differences:
        assert sorted(difference.found) == sorted(difference.expected)

    result = production_db.manage("migrate", "--no-input")

    assert result.returncode == 0, result.stderr
    assert diff_catalogs(migrated_empty, catalog(production_db)) == []


CONTENT_IDS = "SELECT id, content_id FROM notifications WHERE content_id IS NOT NULL ORDER BY id"


def test_content_id_becomes_text_in_the_first_pass_and_a_non_integer_is_archived_going_back(
    production_db,
):
    integers = production_db.execute(CONTENT_IDS)
    assert integers
    migrated = production_db.manage("migrate", "--fake-initial", "accounts", "0004", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    assert production_db.execute(CONTENT_IDS) == [(id, str(value)) for id, value in integers]
    first = integers[0][0]
    production_db.execute(
        "UPDATE notifications SET content_id = 'post-7f3a' WHERE id = %s", [first]
    )

    back = production_db.manage("migrate", "--fake-initial", "accounts", "0003", "--no-input")

    assert back.returncode == 0, back.stderr
    assert production_db.execute(CONTENT_IDS) == integers[1:]
    assert production_db.execute(
        "SELECT id, content_id FROM archive.notifications__content_id__unconvertible"
    ) == [(first, "post-7f3a")]


def non_atomic_migrations_in_plan_order(alias: str) -> list[tuple[str, str]]:
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    return [(migration.app_label, migration.name) for migration, _ in plan if not migration.atomic]


@pytest.mark.slow
def test_each_non_atomic_migration_run_again_after_it_finished_changes_nothing(
    production_db, alias_of
):
    """A kill after a non-atomic migration's last statement but before Django records it
    makes the next run repeat the whole migration; repeating it must leave the catalog as
    it was (re-typing a column, for one, re-parses its CHECK into another normal form)."""
    alias = alias_of(production_db)
    migrate = functools.partial(
        call_command, "migrate", database=alias, fake_initial=True, interactive=False, verbosity=0
    )
    repeated = []
    for app, name in non_atomic_migrations_in_plan_order(alias):
        migrate(app, name)
        finished = catalog(production_db)
        MigrationRecorder(connections[alias]).record_unapplied(app, name)

        migrate(app, name)

        assert diff_catalogs(finished, catalog(production_db)) == [], f"{app}.{name}"
        repeated.append(name)
    assert len(repeated) >= 20
