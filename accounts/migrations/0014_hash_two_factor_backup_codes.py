"""``users.two_factor_backup_codes``: JSON text of plaintext codes → jsonb of hashes (**H**).

The running platform already writes and checks SHA-256 hashes of the canonical ``XXXX-XXXX``
form (see ``accounts.backup_codes``), so the plaintext codes that production holds are
hashed the same way: after this migration they work with the platform, and no longer
appear in a dump. Entries already hashed are left alone; a value that is not JSON becomes
NULL. Before anything changes, every non-NULL value is archived sealed with the platform's
key (D12), so the originals survive without being readable in the archive.

The conversion runs online through a shadow column kept current by a trigger, so values
the platform writes meanwhile are hashed too. The hashing function lives only as long as
the migration runs. Backwards converts to text and restores the archived originals.
"""

from django.db import migrations, models

from database.online.archive import ArchiveRows
from database.online.conversions import ChangeColumnType
from database.online.operations import SeparateDatabaseAndState

MIGRATION = "accounts.0014_hash_two_factor_backup_codes"
ARCHIVE_TABLE = "users_two_factor_backup_codes"
HASH_FUNCTION = """
CREATE OR REPLACE FUNCTION public.hashed_two_factor_backup_codes(codes text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    parsed jsonb;
    hashed jsonb := '[]';
    code jsonb;
    plain text;
BEGIN
    IF codes IS NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        parsed := codes::jsonb;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN NULL;
    END;
    IF jsonb_typeof(parsed) <> 'array' THEN
        RETURN parsed;
    END IF;
    FOR code IN SELECT value FROM jsonb_array_elements(parsed) LOOP
        IF jsonb_typeof(code) = 'string' AND code #>> '{}' !~ '^[0-9a-f]{64}$' THEN
            plain := upper(replace(replace(code #>> '{}', ' ', ''), '-', ''));
            IF length(plain) = 8 THEN
                plain := left(plain, 4) || '-' || right(plain, 4);
            END IF;
            code := to_jsonb(encode(sha256(convert_to(plain, 'UTF8')), 'hex'));
        END IF;
        hashed := hashed || jsonb_build_array(code);
    END LOOP;
    RETURN hashed;
END
$$
"""
DROP_HASH_FUNCTION = "DROP FUNCTION IF EXISTS public.hashed_two_factor_backup_codes(text)"


class Migration(migrations.Migration):
    # Seals or encrypts secrets: migrate refuses to start without the active key.
    needs_encryption_keys = True

    atomic = False

    dependencies = [
        ("accounts", "0013_admin_users_is_active_required"),
    ]

    operations = [
        ArchiveRows(
            "users",
            ARCHIVE_TABLE,
            MIGRATION,
            columns=["id", "two_factor_backup_codes"],
            where="two_factor_backup_codes IS NOT NULL",
            sealed=("two_factor_backup_codes",),
            key="id",
            while_type=("two_factor_backup_codes", "text"),
        ),
        SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(HASH_FUNCTION, DROP_HASH_FUNCTION),
                ChangeColumnType(
                    "users",
                    "two_factor_backup_codes",
                    "jsonb",
                    reverse_type="text",
                    using="public.hashed_two_factor_backup_codes({value})",
                ),
                migrations.RunSQL(DROP_HASH_FUNCTION, HASH_FUNCTION),
            ],
            state_operations=[
                migrations.AlterField(
                    "user", "two_factor_backup_codes", models.JSONField(null=True)
                ),
            ],
        ),
    ]
