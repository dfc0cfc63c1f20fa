"""Secrets at rest: expired emailed tokens, and every secret column's formats and keys."""

import datetime
import itertools
import json
from collections.abc import Iterator

from django.apps import apps
from django.conf import settings
from django.utils import timezone

from database import fields, token_expiry
from database.integrity import declarations
from database.integrity.checks.registry import DATA_SECTION, Context, check
from database.integrity.findings import SAMPLE_SIZE, Finding, Severity
from database.integrity.scan import SCHEMA, Scan, count_and_keys
from database.online import archive
from database.secrets import crypto, formats, keyring


@check(
    "expired_tokens",
    DATA_SECTION,
    "Clear them with `python manage.py clear_expired_tokens`.",
)
def expired_tokens(scan: Scan, context: Context) -> Iterator[Finding]:
    """Emailed tokens kept past the platform's lifetime for them (TARGET_SCHEMA.md D13).

    The same condition ``clear_expired_tokens`` clears, so the two always agree.
    """
    users = apps.get_model("accounts", "User")
    now = timezone.now()
    for token, sent, setting in token_expiry.TOKENS:
        table, column = users._meta.db_table, users._meta.get_field(token).column
        if not context.has(table, column, users._meta.get_field(sent).column):
            continue
        hours = getattr(settings, setting)
        cutoff = now - datetime.timedelta(hours=hours)
        rows = users._base_manager.using(scan.alias).filter(
            token_expiry.expired(token, sent, cutoff)
        )
        where = {"table": table, "column": column}
        found = scan.guarded(
            f"expired {table}.{column}", lambda rows=rows: count_and_keys(rows), where
        )
        if found and found[0]:
            count, keys = found
            yield Finding(
                "expired_tokens",
                Severity.WARNING,
                f"{count} row(s) of {table} still hold a {column} sent more than {hours} h "
                f"ago ({setting}) or never: the platform no longer honours it, it is only a "
                "risk.",
                count=count,
                sample=tuple(keys),
                **where,
            )


# What each secret value is, classified in one statement per column by shape
# (``formats.sql_format``: PostgreSQL 15 cannot try-decode base64); a sample of each
# platform format found is then confirmed structurally in Python (``formats.classify``).
# A json/jsonb value is a secret only when it holds tokens (e.g. connected_accounts' plain
# {platform: {access_token, …}}); '{}' and other token-free values count as empty.
_JSON_TOKENS = (
    "(pg_catalog.jsonb_path_exists(c.{column}::jsonb, '$.**.access_token') "
    "OR pg_catalog.jsonb_path_exists(c.{column}::jsonb, '$.**.refresh_token'))"
)

# Counted by hashing; each shape's sample is its first keys by a top-N pass over the
# materialized keys, never a sorted list of every key.
_SECRETS = """
WITH secret AS MATERIALIZED (
    SELECT c.{pk}::text AS key, {state} AS state FROM {table} c WHERE c.{column} IS NOT NULL
)
SELECT g.state, g.n,
       ARRAY(SELECT s.key FROM secret s WHERE s.state = g.state ORDER BY s.key LIMIT {sample})
FROM (SELECT state, pg_catalog.count(*) AS n FROM secret WHERE state <> '{empty}'
      GROUP BY state) g
ORDER BY g.state
"""


def _secret_columns(context: Context) -> Iterator[tuple[formats.SecretColumn, str]]:
    """The platform's secret columns (``formats.COLUMNS``) and every other field the
    models declare secret, with the primary key column of each table."""
    pks = {model._meta.db_table: model._meta.pk.column for model in declarations.concrete_models()}
    seen = set()
    for secret in formats.COLUMNS:
        seen.add((secret.table, secret.column))
        yield secret, pks.get(secret.table, "id")
    for model, model_field in fields.encrypted_fields():
        table, column = model._meta.db_table, model_field.column
        if (table, column) in seen:
            continue
        yield (
            formats.SecretColumn(
                table,
                column,
                "this project's encrypted field",
                frozenset({formats.ENVELOPE}),
                True,
                "none: encrypt them in place (database.secrets.batches)",
            ),
            model._meta.pk.column,
        )


def _archived_secret_columns(scan: Scan) -> Iterator[tuple[formats.SecretColumn, str]]:
    """The sealed archive columns this database holds
    (``database.online.archive.sealed_columns``)."""
    present = {
        tuple(row)
        for row in scan.rows(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s",
            [archive.SCHEMA],
        )
    }
    for table, column in archive.sealed_columns():
        if (table, column) not in present:
            continue
        pk = "id" if (table, "id") in present else "_manifest_id"
        yield (
            formats.SecretColumn(
                f"{archive.SCHEMA}.{table}",
                column,
                "this project's archive restore (database.online.archive)",
                frozenset({formats.ENVELOPE}),
                True,
                "none: archived secrets are sealed when archived, and rotate_keys re-seals them",
            ),
            pk,
        )


@check(
    "secrets",
    DATA_SECTION,
    "Plaintext secrets need the platform change each finding names (the upgrade "
    "encrypts only the social tokens, into the envelope); configure the missing key ids "
    "(TOKEN_ENCRYPTION_KEYS) or re-encrypt with `rotate_keys`; a key that does not open "
    "its values is the wrong key; a value its reader cannot read must be rewritten by "
    "the platform.",
)
def secrets(scan: Scan, context: Context) -> Iterator[Finding]:
    """Secret columns: every value in a format its platform reader reads, plaintext named.

    Each value is classified (``database.secrets.formats``): the D12 envelope, a token-manager
    or user-credentials blob, a bare Fernet token, hashed backup codes, or plaintext.
    Plaintext is reported column by column with the platform change it needs; a format the
    column's reader cannot read is an error. The keyring (``database.secrets.keyring``) must
    record the configured keys; envelopes, including the sealed archive columns, must be
    under a configured key id, and per column and key id a bounded sample spread over the
    values in sealing order is decrypted (SQL cannot decrypt; ``_confirm_envelopes`` says
    what that proves). No value is ever printed: samples are primary keys (key ids for
    unknown keys).
    """
    try:
        kids = crypto.keyring().kids
    except crypto.EncryptionError as error:
        yield Finding("secrets", Severity.ERROR, f"The encryption keys are misconfigured: {error}")
        kids = []
    if kids:
        yield from _keyring_findings(scan, context)
    public = (
        (
            secret,
            pk,
            scan.ident(SCHEMA, secret.table),
            context.columns[secret.table][secret.column],
        )
        for secret, pk in _secret_columns(context)
        if context.has(secret.table, secret.column, pk)
    )
    archived = (
        (secret, pk, scan.ident(*secret.table.split(".", 1)), "text")
        for secret, pk in _archived_secret_columns(scan)
    )
    for secret, pk, relation, type_ in itertools.chain(public, archived):
        table, column = secret.table, secret.column
        is_json = type_ in {"json", "jsonb"}
        state = formats.sql_format(f"c.{scan.ident(column)}", is_json=is_json)
        if is_json:
            tokens = _JSON_TOKENS.replace("{column}", scan.ident(column))
            state = (
                f"CASE WHEN ({state}) = '{formats.PLAINTEXT}' AND NOT {tokens} "
                f"THEN '{formats.EMPTY}' ELSE ({state}) END"
            )
        query = _SECRETS.format(
            pk=scan.ident(pk),
            state=state,
            table=relation,
            column=scan.ident(column),
            sample=SAMPLE_SIZE,
            empty=formats.EMPTY,
        )
        where = {"table": table, "column": column}
        found = scan.guarded(
            f"secrets in {table}.{column}", lambda query=query: scan.rows(query), where
        )
        located = (relation, pk, state)
        for shape, count, sample in found or []:
            yield from _secret_findings(
                scan, secret, located, shape, count, tuple(sample), kids, where
            )


def _keyring_findings(scan: Scan, context: Context) -> Iterator[Finding]:
    """Each configured key the keyring records must open its check value."""
    if not context.has(keyring.TABLE, "kid", "check_value"):
        return
    configured = set(crypto.keyring().kids)
    relation = scan.ident(SCHEMA, keyring.TABLE)
    rows = scan.rows(
        f"SELECT kid, check_value, recorded_at::date::text FROM {relation} ORDER BY kid"
    )
    for kid, check_value, recorded_at in rows:
        if kid in configured and not keyring.opens(check_value):
            yield Finding(
                "secrets",
                Severity.ERROR,
                f"The key configured for key id '{kid}' is not the key the keyring "
                f"({keyring.TABLE}) recorded for it on {recorded_at}: values sealed under "
                f"'{kid}' by the recorded key do not open with the configured one, and this "
                "project refuses to write with it.",
                table=keyring.TABLE,
                object=kid,
                sample=(kid,),
            )


def _secret_findings(scan, secret, located, shape, count, sample, kids, where):
    name, reads = secret.name, secret.reads
    fmt = formats.name_sql_format(shape, reads)
    if fmt == formats.PLAINTEXT:
        readable = (
            f"its reader ({secret.reader}) reads them as they are"
            if formats.PLAINTEXT in reads
            else f"its reader ({secret.reader}) cannot read plaintext"
        )
        yield Finding(
            "secrets",
            Severity.WARNING,
            f"{count} value(s) of {name} are plaintext secrets; {readable}. Platform change "
            f"needed: {secret.plaintext_change}.",
            count=count,
            sample=sample,
            **where,
        )
        return
    if fmt not in reads:
        yield Finding(
            "secrets",
            Severity.ERROR,
            f"{count} value(s) of {name} are in the {fmt} format, which its reader "
            f"({secret.reader}) does not read (it reads: {', '.join(sorted(reads))}).",
            count=count,
            sample=sample,
            **where,
        )
        return
    if fmt == formats.ENVELOPE:
        kid = formats.state_kid(shape)
        if kid not in kids:
            yield Finding(
                "secrets",
                Severity.ERROR,
                f"{count} value(s) of {name} are encrypted under key ids no key is configured "
                f"for (configured: {', '.join(kids) or 'none'}); the sample lists those key ids.",
                count=count,
                sample=(kid,),
                **where,
            )
            return
        yield from _confirm_envelopes(scan, secret, located, shape, where)
        return
    yield from _confirm_sample(scan, secret, located, shape, fmt, where)


def _unquoted(stored: str):
    """A json/jsonb value as its text form shows it: a JSON string is its content."""
    if stored.startswith('"'):
        try:
            return json.loads(stored)
        except ValueError:
            pass
    return stored


def _confirm_sample(scan, secret, located, shape, fmt, where) -> Iterator[Finding]:
    """Up to five values of a platform format, confirmed to decode structurally as it."""
    relation, pk, state = located
    query = (
        f"SELECT c.{scan.ident(pk)}::text, c.{scan.ident(secret.column)}::text "
        f"FROM {relation} c WHERE ({state}) = %s "
        f"ORDER BY c.{scan.ident(pk)} LIMIT {SAMPLE_SIZE}"
    )
    rows = scan.guarded(
        f"confirming {secret.name} ({shape})", lambda: scan.rows(query, [shape]), where
    )
    failed = [
        key
        for key, stored in rows or []
        if formats.classify(_unquoted(stored), expected=secret.reads) != fmt
    ]
    if failed:
        yield Finding(
            "secrets",
            Severity.ERROR,
            f"{len(failed)} of {len(rows)} sampled value(s) of {secret.name} look like a {fmt} "
            f"but do not decode as one (truncated or altered); its reader ({secret.reader}) "
            "cannot read them.",
            count=len(failed),
            sample=tuple(failed),
            **where,
        )


# Envelopes of one key id in sealing order: by the Fernet token's timestamp (in the clear in
# its first 9 bytes, read from the ciphertext's first 16 base64 characters), then key. Every
# step-th value, the first and the last are returned, step = ceil(n / ENVELOPE_TRIALS).
# Only (row, key, 16 characters) of each value are materialized and sorted; the stored text
# is read back (by ctid, within this one statement's snapshot) for the sampled rows alone.
ENVELOPE_TRIALS = 64
_SPREAD = r"""
WITH sealed AS MATERIALIZED (
    SELECT c.ctid AS loc, c.{pk} AS pk, pg_catalog.substr({ciphertext}, 1, 16) AS ct
    FROM {relation} c WHERE ({state}) = %s
), prefixed AS (
    SELECT loc, pk,
           CASE WHEN ct LIKE 'gAAAAA%%' THEN pg_catalog.substr(ct, 1, 12)
                WHEN ct ~ '^[A-Za-z0-9+/]{{16}}'
                THEN pg_catalog.substr(pg_catalog.encode(pg_catalog.decode(
                         ct, 'base64'), 'escape'), 1, 12)
           END AS token
    FROM sealed
), ordered AS (
    SELECT loc, pk, pg_catalog.count(*) OVER () AS n,
           pg_catalog.row_number() OVER (
               ORDER BY CASE WHEN token ~ '^[A-Za-z0-9_-]{{12}}$'
                             THEN pg_catalog.decode(pg_catalog.translate(token, '-_', '+/'),
                                                    'base64') END NULLS FIRST, pk) - 1 AS i
    FROM prefixed
), sampled AS (
    SELECT loc, pk, n, i FROM ordered
    WHERE i %% pg_catalog.ceil(n::numeric / {trials})::bigint = 0 OR i = n - 1
)
SELECT s.pk::text, v.stored, s.n
FROM sampled s
CROSS JOIN LATERAL (SELECT c.{column}::text AS stored FROM {relation} c WHERE c.ctid = s.loc) v
ORDER BY s.i
"""


def _confirm_envelopes(scan, secret, located, shape, where) -> Iterator[Finding]:
    """Decrypt a bounded sample of one key id's envelopes, spread over them in sealing order.

    Mixed keys come from runs (a process seals with the key it was given), so they occupy
    stretches of the sealing order: any stretch of at least ``step`` consecutively sealed
    values that the configured key does not open holds a sampled value and is found, without
    decrypting every value. Fewer than ``step`` such values, or ones sealed within the same
    second as values of the right key, may go unseen.
    """
    relation, pk, state = located
    kid = formats.state_kid(shape)
    query = _SPREAD.format(
        pk=scan.ident(pk),
        column=scan.ident(secret.column),
        ciphertext=formats.sql_ciphertext(f"c.{scan.ident(secret.column)}"),
        relation=relation,
        state=state,
        trials=ENVELOPE_TRIALS,
    )
    rows = scan.guarded(
        f"confirming {secret.name} ({shape})", lambda: scan.rows(query, [shape]), where
    )
    if not rows:
        return
    total = rows[0][2]
    step = -(-total // ENVELOPE_TRIALS)
    failed = []
    for key, stored, _ in rows:
        try:
            crypto.decrypt(_unquoted(stored))
        except crypto.EncryptionError:
            failed.append(key)
    if failed:
        yield Finding(
            "secrets",
            Severity.ERROR,
            f"The key configured for key id '{kid}' does not open {len(failed)} of {len(rows)} "
            f"value(s) of {secret.name} sampled over its {total} value(s) under '{kid}' in "
            f"sealing order (every {step}th, the first and the last): values under another key "
            "share this key id (a wrong key, mixed keys, or altered ciphertext). The sample "
            f"finds any run of {step} or more consecutively sealed values that the key does "
            "not open; fewer may go unseen.",
            count=len(failed),
            sample=tuple(failed),
            **where,
        )
