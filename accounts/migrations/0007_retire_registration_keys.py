"""Retire the deprecated registration keys (TARGET_SCHEMA.md D1), losing no data.

Every ``registration_keys`` row and every non-NULL ``users.registration_key_id`` is copied to
the ``archive`` schema with a manifest (source, migration, row count, checksum, time), the
keys themselves encrypted with the platform's key; then the foreign key, the column and
the table are dropped, all in one transaction, so an
interruption leaves either everything or nothing done. The running application no longer
reads them. Reversing recreates the table and the column with their production DDL and
restores every archived value byte for byte (verified against the manifest checksum).
"""

from django.db import migrations

from database.online.archive import ArchiveRows
from database.online.ddl import RunDDL
from database.online.operations import SeparateDatabaseAndState

MIGRATION = "accounts.0007_retire_registration_keys"
KEY_COLUMNS = [
    "id",
    "key",
    "description",
    "max_uses",
    "current_uses",
    "expires_at",
    "email_domain_restriction",
    "is_active",
    "created_at",
    "created_by",
]
# The keys are credentials: the archive keeps them encrypted (the platform's envelope).
SECRETS = ("key",)


class Migration(migrations.Migration):
    # Seals or encrypts secrets: migrate refuses to start without the active key.
    needs_encryption_keys = True

    dependencies = [
        ("accounts", "0006_drop_indexes_duplicating_primary_keys"),
    ]

    operations = [
        # The users' links first: reversed, the keys come back before the links to them.
        ArchiveRows(
            "users",
            "users_registration_key_id",
            MIGRATION,
            columns=["id", "registration_key_id"],
            where="registration_key_id IS NOT NULL",
            key="id",
        ),
        ArchiveRows(
            "registration_keys",
            "registration_keys",
            MIGRATION,
            columns=KEY_COLUMNS,
            sealed=SECRETS,
        ),
        SeparateDatabaseAndState(
            database_operations=[
                RunDDL(
                    [
                        "ALTER TABLE users DROP CONSTRAINT users_registration_key_id_fkey",
                        "ALTER TABLE users DROP COLUMN registration_key_id",
                        "DROP TABLE registration_keys",
                    ],
                    reverse_statements=[
                        "CREATE TABLE public.registration_keys (id character varying NOT NULL, "
                        "key character varying NOT NULL, description character varying, "
                        "max_uses integer, current_uses integer, "
                        "expires_at timestamp without time zone, "
                        "email_domain_restriction character varying, is_active boolean, "
                        "created_at timestamp without time zone, created_by integer)",
                        "ALTER TABLE ONLY public.registration_keys "
                        "ADD CONSTRAINT registration_keys_key_key UNIQUE (key)",
                        "ALTER TABLE ONLY public.registration_keys "
                        "ADD CONSTRAINT registration_keys_pkey PRIMARY KEY (id)",
                        "ALTER TABLE public.users ADD COLUMN registration_key_id character varying",
                        "ALTER TABLE ONLY public.users ADD CONSTRAINT users_registration_key_id_fkey "
                        "FOREIGN KEY (registration_key_id) REFERENCES public.registration_keys(id)",
                    ],
                    tables=["users"],
                ),
            ],
            state_operations=[
                migrations.RemoveField("user", "registration_key"),
                migrations.DeleteModel("RegistrationKey"),
            ],
        ),
    ]
