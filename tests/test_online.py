"""The online operations keep big tables writable and survive being interrupted."""

import threading
import time

import pytest
from django.contrib.postgres.functions import RandomUUID
from django.db import connections, models
from django.db.migrations.state import ModelState, ProjectState
from django.test import override_settings

from database import fields
from database.online import archive, batches, conversions, ddl, rewrite
from database.online.recipes import (
    CannotAlterOnline,
    OnlineAddField,
    OnlineAddIndex,
    OnlineAlterField,
    OnlineRemoveIndex,
    RewriteOnce,
)
from database.schema import scratch
from database.schema.scratch import scratch_database

ROWS = 20_000
ITEMS = batches.Table("items")


@pytest.fixture
def big_table(django_db_blocker):
    """A scratch database holding ``items(id serial, name text)`` with ROWS rows."""
    with django_db_blocker.unblock(), scratch_database("online") as alias:
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE items (id serial PRIMARY KEY, name text)")
            cursor.execute(
                "INSERT INTO items (name) SELECT 'item ' || n FROM generate_series(1, %s) n",
                [ROWS],
            )
        yield alias


def run(alias, operations, backwards=False):
    connection = connections[alias]
    with connection.schema_editor(atomic=False) as editor:
        for operation in operations:
            if backwards:
                operation.database_backwards("tests", editor, None, None)
            else:
                operation.database_forwards("tests", editor, None, None)


def public_id_operations():
    (recipe,) = ddl.add_public_id("Item", "items")
    return recipe.database_operations


def fetch(alias, query, params=None):
    with connections[alias].cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def test_public_id_recipe_fills_every_row_and_ends_unique_and_not_null(big_table):
    run(big_table, public_id_operations())

    assert fetch(big_table, "SELECT count(*), count(DISTINCT public_id) FROM items") == [
        (ROWS, ROWS)
    ]
    assert fetch(
        big_table,
        "SELECT is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name = 'items' AND column_name = 'public_id'",
    ) == [("NO", "gen_random_uuid()")]
    assert fetch(
        big_table,
        "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'items'::regclass "
        "ORDER BY conname",
    ) == [("items_pkey", "p"), ("items_public_id_key", "u")]


def test_rows_written_during_the_backfill_get_distinct_ids(big_table):
    operations = public_id_operations()
    add_column, _backfill, *finish = operations
    run(big_table, [add_column])
    stop = threading.Event()
    inserted = []

    def writer():
        connection = connections.create_connection(big_table)
        try:
            while not stop.is_set():
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO items (name) VALUES ('live') RETURNING id")
                    inserted.append(cursor.fetchone()[0])
                    cursor.execute(
                        "UPDATE items SET name = 'touched' WHERE id = %s", [len(inserted)]
                    )
                time.sleep(0.001)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        ddl.backfill(
            connections[big_table],
            ITEMS,
            "public_id",
            "gen_random_uuid()",
            batch_size=1_000,
            pause=0.005,
            progress=lambda _: None,
        )
    finally:
        stop.set()
        thread.join()
    run(big_table, finish)

    assert len(inserted) > 10
    total = ROWS + len(inserted)
    assert fetch(
        big_table, "SELECT count(*), count(public_id), count(DISTINCT public_id) FROM items"
    ) == [(total, total, total)]


def test_backfill_resumes_where_it_stopped_and_is_idempotent(big_table):
    add_column, *_ = public_id_operations()
    run(big_table, [add_column])
    fetch(
        big_table, "UPDATE items SET public_id = gen_random_uuid() WHERE id <= 12345 RETURNING 1"
    )
    before = dict(fetch(big_table, "SELECT id, public_id FROM items WHERE id <= 12345"))
    connection = connections[big_table]

    first = ddl.backfill(
        connection, ITEMS, "public_id", "gen_random_uuid()", progress=lambda _: None
    )
    second = ddl.backfill(
        connection, ITEMS, "public_id", "gen_random_uuid()", progress=lambda _: None
    )

    assert (first, second) == (ROWS - 12345, 0)
    assert dict(fetch(big_table, "SELECT id, public_id FROM items WHERE id <= 12345")) == before


def test_backfill_refuses_to_run_inside_a_transaction(big_table):
    from django.db import transaction

    with pytest.raises(ddl.NeedsNonAtomicMigration), transaction.atomic(using=big_table):
        ddl.backfill(connections[big_table], ITEMS, "name", "'x'")


def test_an_invalid_index_left_by_an_interrupted_build_is_rebuilt(big_table):
    fetch(big_table, "UPDATE items SET name = 'dup' WHERE id IN (1, 2) RETURNING 1")
    with pytest.raises(Exception, match="could not create unique index"):
        fetch(big_table, "CREATE UNIQUE INDEX CONCURRENTLY items_name_key ON items (name)")
    assert ddl.index_state(connections[big_table], ITEMS, "items_name_key") == "invalid"
    fetch(big_table, "UPDATE items SET name = 'unique' WHERE id = 2 RETURNING 1")

    run(big_table, [ddl.AddUniqueConstraint("items", "items_name_key", ["name"])])

    assert ddl.index_state(connections[big_table], ITEMS, "items_name_key") == "valid"
    assert ddl.constraint_exists(connections[big_table], ITEMS, "items_name_key")


def test_a_dropped_unique_constraint_is_rebuilt_concurrently_in_reverse(big_table):
    connection = connections[big_table]
    add = ddl.AddUniqueConstraint("items", "items_name_key", ["name"])
    drop = ddl.DropUniqueConstraint("items", "items_name_key", ["name"])
    run(big_table, [add])

    run(big_table, [drop])
    run(big_table, [drop])  # a re-run after completion changes nothing

    assert not ddl.constraint_exists(connection, ITEMS, "items_name_key")
    assert ddl.index_state(connection, ITEMS, "items_name_key") is None

    run(big_table, [drop], backwards=True)
    run(big_table, [drop], backwards=True)

    assert ddl.constraint_exists(connection, ITEMS, "items_name_key")
    assert ddl.index_state(connection, ITEMS, "items_name_key") == "valid"


def test_ddl_waits_for_a_busy_table_then_succeeds(big_table, monkeypatch):
    monkeypatch.setattr(batches, "LOCK_TIMEOUT", "200ms")
    settings = connections[big_table].settings_dict
    blocker = scratch.connect(settings, settings["NAME"])
    blocker.execute("SELECT count(*) FROM items")  # holds ACCESS SHARE until rollback
    timer = threading.Timer(1.0, blocker.rollback)
    timer.start()
    started = time.monotonic()
    try:
        run(big_table, [ddl.RunDDL(["ALTER TABLE items ADD COLUMN note text"])])
    finally:
        timer.join()
        blocker.close()

    assert time.monotonic() - started >= 0.9
    assert fetch(big_table, "SELECT count(note) FROM items") == [(0,)]


def test_archived_rows_restore_byte_for_byte(big_table):
    connection = connections[big_table]
    columns = ["id", "name"]
    before = fetch(big_table, "SELECT id, name FROM items WHERE mod(id, 7) = 0 ORDER BY id")

    saved = archive.archive_rows(
        connection,
        source=ITEMS,
        archive_table="items",
        columns=columns,
        migration="tests.0001",
        where="mod(id, 7) = 0",
    )
    fetch(big_table, "DELETE FROM items WHERE mod(id, 7) = 0 RETURNING 1")
    restored = archive.restore_rows(
        connection, archive_table="items", target=ITEMS, columns=columns
    )

    assert restored == [saved]
    assert saved.row_count == len(before)
    assert (
        fetch(big_table, "SELECT id, name FROM items WHERE mod(id, 7) = 0 ORDER BY id") == before
    )
    assert fetch(
        big_table, "SELECT count(*) FROM archive.manifest WHERE restored_at IS NOT NULL"
    ) == [(1,)]


def test_a_type_change_converts_every_row_including_those_written_meanwhile(
    big_table, monkeypatch
):
    run(big_table, [ddl.RunDDL(["ALTER TABLE items ADD COLUMN ref integer"])])
    fetch(big_table, "UPDATE items SET ref = id * 10 WHERE mod(id, 3) = 0 RETURNING 1")
    change = conversions.ChangeColumnType(
        "items", "ref", "character varying", reverse_type="integer"
    )
    writes = []

    def write_during_backfill(*args, **kwargs):
        writes.append(
            fetch(big_table, "INSERT INTO items (name, ref) VALUES ('late', 7) RETURNING id")
        )
        return fill_in_batches(*args, **kwargs)

    fill_in_batches = rewrite.fill_in_batches
    monkeypatch.setattr(rewrite, "fill_in_batches", write_during_backfill)
    run(big_table, [change])
    run(big_table, [change])  # a re-run after completion changes nothing

    assert batches.column_type(connections[big_table], ITEMS, "ref") == "character varying"
    assert fetch(big_table, "SELECT count(*) FROM items WHERE ref::integer <> id * 10") == [(1,)]
    assert fetch(big_table, "SELECT ref FROM items WHERE name = 'late'") == [("7",)]
    assert len(writes) == 1

    run(big_table, [change], backwards=True)

    assert batches.column_type(connections[big_table], ITEMS, "ref") == "integer"
    assert fetch(big_table, "SELECT count(ref), sum(ref) FROM items") == [
        (ROWS // 3 + 1, sum(n * 10 for n in range(3, ROWS + 1, 3)) + 7)
    ]


# OnlineAlterField: Django's AlterField, its database change derived from the migration state.


def item_state(*extra, indexes=()) -> ProjectState:
    """The migration state of ``items`` (the big_table fixture) with the ``extra`` fields."""
    state = ProjectState()
    state.add_model(
        ModelState(
            "tests",
            "Item",
            [
                ("id", models.AutoField(primary_key=True)),
                ("name", models.TextField(null=True)),
                *extra,
            ],
            options={"db_table": "items", "indexes": list(indexes)},
        )
    )
    return state


def alter(alias, operation, before, *, backwards=False, collect=False):
    """Run ``operation`` from the state ``before`` as the migration executor does."""
    after = before.clone()
    operation.state_forwards("tests", after)
    with connections[alias].schema_editor(atomic=False, collect_sql=collect) as editor:
        if backwards:
            operation.database_backwards("tests", editor, after, before)
        else:
            operation.database_forwards("tests", editor, before, after)
    return getattr(editor, "collected_sql", [])


def column_default(alias, column):
    return fetch(
        alias,
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
        "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
        "WHERE d.adrelid = 'items'::regclass AND a.attname = %s",
        [column],
    )


def test_online_alter_field_turns_json_into_jsonb_as_the_state_says(big_table):
    add = (
        "ALTER TABLE items ADD COLUMN payload json "
        """DEFAULT '{"twitter": "09:00", "instagram": "10:00"}'"""
    )
    run(big_table, [ddl.RunDDL([add])])
    fetch(big_table, """UPDATE items SET payload = '{"a": 1, "a": 2}' WHERE id = 1 RETURNING 1""")
    fetch(big_table, """UPDATE items SET payload = '[1, "x"]' WHERE id > 1 RETURNING 1""")
    default = {"instagram": "10:00", "twitter": "09:00"}
    field = models.JSONField(db_default=default, null=True)
    operation = OnlineAlterField(model_name="item", name="payload", field=field)
    before = item_state(("payload", fields.LegacyJSONField(db_default=default, null=True)))

    alter(big_table, operation, before)

    connection = connections[big_table]
    assert batches.column_type(connection, ITEMS, "payload") == "jsonb"
    assert column_default(big_table, "payload") == [
        ("""'{"twitter": "09:00", "instagram": "10:00"}'::jsonb""",)
    ]
    assert fetch(big_table, "SELECT count(*) FROM items WHERE payload = '[1, \"x\"]'") == [
        (ROWS - 1,)
    ]
    assert fetch(big_table, "SELECT payload::text FROM archive.items__payload__raw_json") == [
        ('{"a": 1, "a": 2}',)
    ]
    assert operation.deconstruct() == (
        "OnlineAlterField",
        [],
        {"model_name": "item", "name": "payload", "field": field},
    )

    alter(big_table, operation, before, backwards=True)

    assert batches.column_type(connection, ITEMS, "payload") == "json"
    assert column_default(big_table, "payload") == [
        ("""'{"twitter": "09:00", "instagram": "10:00"}'::json""",)
    ]


def test_online_alter_field_rebuilds_the_indexes_the_state_knows_around_timestamptz(big_table):
    add = [
        "ALTER TABLE items ADD COLUMN seen timestamp",
        "CREATE INDEX items_seen_idx ON items (seen)",
    ]
    run(big_table, [ddl.RunDDL(add)])
    fetch(big_table, "UPDATE items SET seen = '2026-01-02 03:04:05' RETURNING 1")
    operation = OnlineAlterField("item", "seen", models.DateTimeField(null=True))
    index = models.Index(fields=["seen"], name="items_seen_idx")
    before = item_state(("seen", fields.NaiveUTCDateTimeField(null=True)), indexes=[index])

    printed = alter(big_table, operation, before, collect=True)
    alter(big_table, operation, before)

    assert 'DROP INDEX CONCURRENTLY IF EXISTS "public"."items_seen_idx";' in printed
    assert (
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_seen_idx" ON "public"."items" ("seen");'
        in printed
    )
    connection = connections[big_table]
    assert batches.column_type(connection, ITEMS, "seen") == "timestamp with time zone"
    assert ddl.index_state(connection, ITEMS, "items_seen_idx") == "valid"
    assert fetch(
        big_table, "SELECT count(*) FROM items WHERE seen = '2026-01-02 03:04:05+00'"
    ) == [(ROWS,)]


def test_online_alter_field_sets_not_null_through_a_validated_check(big_table):
    operation = OnlineAlterField("item", "name", models.TextField())

    alter(big_table, operation, item_state())

    assert fetch(
        big_table,
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass "
        "AND attname = 'name'",
    ) == [(True,)]
    assert fetch(
        big_table, "SELECT conname FROM pg_constraint WHERE conrelid = 'items'::regclass"
    ) == [("items_pkey",)]

    alter(big_table, operation, item_state(), backwards=True)

    assert fetch(big_table, "SELECT count(*) FROM items WHERE name IS NULL") == [(0,)]
    fetch(big_table, "INSERT INTO items (name) VALUES (NULL) RETURNING 1")


def test_online_alter_field_swaps_a_delete_rule_through_a_twin_constraint(big_table):
    run(
        big_table,
        [
            ddl.RunDDL(
                [
                    "CREATE TABLE owners (id serial PRIMARY KEY)",
                    "ALTER TABLE items ADD COLUMN owner_id integer REFERENCES owners(id)",
                ]
            )
        ],
    )
    before = item_state(("owner", models.ForeignKey("tests.owner", models.DO_NOTHING, null=True)))
    before.add_model(
        ModelState(
            "tests",
            "Owner",
            [("id", models.AutoField(primary_key=True))],
            options={"db_table": "owners"},
        )
    )
    cascade = models.ForeignKey("tests.owner", models.CASCADE, null=True)

    alter(big_table, OnlineAlterField("item", "owner", cascade), before)

    assert fetch(
        big_table,
        "SELECT conname, confdeltype, convalidated FROM pg_constraint "
        "WHERE conrelid = 'items'::regclass AND contype = 'f'",
    ) == [("items_owner_id_fkey", "c", True)]


def test_online_alter_field_refuses_a_type_change_it_cannot_make_online(big_table):
    operation = OnlineAlterField("item", "name", models.IntegerField(null=True))

    with pytest.raises(CannotAlterOnline, match="from text to integer; use database"):
        alter(big_table, operation, item_state())

    assert batches.column_type(connections[big_table], ITEMS, "name") == "text"


def test_online_alter_field_refuses_an_index_it_could_not_rebuild_the_same(big_table):
    run(big_table, [ddl.RunDDL(["ALTER TABLE items ADD COLUMN seen timestamp"])])
    operation = OnlineAlterField("item", "seen", models.DateTimeField(null=True))
    index = models.Index(fields=["-seen"], name="items_seen_idx")
    before = item_state(("seen", fields.NaiveUTCDateTimeField(null=True)), indexes=[index])

    with pytest.raises(CannotAlterOnline, match="ordered or partial index items_seen_idx"):
        alter(big_table, operation, before)

    assert batches.column_type(connections[big_table], ITEMS, "seen") == (
        "timestamp without time zone"
    )


def test_online_alter_field_refuses_a_new_default_together_with_the_type(big_table):
    run(big_table, [ddl.RunDDL(["ALTER TABLE items ADD COLUMN payload json"])])
    field = models.JSONField(db_default=[], null=True)
    operation = OnlineAlterField("item", "payload", field)
    before = item_state(("payload", fields.LegacyJSONField(db_default={}, null=True)))

    with pytest.raises(CannotAlterOnline, match="changes the default together with the type"):
        alter(big_table, operation, before)

    assert batches.column_type(connections[big_table], ITEMS, "payload") == "json"


class NoTestsApp:
    def allow_migrate(self, db, app_label, **hints):
        return app_label != "tests"


def test_online_alter_field_honours_the_routers(big_table):
    operation = OnlineAlterField("item", "name", models.IntegerField(null=True))

    with override_settings(DATABASE_ROUTERS=[NoTestsApp()]):
        assert alter(big_table, operation, item_state(), collect=True) == []
        alter(big_table, operation, item_state())

    assert batches.column_type(connections[big_table], ITEMS, "name") == "text"


def test_online_add_and_remove_index_take_table_and_columns_from_the_state(big_table):
    run(big_table, [ddl.RunDDL(["ALTER TABLE items ADD COLUMN seen timestamp"])])
    index = models.Index(fields=["name", "seen"], name="items_name_seen_idx")
    before = item_state(("seen", fields.NaiveUTCDateTimeField(null=True)))
    add = OnlineAddIndex(model_name="item", index=index)
    with_index = before.clone()
    add.state_forwards("tests", with_index)
    remove = OnlineRemoveIndex(model_name="item", name="items_name_seen_idx")
    connection = connections[big_table]

    printed = alter(big_table, add, before, collect=True)
    alter(big_table, add, before)
    alter(big_table, add, before)  # a re-run keeps the valid index

    assert printed == [
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_name_seen_idx" ON "public"."items" '
        '("name", "seen");'
    ]
    assert fetch(
        big_table, "SELECT indexdef FROM pg_indexes WHERE indexname = 'items_name_seen_idx'"
    ) == [("CREATE INDEX items_name_seen_idx ON public.items USING btree (name, seen)",)]
    assert add.deconstruct() == ("OnlineAddIndex", [], {"model_name": "item", "index": index})

    alter(big_table, remove, with_index)

    assert ddl.index_state(connection, ITEMS, "items_name_seen_idx") is None

    alter(big_table, remove, with_index, backwards=True)

    assert ddl.index_state(connection, ITEMS, "items_name_seen_idx") == "valid"


def test_online_alter_field_changes_defaults_and_drops_not_null_in_the_catalog(big_table):
    before = item_state(("label", models.TextField()))
    add = [
        "ALTER TABLE items ADD COLUMN label text NOT NULL DEFAULT 'x'",
        "ALTER TABLE items ALTER COLUMN label DROP DEFAULT",
    ]
    run(big_table, [ddl.RunDDL(add)])
    field = models.TextField(db_default="none yet", null=True)
    operation = OnlineAlterField("item", "label", field)
    nullable = (
        "SELECT NOT attnotnull FROM pg_attribute "
        "WHERE attrelid = 'items'::regclass AND attname = 'label'"
    )

    printed = alter(big_table, operation, before, collect=True)
    alter(big_table, operation, before)

    assert printed == [
        "-- Change the database default on items.label (a catalog change)",
        """ALTER TABLE "public"."items" ALTER COLUMN "label" SET DEFAULT 'none yet';""",
        "-- Drop NOT NULL on items.label (a catalog change)",
        """ALTER TABLE "public"."items" ALTER COLUMN "label" DROP NOT NULL;""",
    ]
    assert column_default(big_table, "label") == [("'none yet'::text",)]
    assert fetch(big_table, nullable) == [(True,)]

    alter(big_table, operation, before, backwards=True)

    assert column_default(big_table, "label") == []
    assert fetch(big_table, nullable) == [(False,)]


# RewriteOnce: several fills of one table, every row written once.


def rewrite_items():
    """public_id and two json columns of ``items`` turned into jsonb, as one RewriteOnce."""
    return RewriteOnce(
        "item",
        [
            *ddl.add_public_id("item", "items"),
            OnlineAlterField("item", "payload", models.JSONField(db_default={}, null=True)),
            OnlineAlterField("item", "tags", models.JSONField(null=True)),
        ],
    )


def test_rewrite_once_writes_each_row_once_for_every_column_it_fills(big_table, monkeypatch):
    run(
        big_table,
        [
            ddl.RunDDL(
                [
                    "ALTER TABLE items ADD COLUMN payload json DEFAULT '{}', ADD COLUMN tags json",
                    """UPDATE items SET payload = '{"a": 1, "a": 2}' WHERE id = 1""",
                    "UPDATE items SET tags = json_build_array(id) WHERE mod(id, 2) = 0",
                    # Every UPDATE of a row, counted (the pass's and the application's).
                    "CREATE TABLE writes (id integer)",
                    "CREATE FUNCTION count_write() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN INSERT INTO writes VALUES (NEW.id); RETURN NEW; END $$",
                    "CREATE TRIGGER count_write AFTER UPDATE ON items "
                    "FOR EACH ROW EXECUTE FUNCTION count_write()",
                ]
            )
        ],
    )
    before = item_state(
        ("payload", fields.LegacyJSONField(db_default={}, null=True)),
        ("tags", fields.LegacyJSONField(null=True)),
    )

    def application_writes_then_fill(*args, **kwargs):
        if not fetch(big_table, "SELECT count(*) FROM items WHERE name = 'late'")[0][0]:
            fetch(big_table, "INSERT INTO items (name, tags) VALUES ('late', '[7]') RETURNING 1")
            fetch(big_table, "UPDATE items SET tags = '[\"edited\"]' WHERE id = 3 RETURNING 1")
        return fill_in_batches(*args, **kwargs)

    fill_in_batches = rewrite.fill_in_batches
    monkeypatch.setattr(rewrite, "fill_in_batches", application_writes_then_fill)
    operation = rewrite_items()
    printed = alter(big_table, operation, before, collect=True)
    alter(big_table, operation, before)
    alter(big_table, operation, before)  # a re-run after completion changes nothing

    updates = [line for line in printed if "UPDATE" in line and "<batch end>" in line]
    assert len(updates) == 1
    assert all(column in updates[0] for column in ("public_id", "payload__new", "tags__new"))
    # Each row of the table written once by the pass, row 3 once more by the application.
    assert fetch(big_table, "SELECT count(*), count(DISTINCT id) FROM writes WHERE id <> 3") == [
        (ROWS - 1, ROWS - 1)
    ]
    assert fetch(big_table, "SELECT count(*) FROM writes WHERE id = 3") == [(2,)]
    assert fetch(
        big_table,
        "SELECT count(DISTINCT public_id), count(*) FILTER (WHERE public_id IS NULL) FROM items",
    ) == [(ROWS + 1, 0)]
    connection = connections[big_table]
    for column in ("payload", "tags"):
        assert batches.column_type(connection, ITEMS, column) == "jsonb"
    assert fetch(big_table, "SELECT count(*) FROM items WHERE tags = jsonb_build_array(id)") == [
        (ROWS // 2,)
    ]
    late_and_edited = "SELECT tags::text FROM items WHERE id = 3 OR name = 'late' ORDER BY id"
    assert fetch(big_table, late_and_edited) == [('["edited"]',), ("[7]",)]
    assert fetch(big_table, "SELECT payload::text FROM archive.items__payload__raw_json") == [
        ('{"a": 1, "a": 2}',)
    ]
    assert column_default(big_table, "payload") == [("'{}'::jsonb",)]
    assert fetch(big_table, "SELECT count(*) FROM pg_trigger WHERE tgname = 'items__rewrite'") == [
        (0,)
    ]

    alter(big_table, operation, before, backwards=True)

    for column in ("payload", "tags"):
        assert batches.column_type(connection, ITEMS, column) == "json"
    assert fetch(
        big_table,
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'items' AND column_name = 'public_id'",
    ) == [(0,)]


def test_rewrite_once_resumes_a_pass_cut_off_midway(big_table, monkeypatch):
    run(
        big_table,
        [ddl.RunDDL(["ALTER TABLE items ADD COLUMN payload json, ADD COLUMN tags json"])],
    )
    fetch(big_table, "UPDATE items SET payload = json_build_object('n', id) RETURNING 1")
    before = item_state(
        ("payload", fields.LegacyJSONField(db_default={}, null=True)),
        ("tags", fields.LegacyJSONField(null=True)),
    )
    operation = rewrite_items()

    def cut_off():
        raise KeyboardInterrupt

    # Cut off between the first batch and the second.
    monkeypatch.setattr(batches, "throttling", lambda *args, **kwargs: cut_off)
    with pytest.raises(KeyboardInterrupt):
        alter(big_table, operation, before)
    assert fetch(
        big_table,
        "SELECT count(payload__new), count(public_id) FROM items WHERE id <= %s",
        [ddl.BATCH_SIZE],
    ) == [(ddl.BATCH_SIZE, ddl.BATCH_SIZE)]
    assert fetch(big_table, "SELECT count(payload__new) FROM items") == [(ddl.BATCH_SIZE,)]

    monkeypatch.setattr(batches, "throttling", lambda *args, **kwargs: lambda: None)
    alter(big_table, operation, before)

    assert fetch(
        big_table, "SELECT count(*) FROM items WHERE payload = jsonb_build_object('n', id)"
    ) == [(ROWS,)]
    assert fetch(big_table, "SELECT count(DISTINCT public_id) FROM items") == [(ROWS,)]


def test_a_long_backfill_reuses_the_space_it_frees_as_it_goes(big_table):
    run(
        big_table,
        [
            ddl.RunDDL(
                [
                    "CREATE TABLE twin AS SELECT * FROM items",
                    "ALTER TABLE twin ADD PRIMARY KEY (id)",
                    "ALTER TABLE items ADD COLUMN note text",
                    "ALTER TABLE twin ADD COLUMN note text",
                ]
            )
        ],
    )
    connection = connections[big_table]
    for table, vacuum_every in ((ITEMS, 2_000), (batches.Table("twin"), 0)):
        ddl.backfill(
            connection, table, "note", "'noted'", batch_size=1_000, vacuum_every=vacuum_every
        )

    (sizes,) = fetch(big_table, "SELECT pg_relation_size('items'), pg_relation_size('twin')")
    vacuumed, left = sizes
    # Without any vacuum the table doubles; vacuumed, it grows by about a quarter (by less
    # on PostgreSQL 16, where pruned line pointers are reused sooner).
    assert vacuumed < 0.8 * left
    assert fetch(big_table, "SELECT count(*) FROM items WHERE note = 'noted'") == [(ROWS,)]


def test_a_pass_vacuums_only_where_its_next_batches_reuse_the_space(big_table):
    with connections[big_table].cursor() as cursor:
        cursor.execute("ALTER TABLE items ADD COLUMN note text")
        cursor.execute("ANALYZE items")

    ddl.backfill(
        connections[big_table], ITEMS, "note", "'noted'", batch_size=1_000, vacuum_every=ROWS // 2
    )

    # Halfway, half the table is still ahead: vacuumed. At the end nothing is: not.
    assert fetch(
        big_table,
        "SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'items'::regclass",
    ) == [(1,)]
    assert fetch(big_table, "SELECT count(*) FROM items WHERE note = 'noted'") == [(ROWS,)]


def test_a_pass_s_batches_skip_the_flush_wait_and_only_they(big_table):
    connection = connections[big_table]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE items ADD COLUMN note text")
    setting = "current_setting('synchronous_commit')"

    ddl.backfill(connection, ITEMS, "note", setting)

    notes = fetch(big_table, "SELECT note, count(*) FROM items GROUP BY note")
    assert notes == [("off", ROWS)]
    assert fetch(big_table, f"SELECT {setting}") == [("on",)]


@pytest.fixture
def coded_table(django_db_blocker):
    """A scratch database holding ``crm.coded(code text key, note text, payload json)``:
    neither in ``public`` nor keyed by ``id``."""
    with django_db_blocker.unblock(), scratch_database("coded") as alias:
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE SCHEMA crm")
            cursor.execute(
                "CREATE TABLE crm.coded (code text PRIMARY KEY, note text, payload json)"
            )
            cursor.execute(
                "INSERT INTO crm.coded (code, note, payload) SELECT 'c-' || n, "
                "CASE WHEN n % 4 = 0 THEN NULL ELSE 'kept' END, "
                """CASE WHEN n % 5 = 0 THEN '{"a": 1, "a": 2}' """
                """ELSE '{"n": ' || n || '}' END::json """
                "FROM generate_series(1, 3000) n"
            )
        yield alias


def coded_state() -> ProjectState:
    state = ProjectState()
    state.add_model(
        ModelState(
            "tests",
            "Coded",
            [("code", models.TextField(primary_key=True)), ("note", models.TextField(null=True))],
            options={"db_table": "coded"},
        )
    )
    return state


def run_in_state(alias, operations, state, *, backwards=False):
    with connections[alias].schema_editor(atomic=False) as editor:
        for operation in operations:
            if backwards:
                operation.database_backwards("tests", editor, state, state)
            else:
                operation.database_forwards("tests", editor, state, state)


def test_operations_work_in_any_schema_by_the_key_the_state_gives(coded_table):
    before = fetch(coded_table, "SELECT code, note, payload::text FROM crm.coded ORDER BY code")
    fill = conversions.ArchiveAndFill(
        "coded", "note", "'filled'", "coded_note_null", "tests.0001", schema="crm"
    )
    convert = conversions.ConvertJsonToJsonb("coded", "payload", schema="crm")
    not_null = ddl.SetNotNull("coded", "note", schema="crm")

    run_in_state(coded_table, [fill, not_null, convert], coded_state())

    coded = batches.Table("coded", "code", "crm")
    assert batches.column_type(connections[coded_table], coded, "payload") == "jsonb"
    assert fetch(
        coded_table,
        "SELECT count(*) FILTER (WHERE note = 'filled'), count(*) FILTER (WHERE note IS NULL), "
        """count(*) FILTER (WHERE payload = '{"a": 2}') FROM crm.coded""",
    ) == [(750, 0, 600)]
    assert fetch(coded_table, "SELECT source, row_count FROM archive.manifest ORDER BY id") == [
        ("crm.coded", 750),
        ("crm.coded", 600),
    ]
    assert fetch(
        coded_table, "SELECT count(*) FROM archive.coded_note_null WHERE code LIKE 'c-%'"
    ) == [(750,)]
    assert (
        fetch(coded_table, "SELECT proname FROM pg_proc WHERE proname LIKE 'coded__%'") == []
    )  # the shadow column's trigger function, in crm, is gone with the swap

    run_in_state(coded_table, [not_null, fill], coded_state(), backwards=True)

    restored = fetch(coded_table, "SELECT code, note FROM crm.coded ORDER BY code")
    assert restored == [(code, note) for code, note, _ in before]


def test_online_add_field_adds_django_s_column_once_and_refuses_what_is_not_a_catalog_change(
    big_table,
):
    before = item_state()
    add = OnlineAddField("item", "score", models.IntegerField(db_default=7))

    printed = alter(big_table, add, before, collect=True)
    alter(big_table, add, before)
    alter(big_table, add, before)  # an interrupted migration run again: the column is kept

    assert printed == ['ALTER TABLE "items" ADD COLUMN "score" integer DEFAULT 7 NOT NULL;']
    assert fetch(big_table, "SELECT count(*), min(score), max(score) FROM items") == [(ROWS, 7, 7)]
    assert column_default(big_table, "score") == [("7",)]
    for field in (
        models.IntegerField(),
        models.UUIDField(db_default=RandomUUID()),
        models.IntegerField(null=True, unique=True),
    ):
        with pytest.raises(CannotAlterOnline, match="Nothing was changed"):
            alter(big_table, OnlineAddField("item", "other", field), before)
    assert batches.column_type(connections[big_table], ITEMS, "other") is None

    alter(big_table, add, before, backwards=True)

    assert batches.column_type(connections[big_table], ITEMS, "score") is None
