"""The batch engine (``database.online.batches``) on the real server: key ranges, one transaction a
batch, lock-timeout retries, the throttle, and progress through the running command."""

import threading
import time

import pytest
from django.core.management.base import CommandError
from django.db import connections, models
from django.db.migrations.state import ModelState, ProjectState
from django.test.utils import CaptureQueriesContext
from psycopg import sql

from database.errors import CANNOT_RUN, LockRetriesExhausted
from database.online import batches, ddl
from database.schema import scratch
from database.schema.scratch import scratch_database

# Keys with gaps: a hole of 500 after 100, then every third number up to 3,000.
NUMBERS = [*range(1, 101), *range(601, 3001, 3)]
CODES = [f"code-{n:05d}" for n in range(1, 2501)]
NUMBERED = batches.Table("numbered", "item_no")


@pytest.fixture
def tables(django_db_blocker):
    """``numbered(item_no bigint key, note text)`` with gaps in its keys, and
    ``other.coded(code text key, note text)`` in a schema of its own."""
    with django_db_blocker.unblock(), scratch_database("batches") as alias:
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE numbered (item_no bigint PRIMARY KEY, note text)")
            cursor.execute("INSERT INTO numbered (item_no) SELECT unnest(%s::bigint[])", [NUMBERS])
            cursor.execute("CREATE SCHEMA other")
            cursor.execute("CREATE TABLE other.coded (code text PRIMARY KEY, note text)")
            cursor.execute("INSERT INTO other.coded (code) SELECT unnest(%s::text[])", [CODES])
            cursor.execute("CREATE TABLE tokens (token uuid PRIMARY KEY)")
            cursor.execute(
                "INSERT INTO tokens SELECT gen_random_uuid() FROM generate_series(1, 2500)"
            )
        yield alias


def fetch(alias, query, params=None):
    with connections[alias].cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def keys_in(keys, key_range: batches.KeyRange):
    return [
        k for k in keys if (key_range.after is None or k > key_range.after) and k <= key_range.upto
    ]


def assert_partition(keys, ranges, most: int):
    """Every key in exactly one range, in order, and no range holds more than ``most``."""
    covered = [k for key_range in ranges for k in keys_in(keys, key_range)]
    assert covered == sorted(keys)
    assert all(len(keys_in(keys, key_range)) <= most for key_range in ranges)


def test_integer_keys_with_gaps_are_cut_into_arithmetic_ranges(tables):
    table = batches.Table("numbered", "item_no")

    ranges = list(batches.key_ranges(connections[tables], table, 250))

    assert ranges[0] == batches.KeyRange(0, 250)
    assert ranges[-1].upto == max(NUMBERS)
    assert len(ranges) == 12  # 1 .. 2,998 in ranges of 250 keys, the empty hole included
    assert_partition(NUMBERS, ranges, 250)


def test_text_keys_of_another_schema_are_walked_batch_size_rows_at_a_time(tables):
    table = batches.Table("coded", "code", schema="other")

    ranges = list(batches.key_ranges(connections[tables], table, 1_000))

    assert [key_range.after for key_range in ranges] == [None, CODES[999], CODES[1999]]
    assert_partition(CODES, ranges, 1_000)


def test_uuid_keys_which_have_no_max_are_walked_too(tables):
    tokens = [token for (token,) in fetch(tables, "SELECT token FROM tokens ORDER BY token")]

    ranges = list(batches.key_ranges(connections[tables], batches.Table("tokens", "token"), 1_000))

    assert len(ranges) == 3
    assert_partition(tokens, ranges, 1_000)


def test_a_walk_among_matching_rows_counts_only_those(tables):
    fetch(tables, "UPDATE numbered SET note = 'x' WHERE item_no > 2000 RETURNING 1")
    table = batches.Table("numbered", "item_no")
    among = sql.SQL("note IS NOT NULL")

    ranges = list(batches.key_ranges(connections[tables], table, 100, among=among))

    matching = [n for n in NUMBERS if n > 2000]
    assert ranges[0].after is None and ranges[0].upto == matching[99]
    assert_partition(matching, ranges, 100)
    assert len(ranges) == -(-len(matching) // 100)


def test_backfill_follows_any_key_column_in_any_schema(tables):
    lines = []

    written = ddl.backfill(
        connections[tables],
        batches.Table("coded", "code", "other"),
        "note",
        "upper(code)",
        batch_size=700,
        progress=lines.append,
    )

    assert written == len(CODES)
    assert fetch(tables, "SELECT count(*) FROM other.coded WHERE note = upper(code)") == [
        (len(CODES),)
    ]
    assert lines == [f"  other.coded.note: done, {len(CODES)} rows written in 4 batches"]


def test_the_backfill_operation_takes_the_key_from_the_migration_state(tables):
    state = ProjectState()
    state.add_model(
        ModelState(
            "tests",
            "Numbered",
            [("item_no", models.BigIntegerField(primary_key=True)), ("note", models.TextField())],
            options={"db_table": "numbered"},
        )
    )
    operation = ddl.Backfill("numbered", "note", "'filled'", batch_size=1_000)
    connection = connections[tables]
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        operation.database_forwards("tests", editor, state, state)
    printed = editor.collected_sql

    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("tests", editor, state, state)

    assert 'WHERE "item_no" > <previous batch end> AND "item_no" <= <batch end>' in printed[0]
    assert fetch(tables, "SELECT count(*) FROM numbered WHERE note = 'filled'") == [
        (len(NUMBERS),)
    ]


def test_progress_goes_to_the_running_commands_callback_and_nowhere_else(tables, capsys):
    lines = []
    with batches.reporting_to(lines.append):
        ddl.backfill(connections[tables], NUMBERED, "note", "'x'")

    assert lines == [f"  numbered.note: done, {len(NUMBERS)} rows written in 1 batches"]
    assert capsys.readouterr().out == ""


def test_the_throttle_runs_between_batches_each_in_its_own_transaction(tables):
    connection = connections[tables]
    table = batches.Table("numbered", "item_no")
    throttled, transactions = [], []

    def work(cursor, key_range):
        cursor.execute("SELECT txid_current(), current_setting('lock_timeout')")
        transactions.append(cursor.fetchone())
        return key_range

    done = [
        key_range
        for key_range, _ in batches.each_batch(
            connection,
            table,
            work,
            batch_size=1_000,
            throttle=lambda: throttled.append(len(transactions)),
        )
    ]

    assert len(done) == 3
    assert throttled == [1, 2]  # between batches: not before the first, not after the last
    assert len({txid for txid, _ in transactions}) == 3
    assert {timeout for _, timeout in transactions} == {batches.LOCK_TIMEOUT}


def hold_row_lock(alias, key: int):
    settings = connections[alias].settings_dict
    blocker = scratch.connect(settings, settings["NAME"])
    blocker.execute("SELECT 1 FROM numbered WHERE item_no = %s FOR UPDATE", [key])
    return blocker


def test_a_batch_waiting_on_a_lock_is_retried_then_succeeds(tables, monkeypatch):
    monkeypatch.setattr(batches, "LOCK_TIMEOUT", "200ms")
    blocker = hold_row_lock(tables, NUMBERS[0])
    timer = threading.Timer(1.0, blocker.rollback)
    timer.start()
    attempts = []

    def work(cursor, key_range):
        attempts.append(key_range)
        cursor.execute(
            sql.SQL("UPDATE numbered SET note = 'done' WHERE {}")
            .format(key_range.condition(batches.Table("numbered", "item_no")))
            .as_string(cursor.connection)
        )
        return cursor.rowcount

    started = time.monotonic()
    try:
        written = sum(
            rows
            for _, rows in batches.each_batch(
                connections[tables], batches.Table("numbered", "item_no"), work, batch_size=5_000
            )
        )
    finally:
        timer.join()
        blocker.close()

    assert time.monotonic() - started >= 0.9
    assert len(attempts) >= 2 and len(set(attempts)) == 1  # the same batch, retried
    assert written == len(NUMBERS)
    assert fetch(tables, "SELECT count(*) FROM numbered WHERE note = 'done'") == [(len(NUMBERS),)]


def test_exhausted_retries_raise_lock_retries_exhausted_naming_the_blocker(tables, monkeypatch):
    monkeypatch.setattr(batches, "LOCK_TIMEOUT", "100ms")
    monkeypatch.setattr(batches, "BATCH_ATTEMPTS", 2)
    blocker = hold_row_lock(tables, NUMBERS[-1])
    try:
        with pytest.raises(LockRetriesExhausted) as raised:
            ddl.backfill(connections[tables], NUMBERED, "note", "'x'")
    finally:
        pid = blocker.info.backend_pid
        blocker.rollback()
        blocker.close()

    assert raised.value.attempts == 2
    assert "numbered" in raised.value.statement
    assert [blocker[0] for blocker in raised.value.blockers] == [pid]
    assert fetch(tables, "SELECT count(note) FROM numbered") == [(0,)]  # its one batch undone
    rerun = ddl.backfill(connections[tables], NUMBERED, "note", "'x'")
    assert rerun == len(NUMBERS)


@pytest.mark.parametrize(
    "bound, wait", [("16MB", "300"), ("-1", "300"), (str(2**24), "0"), (str(2**24), "nan")]
)
def test_a_bad_replica_lag_setting_is_one_paragraph_before_any_batch(
    tables, settings, bound, wait
):
    settings.MIGRATE_MAX_REPLICA_LAG_BYTES = bound
    settings.MIGRATE_REPLICA_WAIT_SECONDS = wait

    with pytest.raises(CommandError) as raised:
        ddl.backfill(connections[tables], NUMBERED, "note", "'x'")

    assert raised.value.returncode == CANNOT_RUN
    assert f"MIGRATE_MAX_REPLICA_LAG_BYTES is '{bound}'" in str(raised.value)
    assert fetch(tables, "SELECT count(note) FROM numbered") == [(0,)]


def test_without_a_standby_the_throttle_costs_one_query_per_batch(tables, settings):
    settings.MIGRATE_MAX_REPLICA_LAG_BYTES = str(2**20)
    connection = connections[tables]
    throttle = batches.throttling(connection)

    with CaptureQueriesContext(connection) as queries:
        throttle()

    assert [query["sql"] for query in queries] == [batches.STANDBY_LAG]


def add_column_behind_a_vacuum_lock(alias, *locked: batches.Table) -> tuple[float, list[float]]:
    """``run_ddl`` of an ALTER TABLE while another session holds the table's SHARE UPDATE
    EXCLUSIVE (a vacuum's lock) for 1.5 s and a writer updates a row every 10 ms: how long the
    statement took, and how long each write took."""
    settings = connections[alias].settings_dict
    blocker = scratch.connect(settings, settings["NAME"])
    blocker.execute("LOCK TABLE numbered IN SHARE UPDATE EXCLUSIVE MODE")
    release = threading.Timer(1.5, blocker.rollback)
    stalls, done = [], threading.Event()

    def write() -> None:
        with scratch.connect(settings, settings["NAME"], autocommit=True) as writer:
            while not done.is_set():
                started = time.monotonic()
                writer.execute("UPDATE numbered SET note = 'written' WHERE item_no = 1")
                stalls.append(time.monotonic() - started)
                time.sleep(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    release.start()
    started = time.monotonic()
    try:
        with connections[alias].schema_editor(atomic=False) as editor:
            ddl.run_ddl(editor, "ALTER TABLE numbered ADD COLUMN added integer", *locked)
    finally:
        done.set()
        writer.join()
        release.join()
        blocker.close()
    assert fetch(alias, "SELECT count(*) FROM numbered WHERE added IS NULL") == [(len(NUMBERS),)]
    assert len(stalls) > 20
    return time.monotonic() - started, stalls


def test_a_ddl_statement_behind_a_held_lock_stalls_the_applications_writes_briefly(tables):
    """A DDL statement waiting for its lock queues every write of the table behind it: its
    first attempts give up after 100-200 ms, so a lock held 1.5 s stalls no write for longer
    than one short attempt, even when the statement does not name the table it locks."""
    took, stalls = add_column_behind_a_vacuum_lock(tables)

    assert took >= 1.4  # it waited for the lock to go
    assert max(stalls) < 0.4, f"a write waited {max(stalls):.2f} s behind the DDL statement"
    assert max(stalls) > 0.05  # it did queue them: the next test's case is not this one


def test_a_ddl_statement_waits_out_a_vacuum_of_the_tables_it_names_without_stalling_writes(
    tables,
):
    """Named, the table is first locked SHARE UPDATE EXCLUSIVE, which the writes never queue
    behind: the statement waits out the vacuum's 1.5 s, then takes its own lock at once."""
    took, stalls = add_column_behind_a_vacuum_lock(tables, NUMBERED)

    assert took >= 1.4
    assert max(stalls) < 0.05, f"a write waited {max(stalls):.2f} s behind the DDL statement"


def test_a_ddl_statements_lock_timeout_grows_with_its_attempts():
    timeouts = [batches.ddl_lock_timeout(number) for number in range(1, batches.ATTEMPTS + 1)]

    assert timeouts[:4] == ["100ms", "100ms", "200ms", "200ms"]
    assert timeouts[-1] == "1600ms"  # never above LOCK_TIMEOUT (2 s)
