"""Archive rows before anything is dropped, and restore them byte for byte.

Archives live in the ``archive`` schema (TARGET_SCHEMA.md D11): one table per retired table
or column, created with the source's own column types, plus ``_manifest_id``; and one
``archive.manifest`` row per archiving run with source, migration, row count and checksum.
No migration ever drops them.

The checksum is the md5 of the archived rows' text forms in sorted order, so the same rows
always give the same checksum, and a restore is verified against it.
"""

from dataclasses import dataclass

from psycopg import sql

from database import crypto

SCHEMA = "archive"

_MANIFEST = """
CREATE TABLE IF NOT EXISTS archive.manifest (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL,
    selection text NOT NULL,
    archive_table text NOT NULL,
    migration text NOT NULL,
    row_count bigint NOT NULL,
    checksum text NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now(),
    restored_at timestamptz
)
"""


class ChecksumMismatch(RuntimeError):
    pass


@dataclass(frozen=True)
class Archive:
    manifest_id: int
    row_count: int
    checksum: str


def _execute(connection, statement, params=None):
    with connection.cursor() as cursor:
        text = (
            statement if isinstance(statement, str) else statement.as_string(connection.connection)
        )
        cursor.execute(text, params)
        return cursor.fetchall() if cursor.description else None


def ensure_schema(connection) -> None:
    _execute(connection, "CREATE SCHEMA IF NOT EXISTS archive")
    _execute(connection, _MANIFEST)


def _canonical(columns: list[str]) -> sql.Composable:
    """Columns in name order, so that a checksum does not depend on column positions."""
    return sql.SQL(", ").join(map(sql.Identifier, sorted(columns)))


def _checksum_query(relation: sql.Composable, columns: sql.Composable, where: sql.Composable):
    return sql.SQL(
        "SELECT count(*), md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')) "
        "FROM (SELECT ROW({columns})::text AS r FROM {relation} WHERE {where}) AS rows"
    ).format(columns=columns, relation=relation, where=where)


def archive_rows(
    connection,
    *,
    source_table: str,
    archive_table: str,
    columns: list[str],
    migration: str,
    where: str = "true",
    sealed: tuple[str, ...] = (),
) -> Archive:
    """Copy ``columns`` of the matching rows of ``public.source_table`` into the archive.

    Run it in the same transaction as the statement that drops or clears the data, so that
    an interruption leaves either both or neither. ``sealed`` columns hold secrets: they are
    stored encrypted in the archive (the platform's envelope), while the manifest checksum
    stays that of the plaintext rows, which a restore proves again.
    """
    ensure_schema(connection)
    source = sql.SQL("public.{}").format(sql.Identifier(source_table))
    target = sql.SQL("archive.{}").format(sql.Identifier(archive_table))
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    condition = sql.SQL(where)
    _execute(
        connection,
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {target} AS SELECT {columns}, NULL::bigint AS "
            "_manifest_id FROM {source} WITH NO DATA"
        ).format(target=target, columns=column_list, source=source),
    )
    ((row_count, checksum),) = _execute(
        connection, _checksum_query(source, _canonical(columns), condition)
    )
    ((manifest_id,),) = _execute(
        connection,
        "INSERT INTO archive.manifest "
        "(source, selection, archive_table, migration, row_count, checksum) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        [
            f"public.{source_table}",
            f"{', '.join(columns)} WHERE {where}",
            f"archive.{archive_table}",
            migration,
            row_count,
            checksum,
        ],
    )
    _execute(
        connection,
        sql.SQL(
            "INSERT INTO {target} ({columns}, _manifest_id) "
            "SELECT {columns}, %s FROM {source} WHERE {where}"
        ).format(target=target, columns=column_list, source=source, where=condition),
        [manifest_id],
    )
    archived = _checksum_query(
        target, _canonical(columns), sql.SQL("_manifest_id = {}").format(sql.Literal(manifest_id))
    )
    if tuple(_execute(connection, archived)[0]) != (row_count, checksum):
        raise ChecksumMismatch(f"archive.{archive_table} does not match {source_table}")
    for column in sealed:
        _rewrite_secrets(connection, target, column, crypto.ensure_encrypted, manifest_id)
    return Archive(manifest_id, row_count, checksum)


def _rewrite_secrets(connection, relation, column: str, transform, manifest_id=None) -> None:
    """Apply ``transform`` to every non-NULL value of ``column`` (small tables: row by row).

    Only the rows whose value it changes are written: a restore into a live table unseals
    the restored values and leaves the others alone.
    """
    condition = sql.SQL("{} IS NOT NULL").format(sql.Identifier(column))
    if manifest_id is not None:
        condition += sql.SQL(" AND _manifest_id = {}").format(sql.Literal(manifest_id))
    select = sql.SQL("SELECT ctid, {} FROM {} WHERE {}").format(
        sql.Identifier(column), relation, condition
    )
    update = sql.SQL("UPDATE {} SET {} = %s WHERE ctid = %s").format(
        relation, sql.Identifier(column)
    )
    for ctid, value in _execute(connection, select):
        if (changed := transform(value)) != value:
            _execute(connection, update, [changed, ctid])


def _unseal(value: str) -> str:
    return crypto.decrypt(value) if crypto.is_envelope(value) else value


def latest_archive(connection, archive_table: str) -> Archive | None:
    rows = _execute(
        connection,
        "SELECT id, row_count, checksum FROM archive.manifest WHERE archive_table = %s "
        "ORDER BY id DESC LIMIT 1",
        [f"archive.{archive_table}"],
    )
    return Archive(*rows[0]) if rows else None


def unrestored_archives(connection, archive_table: str, *, required: bool = True) -> list[Archive]:
    """Every archiving run into ``archive_table`` not restored yet, oldest first.

    A migration interrupted after archiving and re-run archives again (finding nothing the
    second time), so a restore must take every run, not only the last. With ``required``,
    finding none is an error.
    """
    rows = _execute(
        connection,
        "SELECT id, row_count, checksum FROM archive.manifest "
        "WHERE archive_table = %s AND restored_at IS NULL ORDER BY id",
        [f"archive.{archive_table}"],
    )
    if not rows and required:
        raise ChecksumMismatch(f"Nothing archived in archive.{archive_table} to restore.")
    return [Archive(*row) for row in rows]


def restore_rows(
    connection,
    *,
    archive_table: str,
    target_table: str,
    columns: list[str],
    sealed: tuple[str, ...] = (),
) -> list[Archive]:
    """Insert the archived rows back into ``public.target_table`` and verify them.

    ``sealed`` columns, encrypted in the archive, are decrypted back into the target before
    the rows are checked against the manifest.
    """
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    source = sql.SQL("archive.{}").format(sql.Identifier(archive_table))
    target = sql.SQL("public.{}").format(sql.Identifier(target_table))
    archives = unrestored_archives(connection, archive_table)
    for archive in archives:
        _execute(
            connection,
            sql.SQL(
                "INSERT INTO {target} ({columns}) SELECT {columns} FROM {source} "
                "WHERE _manifest_id = %s"
            ).format(target=target, columns=column_list, source=source),
            [archive.manifest_id],
        )
        for column in sealed:
            _rewrite_secrets(connection, target, column, _unseal)
        matched_by = _canonical([column for column in columns if column not in sealed])
        _verify_and_mark_restored(
            connection, archive, archive_table, target, _canonical(columns), matched_by
        )
    return archives


def restore_column(
    connection,
    *,
    archive_table: str,
    target_table: str,
    key: str,
    columns: list[str],
    sealed: tuple[str, ...] = (),
) -> list[Archive]:
    """Put archived ``columns`` values back into the rows of ``target_table`` by ``key``.

    ``sealed`` columns, encrypted in the archive, are decrypted back in the target rows.
    """
    update = sql.SQL(
        "UPDATE public.{target} AS t SET {assignments} FROM archive.{source} AS a "
        "WHERE t.{key} = a.{key} AND a._manifest_id = %s"
    ).format(
        target=sql.Identifier(target_table),
        assignments=sql.SQL(", ").join(
            sql.SQL("{0} = a.{0}").format(sql.Identifier(column)) for column in columns
        ),
        source=sql.Identifier(archive_table),
        key=sql.Identifier(key),
    )
    target = sql.SQL("public.{}").format(sql.Identifier(target_table))
    archives = unrestored_archives(connection, archive_table)
    for archive in archives:
        _execute(connection, update, [archive.manifest_id])
        for column in sealed:
            _rewrite_secrets(connection, target, column, _unseal)
        matched_by = _canonical([key, *(column for column in columns if column not in sealed)])
        _verify_and_mark_restored(
            connection, archive, archive_table, target, _canonical([key, *columns]), matched_by
        )
    return archives


def _verify_and_mark_restored(
    connection, archive, archive_table, relation, columns, matched_by
) -> None:
    """The restored rows of ``relation`` match the manifest's count and checksum.

    Restored rows are those equal to an archived row in the ``matched_by`` columns (every
    column but the sealed ones, which the archive holds encrypted); the checksum covers all.
    """
    restored_rows = sql.SQL(
        "ROW({matched})::text IN (SELECT ROW({matched})::text FROM archive.{source} "
        "WHERE _manifest_id = {manifest})"
    ).format(
        matched=matched_by,
        source=sql.Identifier(archive_table),
        manifest=sql.Literal(archive.manifest_id),
    )
    restored = tuple(_execute(connection, _checksum_query(relation, columns, restored_rows))[0])
    if restored != (archive.row_count, archive.checksum):
        raise ChecksumMismatch(
            f"Restored rows {restored} do not match manifest {archive.manifest_id} "
            f"({archive.row_count}, {archive.checksum})."
        )
    _execute(
        connection,
        "UPDATE archive.manifest SET restored_at = now() WHERE id = %s",
        [archive.manifest_id],
    )
