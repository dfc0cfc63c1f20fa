"""Deleting a user deletes their embeddings in the database, not in Django.

Django's collector would query these tables on every user deletion, and they exist only
where the server offers pgvector: on PostgreSQL 15 without it, deleting a user through the
ORM failed. The foreign keys now cascade in the database (as the platform's own Alembic 009
declared), and the models say DO_NOTHING. Where the tables do not exist, nothing is run.
"""

import django.db.models.deletion
from django.db import migrations, models

from embeddings.operations import RequiresVector


def cascading_user_key(table: str) -> str:
    """Replace the table's foreign key to users by one with ON DELETE CASCADE (small tables)."""
    return f"""
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT conname FROM pg_catalog.pg_constraint
                WHERE conrelid = 'public.{table}'::regclass AND contype = 'f'
                  AND confrelid = 'public.users'::regclass AND confdeltype <> 'c'
    LOOP
        EXECUTE format('ALTER TABLE public.{table} DROP CONSTRAINT %I', name);
        ALTER TABLE public.{table} ADD CONSTRAINT {table}_user_id_fkey
            FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE;
    END LOOP;
END $$
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_encrypt_secrets"),
        ("embeddings", "0001_initial"),
    ]

    operations = [
        RequiresVector(
            [
                migrations.AlterField(
                    model_name="contentembedding",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="content_embeddings",
                        to="accounts.user",
                    ),
                ),
                migrations.AlterField(
                    model_name="memoryembedding",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="memory_embeddings",
                        to="accounts.user",
                    ),
                ),
                migrations.RunSQL(
                    cascading_user_key("content_embeddings"), migrations.RunSQL.noop
                ),
                migrations.RunSQL(cascading_user_key("memory_embeddings"), migrations.RunSQL.noop),
            ]
        ),
    ]
