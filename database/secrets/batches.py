"""Encrypt, re-encrypt (rotate) and decrypt secret columns in place, online.

One routine rewrites one column on the batch engine (``database.online.batches``): keyset batches
of the key column among the non-NULL values, one short transaction per batch under the lock
timeout, a compare-and-set ``UPDATE`` so that a value the running application changed
meanwhile is left alone (and picked up by the next run), progress per batch to the running
command. It only rewrites values that still need it (plaintext when encrypting, another key
id when rotating), so it is safe to kill and run again: a re-run resumes where the work
stopped.

Use it from a ``RunPython(..., atomic=False)`` in a migration with ``atomic = False``::

    from database.secrets.batches import encrypt_field, decrypt_field

    def forwards(apps, schema_editor):
        encrypt_field(apps.get_model("social", "SocialPlatformConnection"), "access_token",
                      using=schema_editor.connection.alias)

Inside an atomic block the batches would become savepoints of one long transaction holding
its row locks to the end, so the routine refuses to run there.

The columns are found through the model registry, by the project's one discovery of encrypted
fields (``database.fields.encrypted_fields``), on the tables the project manages
(``encrypted_columns``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connections
from psycopg import sql

from database.fields import encrypted_fields
from database.online import batches
from database.secrets import crypto, formats, keyring

BATCH_SIZE = 1_000  # measured: 1k-row batches cost 6-9 % over 10k, with far shorter locks


@dataclass(frozen=True)
class Column:
    """One encrypted column: where it is and how its values are shaped."""

    table: str
    column: str
    pk: str
    kind: str  # "text" (text/varchar) or "json" (json/jsonb)
    label: str = ""
    schema: str = batches.DEFAULT_SCHEMA

    @property
    def name(self) -> str:
        return self.label or f"{self.table}.{self.column}"


@dataclass
class Outcome:
    """What one pass over a column did (or, with dry_run, would do)."""

    column: Column
    scanned: int = 0
    rewritten: int = 0
    already_done: int = 0
    raced: int = 0  # changed by someone else between read and write; a re-run takes them
    batches: int = 0
    by_kid: dict[str, int] = field(default_factory=dict)  # kid (or "plaintext") before the pass

    def count_kid(self, kid: str) -> None:
        self.by_kid[kid] = self.by_kid.get(kid, 0) + 1


def column_for_field(model, field_name: str) -> Column:
    model_field = model._meta.get_field(field_name)
    kind = "json" if model_field.get_internal_type() == "JSONField" else "text"
    return Column(
        table=model._meta.db_table,
        column=model_field.column,
        pk=model._meta.pk.column,
        kind=kind,
        label=f"{model._meta.label}.{model_field.name}",
    )


def encrypted_columns(apps=None) -> list[Column]:
    """Every encrypted column (``database.fields.encrypted_fields``) of a table the project
    manages, in a stable order."""
    columns = [
        column_for_field(model, model_field.name)
        for model, model_field in encrypted_fields(apps)
        if model._meta.managed
    ]
    return sorted(columns, key=lambda column: (column.table, column.column))


# ---------------------------------------------------------------------------- transforms
# Each takes the stored text of a value and returns its new stored text, or None to leave it.
# A value in a platform format other than the envelope (``database.secrets.formats``: a
# token-manager blob, a bare Fernet token, …) is someone else's ciphertext: every transform
# leaves it byte for byte and counts it under its format name.


def _encrypt_transform(kid: str | None, outcome: Outcome) -> Callable[[str], str | None]:
    def transform(stored: str) -> str | None:
        envelope, other = _format_of(stored, outcome.column)
        if envelope is not None:
            outcome.count_kid(envelope.kid)
            return None
        if other is not None:
            outcome.count_kid(other)
            return None
        outcome.count_kid("plaintext")
        if stored == "" and outcome.column.kind == "text":
            return None  # the platform's stored form of an empty secret
        return crypto.encrypt(stored, kid=kid)

    return transform


def _rotate_transform(kid: str, outcome: Outcome) -> Callable[[str], str | None]:
    def transform(stored: str) -> str | None:
        envelope, other = _format_of(stored, outcome.column)
        if other is not None:
            outcome.count_kid(other)
            return None
        if envelope is None:
            outcome.count_kid("plaintext")
            if stored == "" and outcome.column.kind == "text":
                return None
            return crypto.encrypt(stored, kid=kid)
        outcome.count_kid(envelope.kid)
        if envelope.kid == kid:
            return None
        return crypto.encrypt(crypto.decrypt(envelope), kid=kid)

    return transform


def _decrypt_transform(outcome: Outcome) -> Callable[[str], str | None]:
    def transform(stored: str) -> str | None:
        envelope, other = _format_of(stored, outcome.column)
        if envelope is None:
            outcome.count_kid(other or "plaintext")
            return None
        outcome.count_kid(envelope.kid)
        return crypto.decrypt(envelope)  # json: the original JSON text, byte for byte

    return transform


def _format_of(stored: str, column: Column) -> tuple[crypto.Envelope | None, str | None]:
    """(the envelope, None), (None, another platform format's name) or (None, None) for
    plaintext."""
    try:
        # json: an object, or an envelope (or another writer's blob) as a JSON string.
        value = json.loads(stored) if column.kind == "json" else stored
        envelope = crypto.parse_envelope(value)
    except (crypto.InvalidEnvelope, ValueError) as error:
        raise crypto.InvalidEnvelope(f"{column.name}: {error}") from None
    if envelope is not None:
        return envelope, None
    if isinstance(value, str) and formats.is_platform_format(value):
        return None, formats.classify(value)
    return None, None


# ---------------------------------------------------------------------------- the routine


def encrypt_column(column: Column, **options) -> Outcome:
    """Encrypt every plaintext value of ``column`` under ``kid`` (default: the active id)."""
    outcome = Outcome(column)
    kid = options.pop("kid", None)
    _verify_key(kid, options)
    return rewrite(column, _encrypt_transform(kid, outcome), outcome, verb="encrypted", **options)


def rotate_column(column: Column, *, to_kid: str | None = None, **options) -> Outcome:
    """Re-encrypt every value of ``column`` not under ``to_kid`` (default: the active id)."""
    to_kid = to_kid or crypto.keyring().active_kid
    _verify_key(to_kid, options)  # fail before the first batch if the key is missing or wrong
    outcome = Outcome(column)
    return rewrite(
        column, _rotate_transform(to_kid, outcome), outcome, verb="re-encrypted", **options
    )


def _verify_key(kid: str | None, options: dict) -> None:
    """The key that will seal must be configured and match the database's keyring."""
    if options.get("dry_run"):
        crypto.keyring().fernet(kid or crypto.keyring().active_kid)
        return
    keyring.verify(connections[options.get("using", "default")], kid)


def decrypt_column(column: Column, **options) -> Outcome:
    """Write the plaintext back (the reverse of ``encrypt_column``, for a migration's reverse)."""
    outcome = Outcome(column)
    return rewrite(column, _decrypt_transform(outcome), outcome, verb="decrypted", **options)


def encrypt_field(model, field_name: str, **options) -> Outcome:
    return encrypt_column(column_for_field(model, field_name), **options)


def decrypt_field(model, field_name: str, **options) -> Outcome:
    return decrypt_column(column_for_field(model, field_name), **options)


def rotate_field(model, field_name: str, **options) -> Outcome:
    return rotate_column(column_for_field(model, field_name), **options)


def rewrite(
    column: Column,
    transform: Callable[[str], str | None],
    outcome: Outcome | None = None,
    *,
    verb: str,
    using: str = "default",
    batch_size: int = BATCH_SIZE,
    dry_run: bool = False,
    pause: float = 0.0,
    log: batches.Progress | None = None,
) -> Outcome:
    """Write ``transform(value)`` over each non-NULL value of ``column`` it changes (None: left
    alone), in batches of its key column, each compared-and-set in a transaction of its own.
    """
    outcome = outcome or Outcome(column)
    log = batches.progress_callback(log)
    connection = connections[using]
    batches.refuse_atomic_block(connection, f"Rewriting {column.name}")
    table = batches.Table(column.table, column.pk, column.schema)
    pk_type, column_type = _types(connection, column)
    names = {
        "table": table.identifier,
        "col": sql.Identifier(column.column),
        "pk": table.key_identifier,
        "col_type": sql.SQL(column_type),
        "pk_type": sql.SQL(pk_type),
    }
    select = sql.SQL(
        "SELECT {pk}, {col}::text FROM {table} WHERE {col} IS NOT NULL AND {range} ORDER BY {pk}"
    )
    update = sql.SQL(
        "UPDATE {table} AS t SET {col} = CAST(v.new AS {col_type}) "
        "FROM unnest(%s::{pk_type}[], %s::text[], %s::text[]) AS v(pk, old, new) "
        "WHERE t.{pk} = v.pk AND t.{col}::text = v.old"
    ).format(**names)

    def batch(cursor, key_range: batches.KeyRange):
        query = select.format(range=key_range.condition(table), **names)
        cursor.execute(query.as_string(cursor.connection))
        rows = cursor.fetchall()
        changes = [(pk, old, new) for pk, old in rows if (new := transform(old)) is not None]
        if dry_run or not changes:
            return rows, changes, len(changes) if dry_run else 0
        pks, olds, news = (list(values) for values in zip(*changes, strict=True))
        cursor.execute(update.as_string(cursor.connection), [pks, olds, news])
        return rows, changes, cursor.rowcount

    would = "would be " if dry_run else ""
    for key_range, (rows, changes, written) in batches.each_batch(
        connection,
        table,
        batch,
        batch_size=batch_size,
        among=sql.SQL("{col} IS NOT NULL").format(**names),
        throttle=batches.throttling(connection, pause, log),
        statement=select.format(range=sql.SQL("<key range>"), **names).as_string(
            connection.connection
        ),
    ):
        outcome.batches += 1
        outcome.scanned += len(rows)
        outcome.rewritten += written
        outcome.raced += len(changes) - written
        outcome.already_done += len(rows) - len(changes)
        log(
            f"{column.name}: batch {outcome.batches}: {len(rows)} rows up to {column.pk} "
            f"{key_range.upto}, {written} {would}{verb}; {outcome.scanned} scanned, "
            f"{outcome.rewritten} {would}{verb} so far"
        )
    return outcome


def _types(connection, column: Column) -> tuple[str, str]:
    table = batches.Table(column.table, column.pk, column.schema)
    pk_type = batches.column_type(connection, table, column.pk)
    column_type = batches.column_type(connection, table, column.column)
    if pk_type is None or column_type is None:
        raise LookupError(
            f"{column.name}: no column {column.column} or {column.pk} in {column.table}"
        )
    return pk_type, column_type


def remaining(column: Column, *, kid: str, using: str = "default") -> dict[str, int]:
    """How many non-NULL values of ``column`` are not under ``kid``, by key id ("plaintext").

    Values in another platform format are not counted: they are not ours to rotate."""
    counts: dict[str, int] = {}

    def count(stored: str) -> None:
        envelope, other = _format_of(stored, column)
        if other is not None:
            return  # another writer's format: no key id of ours, never rotated
        label = "plaintext" if envelope is None else envelope.kid
        if label != kid and not (stored == "" and column.kind == "text"):
            counts[label] = counts.get(label, 0) + 1

    rewrite(
        column,
        count,
        Outcome(column),
        verb="counted",
        using=using,
        dry_run=True,
        log=lambda line: None,
    )
    return counts


def summarise(outcomes: Iterable[Outcome]) -> list[str]:
    lines = []
    for outcome in outcomes:
        kids = ", ".join(f"{kid}: {n}" for kid, n in sorted(outcome.by_kid.items())) or "none"
        lines.append(
            f"{outcome.column.name}: {outcome.scanned} values scanned ({kids}); "
            f"{outcome.rewritten} rewritten, {outcome.already_done} already done, "
            f"{outcome.raced} changed concurrently (run again)"
        )
    return lines
