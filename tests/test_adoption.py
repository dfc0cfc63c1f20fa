"""``migrate --fake-initial`` adopts production only when it is exactly the baseline."""

import subprocess
import sys

import pytest
from django.conf import settings

from database.management.commands.migrate import ANOTHER_MIGRATOR, DRIFT_REFUSED
from database.schema import baseline
from database.schema.rowcheck import archived_rows, changed_rows, legacy_rows

INITIAL = {(app, name) for app, name in baseline.BASELINE_MIGRATIONS}


def test_fake_initial_adopts_production_and_keeps_every_value(production_db):
    with production_db.connect() as conn:
        before = legacy_rows(conn)

    result = production_db.manage("migrate", "--fake-initial", "--no-input")

    assert result.returncode == 0, result.stderr
    assert "Baseline check passed: the 16 legacy tables match" in result.stdout
    for app, name in baseline.BASELINE_MIGRATIONS:
        assert f"Applying {app}.{name}... FAKED" in result.stdout
    applied = production_db.applied_migrations()
    assert set(applied) >= INITIAL
    assert len(applied) == len(set(applied))
    with production_db.connect() as conn:
        after, archived = legacy_rows(conn), archived_rows(conn)
    assert changed_rows(before, after, archived) == []
    assert sum(map(len, before.values())) == 51  # every sample row was compared


DRIFTS = [
    ("missing table", "DROP TABLE inbox_settings", "inbox_settings: missing table"),
    ("extra table", "CREATE TABLE goals (id serial PRIMARY KEY)", "goals: extra table"),
    (
        "missing column",
        "ALTER TABLE users DROP COLUMN full_name",
        "users.full_name: missing column",
    ),
    (
        "extra column",
        "ALTER TABLE users ADD COLUMN public_id uuid",
        "users.public_id: extra column",
    ),
    (
        "type",
        "ALTER TABLE content_logs ALTER COLUMN metadata TYPE jsonb",
        "content_logs.metadata: column type",
    ),
    (
        "nullability",
        "ALTER TABLE notifications ALTER COLUMN message SET NOT NULL",
        "notifications.message: column nullability: nullable expected, the column is NOT NULL",
    ),
    (
        "not null dropped",
        "ALTER TABLE users ALTER COLUMN email DROP NOT NULL",
        "users.email: column nullability: NOT NULL expected, the column is nullable",
    ),
    (
        "default",
        "ALTER TABLE users ALTER COLUMN created_at SET DEFAULT now()",
        "users.created_at: column default",
    ),
    (
        "missing index",
        "DROP INDEX ix_users_tier_status",
        "users.ix_users_tier_status: missing index",
    ),
    (
        "extra index",
        "CREATE INDEX ix_users_full_name ON users (full_name)",
        "users.ix_users_full_name: extra index",
    ),
    (
        "unique constraint",
        "ALTER TABLE inbox_settings DROP CONSTRAINT inbox_settings_user_id_key",
        "inbox_settings.inbox_settings_user_id_key: missing constraint",
    ),
    (
        "foreign key",
        "ALTER TABLE content DROP CONSTRAINT content_memory_id_fkey",
        "content.content_memory_id_fkey: missing constraint",
    ),
    (
        "foreign key rule",
        "ALTER TABLE memories DROP CONSTRAINT memories_user_id_fkey, ADD CONSTRAINT "
        "memories_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
        "memories.memories_user_id_fkey: constraint",
    ),
    (
        "enum label",
        "ALTER TYPE adminrole ADD VALUE 'SUPPORT'",
        "adminrole: enum type",
    ),
    (
        "trigger",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RETURN NEW; END$$; CREATE TRIGGER touch_templates BEFORE UPDATE ON "
        "response_templates FOR EACH ROW EXECUTE FUNCTION touch()",
        "response_templates.touch_templates: extra trigger",
    ),
]


@pytest.mark.parametrize(
    ("drift", "statement", "named"), DRIFTS, ids=[drift[0] for drift in DRIFTS]
)
def test_drifted_production_is_refused_and_nothing_is_recorded(
    production_db, drift, statement, named
):
    production_db.execute(statement)

    result = production_db.manage("migrate", "--fake-initial", "--no-input")

    assert result.returncode == DRIFT_REFUSED, result.stdout + result.stderr
    assert named in result.stderr
    assert "Refusing to adopt" in result.stderr
    assert "Traceback" not in result.stderr
    assert production_db.applied_migrations() == []


def test_an_adoption_cut_off_after_the_key_check_is_adopted_when_run_again(production_db):
    # What a migrate killed between its key check and the faking of the baseline leaves.
    production_db.execute(
        "CREATE TABLE encryption_keyring (kid text PRIMARY KEY, check_value text NOT NULL, "
        "recorded_at timestamptz NOT NULL DEFAULT now())"
    )

    result = production_db.manage("migrate", "--fake-initial", "--no-input")

    assert result.returncode == 0, result.stdout + result.stderr
    assert ("accounts", "0001_initial") in production_db.applied_migrations()


def test_plain_migrate_over_unadopted_production_is_refused(production_db):
    result = production_db.manage("migrate", "--no-input")

    assert result.returncode == DRIFT_REFUSED
    assert "--fake-initial" in result.stderr
    assert production_db.applied_migrations() == []


def test_fake_initial_on_an_empty_database_builds_everything(make_database):
    database = make_database("empty")

    result = database.manage("migrate", "--fake-initial", "--no-input")

    assert result.returncode == 0, result.stderr
    assert "FAKED" not in result.stdout
    assert set(database.applied_migrations()) >= INITIAL


def test_two_concurrent_migrates_apply_everything_exactly_once(make_database):
    database = make_database("concurrent")
    env_url = database.url
    import os

    env = {**os.environ, "DATABASE_URL": env_url}
    command = [sys.executable, "manage.py", "migrate", "--no-input"]
    runs = [
        subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(run.wait(timeout=300), *run.communicate()) for run in runs]

    codes = sorted(code for code, _, _ in outcomes)
    assert codes in ([0, 0], [0, ANOTHER_MIGRATOR])
    appliers = [out for _, out, _ in outcomes if "Applying accounts.0001_initial" in out]
    assert len(appliers) == 1
    for code, _, err in outcomes:
        if code == ANOTHER_MIGRATOR:
            assert "Another migrate is running" in err
            assert "Traceback" not in err
    applied = database.applied_migrations()
    assert len(applied) == len(set(applied))
    assert set(applied) >= INITIAL


@pytest.mark.parametrize(
    ("case", "url", "says"),
    [
        ("unreachable server", "postgres://postgres@127.0.0.1:9/postgres", "Cannot use database"),
        ("missing database", None, "does not exist"),
        ("wrong user", "user", "does not exist"),
    ],
)
def test_bad_connection_settings_give_one_paragraph_and_exit_2(production_db, case, url, says):
    from tests.conftest import run_manage

    if url is None:
        url = production_db.url.replace(production_db.name, "no_such_database")
    elif url == "user":
        url = production_db.url.replace("postgres@", "nobody_here@", 1)

    result = run_manage("migrate", "--no-input", database_url=url)

    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_an_upgrade_without_the_encryption_key_stops_with_one_paragraph(production_db):
    from tests.conftest import run_manage

    result = run_manage(
        "migrate",
        "--fake-initial",
        "--no-input",
        database_url=production_db.url,
        env={"DJANGO_DEVELOPMENT_KEYS": "0", "TOKEN_ENCRYPTION_KEY": ""},
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Set TOKEN_ENCRYPTION_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    ((plaintext,),) = production_db.execute(
        "SELECT count(*) FROM social_platform_connections WHERE access_token LIKE 'DUMMY-%'"
    )
    assert plaintext == 2  # nothing was half-encrypted with a wrong key


def test_drift_lines_read_in_the_operators_terms():
    from database.schema.catalog import Difference

    assert str(Difference("users", "column nullability", "email", True, False)) == (
        "users.email: column nullability: NOT NULL expected, the column is nullable"
    )
    assert str(Difference("users", "column identity", "id", None, "a")) == (
        "users.id: column identity: expected no identity, found GENERATED ALWAYS AS IDENTITY"
    )
    assert str(Difference("users", "column default", "created_at", None, "now()")) == (
        "users.created_at: column default: expected nothing, found 'now()'"
    )
