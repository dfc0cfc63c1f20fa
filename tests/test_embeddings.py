"""The optional pgvector app (TARGET_SCHEMA.md D2): its tables where the server offers the
``vector`` extension, a recorded no-op migration where it does not.

Tests that need the extension are skipped only on a server that genuinely lacks it (Debian's
PostgreSQL 15); the no-op path is tested everywhere by making the availability check say no.
"""

import json
import logging
from io import StringIO
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DataError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext

import embeddings
from accounts.factories import UserFactory
from database.schema import scratch
from database.schema.catalog import read_catalog
from embeddings import models
from embeddings.factories import ContentEmbeddingFactory, MemoryEmbeddingFactory, unit_vector
from embeddings.operations import RequiresVector
from embeddings.vector import CosineDistance, VectorField, from_text, to_text

INITIAL = ("embeddings", "0001_initial")
NO_PGVECTOR = (
    "This server offers no 'vector' extension (pgvector), e.g. Debian's PostgreSQL 15: the "
    "embeddings tables do not exist here by design (D2)."
)


@pytest.fixture
def pgvector(db):
    """Skips the test where the server genuinely lacks pgvector."""
    if not embeddings.extension_available(connection):
        pytest.skip(NO_PGVECTOR)


def the_initial_operation() -> RequiresVector:
    (operation,) = (
        MigrationLoader(None, ignore_no_migrations=True).get_migration(*INITIAL).operations
    )
    return operation


def tables_in(alias: str) -> list[str]:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)"
            " ORDER BY 1",
            [list(embeddings.TABLES)],
        )
        return [name for (name,) in cursor.fetchall()]


def vector_installed(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'vector')")
        return cursor.fetchone()[0]


def recorded(alias: str) -> bool:
    return INITIAL in MigrationExecutor(connections[alias]).loader.applied_migrations


@pytest.fixture
def empty_alias(django_db_blocker):
    """A Django alias on an empty scratch database of the same server."""
    with django_db_blocker.unblock(), scratch.scratch_database("embeddings") as alias:
        yield alias


def migrate(alias: str, target: tuple[str, str | None]) -> None:
    executor = MigrationExecutor(connections[alias])
    executor.migrate([target])


# ------------------------------------------------------------------ where the tables exist


@pytest.mark.django_db
def test_the_tables_exist_exactly_where_the_server_offers_pgvector():
    assert recorded("default")
    assert embeddings.available(connection) is embeddings.extension_available(connection)
    assert vector_installed("default") is embeddings.extension_available(connection)


EXPECTED_COLUMNS = {
    "content_embeddings": [
        ("id", "bigint", True, None),
        ("user_id", "integer", True, None),
        ("content_id", "integer", True, None),
        ("content_text", "text", True, None),
        ("embedding", "public.vector(1536)", True, None),
        ("metadata", "jsonb", False, None),
        ("embedding_model", "character varying(100)", True, None),
        ("created_at", "timestamp with time zone", True, "statement_timestamp()"),
    ],
    "memory_embeddings": [
        ("id", "bigint", True, None),
        ("public_id", "uuid", True, "gen_random_uuid()"),
        ("user_id", "integer", True, None),
        ("title", "character varying(500)", True, None),
        ("content", "text", True, None),
        ("memory_type", "character varying(100)", True, None),
        ("embedding", "public.vector(1536)", True, None),
        ("metadata", "jsonb", False, None),
        ("embedding_model", "character varying(100)", True, None),
        ("created_at", "timestamp with time zone", True, "statement_timestamp()"),
    ],
}
# Index name -> "[UNIQUE ]<method> (<key>)", from the definition PostgreSQL prints.
EXPECTED_INDEXES = {
    "content_embeddings": {
        "content_embeddings_pkey": "UNIQUE btree (id)",
        "content_embeddings_user_id_idx": "btree (user_id)",
        "content_embeddings_content_id_idx": "btree (content_id)",
        "content_embeddings_embedding_hnsw": "hnsw (embedding public.vector_cosine_ops)",
    },
    "memory_embeddings": {
        "memory_embeddings_pkey": "UNIQUE btree (id)",
        "memory_embeddings_public_id_key": "UNIQUE btree (public_id)",
        "memory_embeddings_user_id_idx": "btree (user_id)",
        "memory_embeddings_memory_type_idx": "btree (memory_type)",
        "memory_embeddings_embedding_hnsw": "hnsw (embedding public.vector_cosine_ops)",
    },
}


def index_shape(table: str, name: str, definition: str) -> str:
    unique = definition.startswith("CREATE UNIQUE INDEX ")
    prefix = f"INDEX {name} ON public.{table} USING "
    return ("UNIQUE " if unique else "") + definition.split(prefix, 1)[1]


def test_the_migration_creates_both_tables_as_the_spec_says(pgvector, server):
    with scratch.connect(server, connection.settings_dict["NAME"]) as plain:
        catalog = read_catalog(plain.cursor(), embeddings.TABLES)["tables"]

    assert sorted(catalog) == sorted(embeddings.TABLES)
    for table, shape in catalog.items():
        columns = [(c["name"], c["type"], c["not_null"], c["default"]) for c in shape["columns"]]
        assert columns == EXPECTED_COLUMNS[table], table
        assert shape["columns"][0]["identity"] == "d", table  # bigint identity
        indexes = {name: index_shape(table, name, d) for name, d in shape["indexes"].items()}
        assert indexes == EXPECTED_INDEXES[table], table
        foreign_keys = [d for d in shape["constraints"].values() if d.startswith("FOREIGN KEY")]
        # The database cascades (migration 0002): Django never queries these tables when a
        # user is deleted, so deletion works where they do not exist.
        assert foreign_keys == [
            "FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE"
        ], table
    assert catalog["memory_embeddings"]["constraints"]["memory_embeddings_public_id_key"] == (
        "UNIQUE (public_id)"
    )
    # content_id is a soft reference: no constraint names it.
    assert not [
        d for d in catalog["content_embeddings"]["constraints"].values() if "content_id" in d
    ]


def test_nearest_neighbours_by_cosine_distance_through_the_orm(pgvector):
    user, other = UserFactory(), UserFactory()
    for axis in (0, 1, 2):
        ContentEmbeddingFactory(user=user, content_id=axis, embedding=unit_vector(axis))
    ContentEmbeddingFactory(user=other, content_id=99, embedding=unit_vector(2))
    query = [0.0] * models.DIMENSIONS
    query[2] = 1.0

    nearest = list(
        models.ContentEmbedding.objects.filter(user=user)
        .annotate(distance=CosineDistance("embedding", query))
        .order_by("distance")
        .values_list("content_id", "distance")
    )

    assert [content_id for content_id, _ in nearest] == [2, 1, 0]
    assert nearest[0][1] == pytest.approx(1 - 1 / (1 + 0.25**2) ** 0.5)
    assert nearest[2][1] == pytest.approx(1.0)  # orthogonal


def test_the_nearest_neighbour_query_can_use_the_hnsw_index(pgvector):
    MemoryEmbeddingFactory.create_batch(3)
    query = models.MemoryEmbedding.objects.order_by(
        CosineDistance("embedding", unit_vector(7))
    ).values_list("id", flat=True)[:5]

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()

    assert "memory_embeddings_embedding_hnsw" in plan


def test_rows_written_by_the_platforms_raw_sql_read_back_through_the_orm(pgvector):
    """The running platform's pgvector service writes and searches with plain SQL."""
    user = UserFactory()
    vector = unit_vector(5)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO memory_embeddings (user_id, title, content, memory_type, embedding, "
            "metadata, embedding_model, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, NOW()) "
            "RETURNING id",
            [user.pk, "Voice", "Warm, never pushy.", "general", to_text(vector),
             json.dumps({"source": "manual"}), "text-embedding-3-small"],
        )  # fmt: skip
        (memory_id,) = cursor.fetchone()
        cursor.execute(
            "SELECT id, 1 - (embedding <=> %s) AS similarity FROM memory_embeddings "
            "WHERE user_id = %s AND 1 - (embedding <=> %s) > %s ORDER BY embedding <=> %s "
            "LIMIT %s",
            [to_text(vector), user.pk, to_text(vector), 0.7, to_text(vector), 10],
        )
        found = cursor.fetchall()

    assert [row_id for row_id, _ in found] == [memory_id]
    assert found[0][1] == pytest.approx(1.0)
    memory = models.MemoryEmbedding.objects.get(pk=memory_id)
    assert memory.embedding == vector
    assert memory.metadata == {"source": "manual"}
    assert memory.public_id is not None
    assert memory.created_at.tzinfo is not None


def test_a_vector_of_another_size_is_refused(pgvector):
    field = models.ContentEmbedding._meta.get_field("embedding")
    with pytest.raises(ValidationError, match="Expected 1536 numbers, got 3"):
        field.clean([1.0, 2.0, 3.0], None)

    with pytest.raises(DataError, match="expected 1536 dimensions"), transaction.atomic():
        ContentEmbeddingFactory(embedding=[1.0, 2.0, 3.0])


@pytest.mark.parametrize("factory", [ContentEmbeddingFactory, MemoryEmbeddingFactory])
def test_factory_rows_save_and_reload_with_equal_values(pgvector, factory):
    instance = factory()

    reloaded = type(instance).objects.get(pk=instance.pk)

    for field in type(instance)._meta.concrete_fields:
        assert getattr(reloaded, field.attname) == getattr(instance, field.attname), field.name


def test_memory_public_id_is_filled_by_the_database_and_distinct(pgvector):
    first, second = MemoryEmbeddingFactory(), MemoryEmbeddingFactory()

    assert first.public_id != second.public_id
    assert models.MemoryEmbedding.objects.get(public_id=first.public_id).pk == first.pk


def test_deleting_a_user_deletes_their_embeddings_and_nobody_elses(pgvector):
    mine, theirs = ContentEmbeddingFactory(), MemoryEmbeddingFactory()
    MemoryEmbeddingFactory(user=mine.user)

    mine.user.delete()

    assert not models.ContentEmbedding.objects.exists()
    assert list(models.MemoryEmbedding.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_the_admin_lists_and_shows_rows_without_the_vector_and_adds_none(pgvector, admin_client):
    memory = MemoryEmbeddingFactory(embedding=unit_vector(3))
    base = "/admin/embeddings/memoryembedding/"

    listing, change = admin_client.get(base), admin_client.get(f"{base}{memory.pk}/change/")

    assert listing.status_code == change.status_code == 200
    assert memory.title in listing.content.decode()
    assert "1536 dimensions" in change.content.decode()
    assert "0.25" not in change.content.decode()
    assert admin_client.get(f"{base}add/").status_code == 403


# ------------------------------------------------------------------ where they do not


def test_without_pgvector_the_migration_changes_nothing_and_is_recorded(
    empty_alias, monkeypatch, caplog
):
    monkeypatch.setattr(embeddings, "extension_available", lambda connection: False)

    with caplog.at_level(logging.WARNING, logger="embeddings.operations"):
        migrate(empty_alias, INITIAL)

    assert recorded(empty_alias)
    assert tables_in(empty_alias) == []
    assert not vector_installed(empty_alias)
    assert "the server offers no 'vector' extension; skipped in the database" in caplog.text
    assert not embeddings.available(connections[empty_alias])

    migrate(empty_alias, ("embeddings", None))  # the reverse has nothing to drop

    assert not recorded(empty_alias)
    assert tables_in(empty_alias) == []


def test_the_skipped_operation_sends_no_statement_at_all(db, monkeypatch):
    monkeypatch.setattr(embeddings, "extension_available", lambda connection: False)
    monkeypatch.setattr(embeddings, "available", lambda connection: False)
    operation = the_initial_operation()
    loader = MigrationLoader(connection)
    before = loader.project_state(("accounts", "0007_retire_registration_keys"))
    after = before.clone()
    operation.state_forwards("embeddings", after)

    with connection.schema_editor() as editor, CaptureQueriesContext(connection) as queries:
        operation.database_forwards("embeddings", editor, before, after)
        operation.database_backwards("embeddings", editor, after, before)

    assert [query["sql"] for query in queries] == []
    assert editor.deferred_sql == []
    assert {"ContentEmbedding", "MemoryEmbedding"} <= {
        model.__name__ for model in after.apps.get_app_config("embeddings").get_models()
    }


def test_a_database_migrated_without_pgvector_gets_the_tables_once_it_has_it(
    pgvector, empty_alias, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setattr(embeddings, "extension_available", lambda connection: False)
        migrate(empty_alias, INITIAL)
    assert tables_in(empty_alias) == []

    # The documented procedure: unapply the recorded no-op, apply for real.
    migrate(empty_alias, ("embeddings", None))
    migrate(empty_alias, INITIAL)

    assert tables_in(empty_alias) == sorted(embeddings.TABLES)
    assert embeddings.available(connections[empty_alias])

    migrate(empty_alias, ("embeddings", None))

    assert tables_in(empty_alias) == []
    assert vector_installed(empty_alias)  # the reverse leaves the extension in place


def test_sqlmigrate_prints_the_sql_whatever_the_server(db, monkeypatch):
    monkeypatch.setattr(embeddings, "extension_available", lambda connection: False)
    out = StringIO()

    call_command("sqlmigrate", *INITIAL, stdout=out)

    sql = out.getvalue()
    assert "CREATE EXTENSION IF NOT EXISTS vector;" in sql
    assert '"embedding" vector(1536) NOT NULL' in sql
    assert sql.count("USING hnsw") == 2


def test_the_admin_hides_the_models_where_the_tables_are_missing(db, monkeypatch, rf):
    monkeypatch.setattr(embeddings, "available", lambda connection: False)
    request = rf.get("/admin/")
    request.user = SimpleNamespace(
        is_active=True, is_staff=True, has_perm=lambda *a: True, has_module_perms=lambda *a: True
    )

    for model in (models.ContentEmbedding, models.MemoryEmbedding):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_module_permission(request)
        assert not model_admin.has_view_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.has_add_permission(request)


# ------------------------------------------------------------------ for the other tools


def test_other_tools_can_tell_the_optional_models_and_ask_any_connection(db, server):
    from django.apps import apps

    optional = sorted(m._meta.db_table for m in apps.get_models() if embeddings.is_optional(m))

    assert optional == sorted(embeddings.TABLES)
    name = connection.settings_dict["NAME"]
    with scratch.connect(server, name) as plain:  # a psycopg connection, as check_integrity
        assert embeddings.available(plain) is embeddings.available(connection)


def test_the_vector_text_form_round_trips():
    field = VectorField(dimensions=3)

    assert to_text([0.5, -1, 2.25]) == "[0.5,-1.0,2.25]"
    assert from_text("[0.5,-1,2.25]") == [0.5, -1.0, 2.25]
    assert from_text("[]") == []
    assert field.to_python("[1,2,3]") == [1.0, 2.0, 3.0]
    assert field.get_prep_value((1, 2, 3)) == "[1.0,2.0,3.0]"
    assert field.get_prep_value(None) is None
    assert field.db_type(connection) == "vector(3)"
    assert field.deconstruct()[3] == {"dimensions": 3}
    with pytest.raises(ValidationError):
        field.to_python("not a vector")
