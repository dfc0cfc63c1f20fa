"""The pgvector extension and the two embedding tables, only where the server offers pgvector.

Everything is wrapped in ``RequiresVector`` (see ``embeddings.operations``): on a server
without the extension the migration changes nothing in the database and is still recorded.
Columns in the order of TARGET_SCHEMA.md §3.7 (and the platform's Alembic 009). The reverse
drops the tables but leaves the extension: it may predate this migration or serve others.
"""

import django.contrib.postgres.functions
import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

import embeddings.vector
from embeddings.operations import RequiresVector


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0007_retire_registration_keys"),
    ]

    operations = [
        RequiresVector(
            [
                migrations.RunSQL(
                    "CREATE EXTENSION IF NOT EXISTS vector",
                    reverse_sql=migrations.RunSQL.noop,
                ),
                migrations.CreateModel(
                    name="ContentEmbedding",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="content_embeddings",
                                to="accounts.user",
                            ),
                        ),
                        ("content_id", models.IntegerField()),
                        ("content_text", models.TextField()),
                        ("embedding", embeddings.vector.VectorField(dimensions=1536)),
                        ("metadata", models.JSONField(null=True)),
                        ("embedding_model", models.CharField(max_length=100)),
                        (
                            "created_at",
                            models.DateTimeField(
                                db_default=django.db.models.functions.datetime.Now()
                            ),
                        ),
                    ],
                    options={
                        "db_table": "content_embeddings",
                        "db_table_comment": "Embedded content for similarity search. Needs the pgvector extension: exists only where the server offers it (D2).",
                        "indexes": [
                            models.Index(fields=["user"], name="content_embeddings_user_id_idx"),
                            models.Index(
                                fields=["content_id"], name="content_embeddings_content_id_idx"
                            ),
                            embeddings.vector.HnswIndex(
                                fields=["embedding"],
                                name="content_embeddings_embedding_hnsw",
                                opclasses=["vector_cosine_ops"],
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="MemoryEmbedding",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "public_id",
                            models.UUIDField(
                                db_default=django.contrib.postgres.functions.RandomUUID(),
                                editable=False,
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memory_embeddings",
                                to="accounts.user",
                            ),
                        ),
                        ("title", models.CharField(max_length=500)),
                        ("content", models.TextField()),
                        ("memory_type", models.CharField(max_length=100)),
                        ("embedding", embeddings.vector.VectorField(dimensions=1536)),
                        ("metadata", models.JSONField(null=True)),
                        ("embedding_model", models.CharField(max_length=100)),
                        (
                            "created_at",
                            models.DateTimeField(
                                db_default=django.db.models.functions.datetime.Now()
                            ),
                        ),
                    ],
                    options={
                        "db_table": "memory_embeddings",
                        "db_table_comment": "Embedded memories for similarity search. Needs the pgvector extension: exists only where the server offers it (D2).",
                        "indexes": [
                            models.Index(fields=["user"], name="memory_embeddings_user_id_idx"),
                            models.Index(
                                fields=["memory_type"], name="memory_embeddings_memory_type_idx"
                            ),
                            embeddings.vector.HnswIndex(
                                fields=["embedding"],
                                name="memory_embeddings_embedding_hnsw",
                                opclasses=["vector_cosine_ops"],
                            ),
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("public_id",), name="memory_embeddings_public_id_key"
                            ),
                        ],
                    },
                ),
            ]
        ),
    ]
