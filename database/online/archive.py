"""Archive rows before anything is dropped, and restore them byte for byte.

Archives live in the ``archive`` schema (TARGET_SCHEMA.md D11): one table per retired table
or column, created with the source's own column types, plus ``_manifest_id``; and one
``archive.manifest`` row per archiving run with source, migration, row count and checksum.
No migration ever drops them.

The checksum is the md5 of the archived rows' text forms in sorted order, so the same rows
always give the same checksum, and a restore is verified against it.
"""

import functools
from dataclasses import dataclass

from django.db import transaction
from psycopg import sql

from database.online.batches import DEFAULT_SCHEMA, Table, column_type
from database.online.ddl import DatabaseOnlyOperation, column_names, render
from database.online.operations import quote
from database.secrets import batches, crypto

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
        cursor.execute(render(statement, connection), params)
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


@dataclass(frozen=True)
class Archiving:
    """The statements of one archiving run, the same whether run or printed by sqlmigrate.

    ``manifest`` arguments are the manifest row's id: a literal when run, the manifest
    sequence's ``currval`` when printed (the statements then run as they are, in order).
    """

    table: Table
    archive_table: str
    columns: tuple[str, ...]
    migration: str
    where: str = "true"

    @property
    def source(self) -> sql.Composable:
        return self.table.identifier

    @property
    def source_name(self) -> str:
        """The source as the manifest records it: always schema-qualified."""
        return f"{self.table.schema}.{self.table.name}"

    @property
    def target(self) -> sql.Composable:
        return sql.Identifier(SCHEMA, self.archive_table)

    @property
    def column_list(self) -> sql.Composable:
        return sql.SQL(", ").join(map(sql.Identifier, self.columns))

    def create_table(self) -> sql.Composable:
        return sql.SQL(
            "CREATE TABLE IF NOT EXISTS {target} AS SELECT {columns}, NULL::bigint AS "
            "_manifest_id FROM {source} WITH NO DATA"
        ).format(target=self.target, columns=self.column_list, source=self.source)

    def record_manifest(self) -> sql.Composable:
        """The manifest row, with the count and checksum of the rows about to be copied."""
        checksum = _checksum_query(
            self.source, _canonical(list(self.columns)), sql.SQL(self.where)
        )
        return sql.SQL(
            "INSERT INTO archive.manifest "
            "(source, selection, archive_table, migration, row_count, checksum) "
            "SELECT {source}, {selection}, {archive}, {migration}, counted.n, counted.sum "
            "FROM ({checksum}) AS counted(n, sum) RETURNING id, row_count, checksum"
        ).format(
            source=sql.Literal(self.source_name),
            selection=sql.Literal(f"{', '.join(self.columns)} WHERE {self.where}"),
            archive=sql.Literal(f"archive.{self.archive_table}"),
            migration=sql.Literal(self.migration),
            checksum=checksum,
        )

    def copy_rows(self, manifest: sql.Composable) -> sql.Composable:
        return sql.SQL(
            "INSERT INTO {target} ({columns}, _manifest_id) "
            "SELECT {columns}, {manifest} FROM {source} WHERE {where}"
        ).format(
            target=self.target,
            columns=self.column_list,
            manifest=manifest,
            source=self.source,
            where=sql.SQL(self.where),
        )

    def archived_checksum(self, manifest: sql.Composable) -> sql.Composable:
        return _checksum_query(
            self.target,
            _canonical(list(self.columns)),
            sql.SQL("_manifest_id = {}").format(manifest),
        )


# The manifest row just inserted, in the session that inserted it (printed statements).
CURRENT_MANIFEST = sql.SQL("currval(pg_catalog.pg_get_serial_sequence('archive.manifest', 'id'))")


def archive_rows(
    connection,
    *,
    source: Table,
    archive_table: str,
    columns: list[str],
    migration: str,
    where: str = "true",
    sealed: tuple[str, ...] = (),
) -> Archive:
    """Copy ``columns`` of the matching rows of the ``source`` table into the archive.

    Run it in the same transaction as the statement that drops or clears the data, so that
    an interruption leaves either both or neither. ``sealed`` columns hold secrets: they are
    stored encrypted in the archive (the platform's envelope), while the manifest checksum
    stays that of the plaintext rows, which a restore proves again.
    """
    if sealed:
        from database.secrets import keyring

        keyring.verify(connection)  # before anything is archived
    ensure_schema(connection)
    run = Archiving(source, archive_table, tuple(columns), migration, where)
    _execute(connection, run.create_table())
    ((manifest_id, row_count, checksum),) = _execute(connection, run.record_manifest())
    manifest = sql.Literal(manifest_id)
    _execute(connection, run.copy_rows(manifest))
    if tuple(_execute(connection, run.archived_checksum(manifest))[0]) != (row_count, checksum):
        raise ChecksumMismatch(f"archive.{archive_table} does not match {run.source_name}")
    target = run.target
    for column in sealed:
        _rewrite_secrets(connection, target, column, crypto.ensure_encrypted, manifest_id)
    return Archive(manifest_id, row_count, checksum)


def archive_statements(
    connection,
    *,
    source: Table,
    archive_table: str,
    columns: list[str],
    migration: str,
    where: str = "true",
    sealed: tuple[str, ...] = (),
) -> list[str]:
    """What ``archive_rows`` runs, as ``sqlmigrate`` prints it: runnable in this order.

    The copy is checked against the manifest row by Python: printed as the query it runs.
    Sealing is Python too (the platform's envelope): printed as a comment.
    """
    run = Archiving(source, archive_table, tuple(columns), migration, where)

    def text(statement: sql.Composable | str) -> str:
        return f"{render(statement, connection)};"

    selection = "every row" if where == "true" else f"the rows WHERE {where}"
    return [
        f"-- archive {', '.join(columns)} of {run.source_name} ({selection}) into "
        f"archive.{archive_table}, with a manifest row:",
        text("CREATE SCHEMA IF NOT EXISTS archive"),
        text(_MANIFEST.strip()),
        text(run.create_table()),
        text(run.record_manifest()),
        text(run.copy_rows(CURRENT_MANIFEST)),
        "-- the copy must give the manifest row's row_count and checksum, else the "
        "migration stops:",
        text(run.archived_checksum(CURRENT_MANIFEST)),
        *(
            f"-- then archive.{archive_table}.{column} is sealed: each value encrypted in "
            "Python with the platform's key (TOKEN_ENCRYPTION_KEY); the manifest keeps the "
            "plaintext checksum"
            for column in sealed
        ),
    ]


def archive_in(schema_editor, **archiving) -> Archive | None:
    """``archive_rows`` in a migration: run, or printed when ``sqlmigrate`` collects SQL."""
    if schema_editor.collect_sql:
        schema_editor.collected_sql.extend(
            archive_statements(schema_editor.connection, **archiving)
        )
        return None
    return archive_rows(schema_editor.connection, **archiving)


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
    target: Table,
    columns: list[str],
    sealed: tuple[str, ...] = (),
) -> list[Archive]:
    """Insert the archived rows back into the ``target`` table and verify them.

    ``sealed`` columns, encrypted in the archive, are decrypted back into the target before
    the rows are checked against the manifest.
    """
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    source = sql.Identifier(SCHEMA, archive_table)
    relation = target.identifier
    archives = unrestored_archives(connection, archive_table)
    for archive in archives:
        _execute(
            connection,
            sql.SQL(
                "INSERT INTO {target} ({columns}) SELECT {columns} FROM {source} "
                "WHERE _manifest_id = %s"
            ).format(target=relation, columns=column_list, source=source),
            [archive.manifest_id],
        )
        for column in sealed:
            _rewrite_secrets(connection, relation, column, _unseal)
        matched_by = _canonical([column for column in columns if column not in sealed])
        _verify_and_mark_restored(
            connection, archive, archive_table, relation, _canonical(columns), matched_by
        )
    return archives


def restore_column(
    connection,
    *,
    archive_table: str,
    target: Table,
    columns: list[str],
    sealed: tuple[str, ...] = (),
) -> list[Archive]:
    """Put archived ``columns`` values back into the rows of the ``target`` table, matched by
    its key column (archived beside them).

    ``sealed`` columns, encrypted in the archive, are decrypted back in the target rows.
    """
    key = target.key
    update = sql.SQL(
        "UPDATE {target} AS t SET {assignments} FROM {source} AS a "
        "WHERE t.{key} = a.{key} AND a._manifest_id = %s"
    ).format(
        target=target.identifier,
        assignments=sql.SQL(", ").join(
            sql.SQL("{0} = a.{0}").format(sql.Identifier(column)) for column in columns
        ),
        source=sql.Identifier(SCHEMA, archive_table),
        key=target.key_identifier,
    )
    archives = unrestored_archives(connection, archive_table)
    for archive in archives:
        _execute(connection, update, [archive.manifest_id])
        for column in sealed:
            _rewrite_secrets(connection, target.identifier, column, _unseal)
        matched_by = _canonical([key, *(column for column in columns if column not in sealed)])
        _verify_and_mark_restored(
            connection,
            archive,
            archive_table,
            target.identifier,
            _canonical([key, *columns]),
            matched_by,
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
        "ROW({matched})::text IN (SELECT ROW({matched})::text FROM {source} "
        "WHERE _manifest_id = {manifest})"
    ).format(
        matched=matched_by,
        source=sql.Identifier(SCHEMA, archive_table),
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


class ArchiveRows(DatabaseOnlyOperation):
    """Archive rows, or some of their columns, before a migration deletes, drops or changes them.

    ``columns`` (every column of ``table`` when None) of the rows matching ``where`` go into
    ``archive.<archive_table>`` with a manifest row (``archive_rows``); ``sealed`` columns
    are encrypted there. ``then``: statements run after it in the same transaction (the
    DELETE that the archive makes safe). ``while_type`` ``(column, type)``: archive only
    while that column still has that type, so a re-run after the conversion it precedes
    archives nothing. Backwards the archived rows come back and are checked against their
    manifest: inserted again, or, with ``key``, their other columns written back into the
    rows with that key.

    ``sqlmigrate`` prints the statements it runs (``archive_statements``).
    """

    reduces_to_sql = True

    def __init__(
        self,
        table: str,
        archive_table: str,
        migration: str,
        columns: list[str] | None = None,
        where: str = "true",
        sealed: tuple[str, ...] = (),
        then: list[str] = (),
        key: str | None = None,
        while_type: tuple[str, str] | None = None,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.archive_table, self.migration = table, archive_table, migration
        self.columns = list(columns) if columns is not None else None
        self.where, self.sealed, self.then = where, tuple(sealed), list(then)
        self.key, self.while_type = key, tuple(while_type) if while_type else None
        self.schema = schema

    def columns_of(self, connection) -> list[str]:
        if self.columns is not None:
            return self.columns
        return column_names(connection, self.relation())

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        collecting = schema_editor.collect_sql
        if self.while_type:
            column, type_ = self.while_type
            if collecting:
                schema_editor.collected_sql.append(
                    f"-- only while {self.relation().label}.{column} is {type_} (a re-run "
                    "after the conversion archives nothing):"
                )
            elif column_type(connection, self.relation(), column) != type_:
                return
        if collecting:
            schema_editor.collected_sql.append("-- one transaction:")
        with transaction.atomic(using=connection.alias):
            archive_in(
                schema_editor,
                source=self.relation(),
                archive_table=self.archive_table,
                columns=self.columns_of(connection),
                migration=self.migration,
                where=self.where,
                sealed=self.sealed,
            )
            for statement in self.then:
                if collecting:
                    schema_editor.collected_sql.append(f"{statement};")
                else:
                    with connection.cursor() as cursor:
                        cursor.execute(statement)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append(
                f"-- restore the rows archived in archive.{self.archive_table} into "
                f"{self.relation().label}, checked against their manifest rows (Python)"
            )
            return
        if self.while_type and not unrestored_archives(
            connection, self.archive_table, required=False
        ):
            return
        columns = self.columns_of(connection)
        with transaction.atomic(using=connection.alias):
            if self.key is None:
                restore_rows(
                    connection,
                    archive_table=self.archive_table,
                    target=self.relation(),
                    columns=columns,
                    sealed=self.sealed,
                )
            else:
                restore_column(
                    connection,
                    archive_table=self.archive_table,
                    target=Table(self.table, self.key, self.schema),
                    columns=[column for column in columns if column != self.key],
                    sealed=self.sealed,
                )

    def describe(self):
        what = "every column" if self.columns is None else ", ".join(self.columns)
        rows = "" if self.where == "true" else f" where {self.where}"
        sealed = (
            f", {', '.join(self.sealed)} sealed with the platform's key" if self.sealed else ""
        )
        then = "".join(f", then {quote(statement)}" for statement in self.then)
        table = self.relation().label
        when = ""
        if self.while_type:
            when = f", while {table}.{self.while_type[0]} is {self.while_type[1]}"
        return (
            f"Archive {what} of {table}{rows} into archive.{self.archive_table} with a "
            f"manifest row{sealed}{then}{when} (one transaction, row locks only)"
        )


# ------------------------------------------------------------------------- sealed archives


@functools.cache
def sealed_columns() -> tuple[tuple[str, str], ...]:
    """``(archive table, column)`` of every archived column that holds sealed secrets, as the
    migrations' ``ArchiveRows(sealed=...)`` declare them."""
    from django.db.migrations.loader import MigrationLoader

    found = set()
    for migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.values():
        for operation in _flattened(migration.operations):
            if isinstance(operation, ArchiveRows):
                found.update((operation.archive_table, column) for column in operation.sealed)
    return tuple(sorted(found))


def _flattened(operations):
    for operation in operations:
        yield operation
        yield from _flattened(getattr(operation, "database_operations", ()))


def existing_sealed_columns(connection) -> list[tuple[str, str]]:
    """The sealed archive columns this database holds (an archive exists once its migration
    ran)."""
    rows = _execute(
        connection,
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s",
        [SCHEMA],
    )
    present = {tuple(row) for row in rows}
    return [column for column in sealed_columns() if column in present]


def reseal(connection, to_kid: str, *, dry_run: bool = False) -> dict[str, dict[str, int]]:
    """Re-seal every archived secret not under ``to_kid`` (plaintext left over is sealed), in
    batches of the archive table's rows (``database.secrets.batches``, keyed by ``ctid``:
    archive tables have no key of their own); the counts by key id ("plaintext") found before.

    Restores unseal with whichever configured key a value is under, and the manifest keeps
    the plaintext checksum, so a restore after the old key is removed still verifies.
    """
    counts: dict[str, dict[str, int]] = {}
    for table, column in existing_sealed_columns(connection):
        name = f"{SCHEMA}.{table}.{column}"
        found = counts.setdefault(name, {})

        def transform(value: str, found=found) -> str | None:
            kid = crypto.envelope_kid(value) or "plaintext"
            found[kid] = found.get(kid, 0) + 1
            if kid == to_kid:
                return None
            return crypto.encrypt(_unseal(value), kid=to_kid)

        sealed = batches.Column(table, column, "ctid", "text", name, schema=SCHEMA)
        batches.rewrite(
            sealed, transform, using=connection.alias, dry_run=dry_run, verb="re-sealed"
        )
    return counts
