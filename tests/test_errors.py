"""Every operational failure ends a command with one paragraph and its documented exit code
(``database.errors``), on real servers: no traceback, nothing run that should not have been."""

import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from django.conf import settings

from database import errors
from database.schema import scratch
from tests.conftest import run_manage

UNREACHABLE = "postgres://postgres@127.0.0.1:9/postgres"

# Each command the project ships or overrides, with arguments that make it use the database.
COMMANDS = [
    ["migrate", "--no-input"],
    ["showmigrations"],
    ["sqlmigrate", "accounts", "0001"],
    ["check_integrity"],
    ["rotate_keys", "--dry-run"],
    ["clear_expired_tokens"],
    ["schema_snapshot", "--check"],
    ["baseline_snapshot", "--check"],
    ["rehearse_adoption", "--name", "never_built"],
    ["sample_reports", "--check"],
    ["lint_migrations"],
]


def one_paragraph(result, returncode: int) -> str:
    assert result.returncode == returncode, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    paragraph = result.stderr.strip()
    assert "\n" not in paragraph, paragraph
    return paragraph


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
def test_an_unreachable_server_is_one_paragraph_and_exit_2(command):
    result = run_manage(*command, database_url=UNREACHABLE, timeout=120)

    paragraph = one_paragraph(result, errors.CANNOT_RUN)
    assert "Cannot use database 'postgres' at 127.0.0.1:9" in paragraph
    assert "Nothing is listening at that address" in paragraph


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
def test_a_malformed_url_is_one_paragraph_and_exit_2(command):
    result = run_manage(*command, database_url="postgres://u:secret@host:notaport/db")

    paragraph = one_paragraph(result, errors.CANNOT_RUN)
    assert "DATABASE_URL (postgres://u:…@host:notaport/db) cannot be read" in paragraph
    assert "secret" not in paragraph


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "is not a URL"),
        ("mysql://u@host/db", "uses 'mysql://', but this project runs on PostgreSQL only"),
        ("postgres://postgres@127.0.0.1:9", "names no database"),
        ("postgres://postgres@127.0.0.1:9/", "names no database"),
    ],
)
def test_an_unusable_url_is_refused_before_any_system_check(url, says):
    result = run_manage("showmigrations", database_url=url)

    paragraph = one_paragraph(result, errors.CANNOT_RUN)
    assert says in paragraph
    assert result.stdout == ""


def test_an_unusable_replica_url_is_reported_for_the_replica_only(production_db):
    env = {"DATABASE_REPLICA_URL": "postgres://u@replica-host"}

    on_replica = production_db.manage("check_integrity", "--database", "replica", env=env)
    on_default = production_db.manage("showmigrations", env=env)

    assert "DATABASE_REPLICA_URL (postgres://u@replica-host) names no database" in (
        one_paragraph(on_replica, errors.CANNOT_RUN)
    )
    assert on_default.returncode == 0, on_default.stderr


def test_an_unknown_alias_is_a_usage_error():
    result = run_manage("clear_expired_tokens", "--database", "nowhere", database_url=UNREACHABLE)

    assert "Unknown database alias 'nowhere'" in one_paragraph(result, errors.USAGE)


@pytest.mark.parametrize(
    ("alias", "variable"), [("default", "DATABASE_URL"), ("replica", "DATABASE_REPLICA_URL")]
)
@pytest.mark.parametrize(
    ("wrong", "says"),
    [
        ("database", "The database named in the connection settings does not exist."),
        ("role", "The user named in the connection settings does not exist on the server."),
    ],
)
def test_a_missing_database_or_role_names_the_variable_to_check(
    server, alias, variable, wrong, says
):
    missing = scratch.database_url(server, "no_such_database")
    if wrong == "role":
        user = scratch.connection_params(server)["user"]
        missing = scratch.database_url(server, "postgres").replace(f"{user}@", "no_such_role@", 1)
    env = {variable: missing}
    default_url = missing if alias == "default" else scratch.database_url(server, "postgres")

    result = run_manage("check_integrity", "--database", alias, database_url=default_url, env=env)

    paragraph = one_paragraph(result, errors.CANNOT_RUN)
    assert f'"no_such_{wrong}" does not exist' in paragraph
    assert says in paragraph
    assert paragraph.endswith(f"Check {variable}.")


@pytest.mark.parametrize(
    "command",
    [
        ["check_integrity", "--statement-timeout", "nan"],
        ["check_integrity", "--statement-timeout", "inf"],
        ["rotate_keys", "--batch-size", "0"],
        ["clear_expired_tokens", "--batch-size", "many"],
        ["migrate", "--no-such-flag"],
    ],
)
def test_a_bad_option_value_exits_3_before_connecting(command):
    result = run_manage(*command, database_url=UNREACHABLE)

    assert result.returncode == errors.USAGE, result.stderr
    assert "Traceback" not in result.stderr
    assert "Cannot use database" not in result.stderr


@pytest.fixture
def role_without_create(make_database, server):
    database = make_database("nocreate")
    role = f"nocreate_{database.name}"
    database.execute(f'CREATE ROLE "{role}" LOGIN')
    database.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    yield database, database.url.replace("postgres@", f"{role}@", 1)
    with scratch.connect(server, "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_permission_denied_names_the_real_cause(role_without_create):
    database, url = role_without_create

    result = run_manage("migrate", "--no-input", database_url=url)

    paragraph = one_paragraph(result, errors.CANNOT_RUN)
    assert "permission denied for schema public" in paragraph
    assert "current transaction is aborted" not in paragraph
    assert "LINE 1" not in paragraph
    assert database.applied_migrations() == []


def test_permission_denied_mid_migration_is_not_masked_by_the_lock_release(production_db, server):
    role = f"not_owner_{production_db.name}"
    production_db.execute(f'CREATE ROLE "{role}" LOGIN')
    production_db.execute(f'GRANT CREATE ON SCHEMA public TO "{role}"')
    url = production_db.url.replace("postgres@", f"{role}@", 1)
    try:
        result = run_manage("migrate", "--fake-initial", "--no-input", database_url=url)
    finally:
        with scratch.connect(server, "postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{production_db.name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')

    assert result.returncode == errors.CANNOT_RUN, result.stdout + result.stderr
    assert "Applying accounts.0002" in result.stdout  # it failed there, as the role lacks rights
    paragraph = result.stderr.strip()
    assert "\n" not in paragraph and "Traceback" not in paragraph
    assert "permission denied for table admin_users" in paragraph
    assert "current transaction is aborted" not in paragraph


def test_cleanup_in_an_aborted_transaction_never_masks_the_real_error(production_db):
    with production_db.connect() as conn:
        try:
            try:
                conn.execute("SELECT * FROM no_such_table")
            finally:
                conn.execute("SELECT pg_advisory_unlock(1)")  # fails: transaction aborted
        except psycopg.Error as raised:
            error = raised

    assert isinstance(error, psycopg.errors.InFailedSqlTransaction)
    assert isinstance(errors.root_cause(error), psycopg.errors.UndefinedTable)


@pytest.fixture
def read_only_db(adopted_db):
    adopted_db.execute(
        f'ALTER DATABASE "{adopted_db.name}" SET default_transaction_read_only = on'
    )
    return adopted_db


@pytest.mark.parametrize(
    "command",
    [
        ["migrate", "--no-input"],
        ["clear_expired_tokens"],
        ["rotate_keys"],
        ["rehearse_adoption", "--name", "never_built"],
    ],
    ids=lambda command: command[0],
)
def test_a_command_that_writes_refuses_a_read_only_database_up_front(read_only_db, command):
    result = read_only_db.manage(*command)

    paragraph = one_paragraph(result, errors.READ_ONLY)
    assert "accepts no writes (transaction_read_only is on" in paragraph
    assert result.stdout == ""  # refused before the baseline check, before anything


def test_read_only_commands_run_on_a_read_only_database(read_only_db):
    plan = read_only_db.manage("migrate", "--plan")
    shown = read_only_db.manage("showmigrations")
    dry_run = read_only_db.manage("clear_expired_tokens", "--dry-run")

    assert plan.returncode == 0, plan.stderr
    assert "0 migration" in plan.stdout or "No planned migration operations" in plan.stdout
    assert shown.returncode == 0, shown.stderr
    assert dry_run.returncode == 0, dry_run.stderr


class HeldLock:
    """A transaction of the test's own that holds a lock until released."""

    def __init__(self, database, statement: str):
        self.conn = database.connect()
        self.conn.execute(statement)
        self.pid = self.conn.info.backend_pid

    def release(self):
        self.conn.rollback()
        self.conn.close()


def test_lock_retries_exhausted_name_the_blocking_session(adopted_db):
    held = HeldLock(adopted_db, "LOCK TABLE social_platform_connections IN ACCESS EXCLUSIVE MODE")
    try:
        result = adopted_db.manage(
            "rotate_keys", "--dry-run", "--only", "social_platform_connections.access_token"
        )
    finally:
        held.release()

    paragraph = one_paragraph(result, errors.LOCK_WAIT)
    assert "Gave up after 5 attempts to take the locks" in paragraph
    assert f"pid {held.pid} (idle in transaction" in paragraph
    assert "AccessExclusiveLock on social_platform_connections" in paragraph
    assert "LOCK TABLE social_platform_connections IN ACCESS EXCLUSIVE MODE" in paragraph


@pytest.fixture
def expired_tokens(adopted_db):
    """Two users whose password-reset tokens clear_expired_tokens removes; their ids."""
    ids = [row[0] for row in adopted_db.execute("SELECT id FROM users ORDER BY id LIMIT 2")]
    adopted_db.execute(
        "UPDATE users SET password_reset_token = 'expired-' || id, "
        "password_reset_sent_at = NULL WHERE id = ANY(%s)",
        [ids],
    )
    return ids


def test_a_statement_timeout_is_one_paragraph_and_exit_9(adopted_db, expired_tokens):
    adopted_db.execute(f"ALTER DATABASE \"{adopted_db.name}\" SET statement_timeout = '1s'")
    held = HeldLock(adopted_db, f"UPDATE users SET email = email WHERE id = {expired_tokens[1]}")
    try:
        result = adopted_db.manage("clear_expired_tokens")
    finally:
        held.release()

    paragraph = one_paragraph(result, errors.TIMED_OUT)
    assert "canceling statement due to statement timeout" in paragraph
    assert "PGOPTIONS='-c statement_timeout=0'" in paragraph


def _wait_until_blocked(database, other_than: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        waiting = database.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> %s",
            [other_than],
        )
        if waiting[0][0]:
            return
        time.sleep(0.05)
    raise AssertionError("the command never waited for the held row")


def _holds(database, row_id: int) -> bool:
    """Whether another session holds the row lock of users ``row_id``."""
    with database.connect() as probe:
        try:
            probe.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE NOWAIT", [row_id])
        except psycopg.errors.LockNotAvailable:
            return True
    return False


def test_a_deadlock_ends_the_command_with_one_paragraph_and_exit_8(adopted_db, expired_tokens):
    """The test holds one of the two rows clear_expired_tokens updates in one statement; once
    the command holds the other and waits, the test asks for that one too: a real deadlock,
    which the command's own check (the shorter deadlock_timeout) resolves by aborting it. It is
    shorter than the batches' lock timeout too (2 s), which would otherwise end the wait first
    and retry the batch: no deadlock at all."""
    env = {**os.environ, "DATABASE_URL": adopted_db.url, "PGOPTIONS": "-c deadlock_timeout=1s"}
    for held_id, other_id in (expired_tokens[::-1], expired_tokens):
        held = HeldLock(adopted_db, "SET deadlock_timeout = '60s'")
        held.conn.execute("UPDATE users SET email = email WHERE id = %s", [held_id])
        command = subprocess.Popen(
            [sys.executable, "manage.py", "clear_expired_tokens"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_until_blocked(adopted_db, other_than=held.pid)
            if _holds(adopted_db, other_id):
                held.conn.execute("UPDATE users SET email = email WHERE id = %s", [other_id])
                break
        finally:
            held.release()
        command.communicate(timeout=120)  # it scanned the held row first: no cycle possible
        adopted_db.execute(
            "UPDATE users SET password_reset_token = 'expired-' || id WHERE id = ANY(%s)",
            [expired_tokens],
        )
    else:
        raise AssertionError("the command never held one row while waiting for the other")
    out, err = command.communicate(timeout=120)
    result = subprocess.CompletedProcess(command.args, command.returncode, out, err)

    paragraph = one_paragraph(result, errors.CONFLICT)
    assert "PostgreSQL found a deadlock between this command and another session" in paragraph
    assert "deadlock detected (Process " in paragraph and "blocked by process" in paragraph
    assert "Check DATABASE_URL" not in paragraph
    tokens = adopted_db.execute(
        "SELECT count(*) FROM users WHERE id = ANY(%s) AND password_reset_token IS NOT NULL",
        [expired_tokens],
    )
    assert tokens == [(2,)]  # its batch was rolled back whole; a re-run clears them


def test_a_real_deadlock_is_explained_as_a_conflict_not_a_connection_problem(production_db):
    first, second = production_db.connect(), production_db.connect()
    ids = [row[0] for row in production_db.execute("SELECT id FROM users ORDER BY id LIMIT 2")]
    first.execute("UPDATE users SET email = email WHERE id = %s", [ids[0]])
    second.execute("UPDATE users SET email = email WHERE id = %s", [ids[1]])
    raised: list[BaseException] = []

    def cross(conn, row_id):
        try:
            conn.execute("UPDATE users SET email = email WHERE id = %s", [row_id])
        except psycopg.Error as error:
            raised.append(error)
            conn.rollback()

    threads = [
        threading.Thread(target=cross, args=(first, ids[1])),
        threading.Thread(target=cross, args=(second, ids[0])),
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.2)
    for thread in threads:
        thread.join(timeout=30)
    first.close(), second.close()

    assert len(raised) == 1 and isinstance(raised[0], psycopg.errors.DeadlockDetected)
    returncode, paragraph = errors.explain(raised[0], production_db.server)
    assert returncode == errors.CONFLICT
    assert paragraph.startswith("PostgreSQL found a deadlock between this command and another")
    assert "Check DATABASE_URL" not in paragraph


def test_online_ddl_gives_up_with_the_blocking_session_named(adopted_db, alias_of, monkeypatch):
    from django.db import connections

    from database.online import batches, ddl

    monkeypatch.setattr(batches, "ATTEMPTS", 2)  # the real loop, fewer rounds of 2 s waits
    alias = alias_of(adopted_db)
    held = HeldLock(adopted_db, "SELECT count(*) FROM content_logs")
    try:
        with (
            connections[alias].schema_editor(atomic=False) as editor,
            pytest.raises(errors.LockRetriesExhausted) as raised,
        ):
            ddl.run_ddl(editor, "ALTER TABLE content_logs ADD COLUMN never_added integer")
    finally:
        held.release()

    returncode, paragraph = errors.explain(raised.value, connections[alias].settings_dict)
    assert returncode == errors.LOCK_WAIT
    assert "Gave up after 2 attempts" in paragraph
    assert f"pid {held.pid} (idle in transaction" in paragraph
    assert "AccessShareLock on content_logs" in paragraph
    assert "SELECT count(*) FROM content_logs" in paragraph
    assert adopted_db.execute(
        "SELECT count(*) FROM information_schema.columns WHERE column_name = 'never_added'"
    ) == [(0,)]
