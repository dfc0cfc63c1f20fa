"""In-place encryption and key rotation on a throwaway table of a scratch database.

The real encrypted columns arrive with the forward migrations; the routine and ``rotate_keys``
only know columns through the model registry, so a model of an isolated registry stands in.
"""

import io
import json
import subprocess

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connections, models, transaction
from django.test import override_settings
from django.test.utils import isolate_apps

from database.fields import (
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedLegacyJSONField,
    EncryptedTextField,
)
from database.schema import scratch
from database.secrets import batches, crypto

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
ROWS = 2_345  # three batches of 1,000
BATCH = 1_000

DDL = """
CREATE TABLE secret_demo (
    id serial PRIMARY KEY,
    token text,
    secret varchar,
    blob json,
    blob_b jsonb,
    note text
);
"""


def keys(extra="", active="default", default=KEY_A):
    return override_settings(
        TOKEN_ENCRYPTION_KEY=default,
        TOKEN_ENCRYPTION_KEYS=extra,
        TOKEN_ENCRYPTION_ACTIVE_KID=active,
        TOKEN_ENCRYPTION_DEVELOPMENT_KEY="",
    )


@pytest.fixture
def registry():
    with isolate_apps("database") as apps:

        class SecretDemo(models.Model):
            token = EncryptedTextField(null=True)
            secret = EncryptedCharField(null=True)
            blob = EncryptedLegacyJSONField(null=True)
            blob_b = EncryptedJSONField(null=True)
            note = models.TextField(null=True)

            class Meta:
                app_label = "database"
                db_table = "secret_demo"

            def __str__(self) -> str:
                return f"Secret demo #{self.pk}"

        yield apps


@pytest.fixture
def demo(django_db_blocker, registry):
    """A scratch database holding ``secret_demo`` with plaintext, platform envelopes, NULLs."""
    with django_db_blocker.unblock(), scratch.scratch_database("crypto") as alias:
        platform_envelope = None
        with keys(), connections[alias].cursor() as cursor:
            cursor.execute(DDL)
            platform_envelope = crypto.encrypt("already-encrypted-by-the-platform")
            cursor.execute(
                """
                INSERT INTO secret_demo (token, secret, blob, blob_b, note)
                SELECT CASE WHEN i %% 97 = 0 THEN NULL
                            WHEN i %% 89 = 0 THEN ''
                            WHEN i = 5 THEN %s
                            ELSE 'tok-' || i || '-ü✓' END,
                       'TOTP' || i,
                       CASE WHEN i %% 3 = 0 THEN NULL
                            WHEN i = 7 THEN '{"a": 1, "a": 2}'::json
                            ELSE json_build_object('access_token', 'acc-' || i, 'n', i) END,
                       jsonb_build_array('refresh-' || i),
                       'note ' || i
                FROM generate_series(1, %s) AS i
                """,
                [platform_envelope, ROWS],
            )
        model = registry.get_model("database", "SecretDemo")
        yield alias, model, platform_envelope


def snapshot(alias) -> list[tuple]:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT id, token, secret, blob::text, blob_b::text, note FROM secret_demo ORDER BY id"
        )
        return cursor.fetchall()


def columns(registry):
    return batches.encrypted_columns(registry)


def encrypt_all(alias, registry, **options):
    outcomes = []
    for column in columns(registry):
        outcomes.append(
            batches.encrypt_column(
                column, using=alias, batch_size=BATCH, log=lambda line: None, **options
            )
        )
    return outcomes


def test_registry_discovery_finds_exactly_the_encrypted_fields(registry):
    found = [(c.table, c.column, c.kind) for c in columns(registry)]
    assert found == [
        ("secret_demo", "blob", "json"),
        ("secret_demo", "blob_b", "json"),
        ("secret_demo", "secret", "text"),
        ("secret_demo", "token", "text"),
    ]


def test_encrypting_in_place_leaves_no_plaintext_and_every_value_reads_back(demo, registry):
    alias, model, platform_envelope = demo
    before = snapshot(alias)
    with keys():
        plain = {row.pk: row for row in model.objects.using(alias).order_by("pk")}
        log = io.StringIO()
        outcomes = encrypt_all(alias, registry)
        batches.encrypt_column(columns(registry)[3], using=alias, batch_size=BATCH, log=log.write)
        after = snapshot(alias)
        # Every non-NULL, non-empty secret is now an envelope; other columns are untouched.
        for old, new in zip(before, after, strict=True):
            for index in (1, 2, 3, 4):
                if old[index] in (None, ""):
                    assert new[index] == old[index]
                else:
                    assert crypto.is_envelope(new[index]), (old[0], index, new[index])
            assert new[5] == old[5]
        # The platform's envelope was not encrypted a second time.
        assert after[4][1] == platform_envelope
        # The ORM reads what was there before, the JSON with duplicate keys included.
        for row in model.objects.using(alias).order_by("pk"):
            original = plain[row.pk]
            assert (row.token, row.secret, row.blob, row.blob_b) == (
                original.token if row.pk != 5 else "already-encrypted-by-the-platform",
                original.secret,
                original.blob,
                original.blob_b,
            )
        assert crypto.decrypt(json.loads(after[6][3])) == '{"a": 1, "a": 2}'
    token_outcome = next(o for o in outcomes if o.column.column == "token")
    assert token_outcome.batches == 3
    assert token_outcome.raced == 0
    assert (
        token_outcome.rewritten == ROWS - ROWS // 97 - ROWS // 89 - 1
    )  # NULL, '' and the envelope stay
    # A second run finds nothing left to do and says so per batch.
    assert "0 encrypted" in log.getvalue()


def test_pg_dump_of_the_encrypted_table_holds_no_plaintext(demo, registry, server):
    from tests.test_baseline import _pg_dump_binary

    alias, _, _ = demo
    with keys():
        encrypt_all(alias, registry)
    dump = subprocess.run(
        [
            _pg_dump_binary(),
            "--data-only",
            "-t",
            "secret_demo",
            scratch.database_url(server, connections[alias].settings_dict["NAME"]),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "note 17" in dump  # the dump does hold the table's rows
    for plaintext in ("tok-17-", "TOTP17", "acc-17", "refresh-17", "already-encrypted"):
        assert plaintext not in dump


def test_a_killed_run_resumes_without_encrypting_anything_twice(demo, registry, monkeypatch):
    alias, model, _ = demo
    token = columns(registry)[3]
    with keys():
        expected = {row.pk: row.token for row in model.objects.using(alias)}
        real_encrypt = crypto.encrypt
        calls = {"n": 0}

        def dying_encrypt(plaintext, *, kid=None):
            calls["n"] += 1
            if calls["n"] == 1_500:  # in the middle of the second batch
                raise KeyboardInterrupt
            return real_encrypt(plaintext, kid=kid)

        monkeypatch.setattr(crypto, "encrypt", dying_encrypt)
        with pytest.raises(KeyboardInterrupt):
            batches.encrypt_column(token, using=alias, batch_size=BATCH, log=lambda _: None)
        monkeypatch.setattr(crypto, "encrypt", real_encrypt)
        done = batches.remaining(token, kid="default", using=alias)
        # The first batch committed; the interrupted one rolled back entirely.
        assert 0 < done["plaintext"] < ROWS - 1_000 + 100
        outcome = batches.encrypt_column(token, using=alias, batch_size=BATCH, log=lambda _: None)
        assert outcome.rewritten == done["plaintext"]
        assert batches.remaining(token, kid="default", using=alias) == {}
        for row in model.objects.using(alias):
            assert row.token == (
                "already-encrypted-by-the-platform" if row.pk == 5 else expected[row.pk]
            )


def test_a_value_changed_meanwhile_is_left_for_the_next_run(demo, registry, monkeypatch):
    alias, model, _ = demo
    token = columns(registry)[3]
    database = connections[alias].settings_dict["NAME"]
    real_encrypt = crypto.encrypt

    def encrypt_while_the_application_writes(plaintext, *, kid=None):
        if plaintext == "tok-10-ü✓":
            with scratch.connect(connections[alias].settings_dict, database, autocommit=True) as c:
                c.execute("UPDATE secret_demo SET token = 'rotated-by-app' WHERE id = 10")
        return real_encrypt(plaintext, kid=kid)

    with keys():
        monkeypatch.setattr(crypto, "encrypt", encrypt_while_the_application_writes)
        outcome = batches.encrypt_column(token, using=alias, batch_size=BATCH, log=lambda _: None)
        monkeypatch.setattr(crypto, "encrypt", real_encrypt)
        assert outcome.raced == 1
        assert model.objects.using(alias).get(pk=10).token == "rotated-by-app"
        batches.encrypt_column(token, using=alias, batch_size=BATCH, log=lambda _: None)
        assert model.objects.using(alias).get(pk=10).token == "rotated-by-app"
        assert batches.remaining(token, kid="default", using=alias) == {}


def test_decrypting_in_place_restores_every_value_byte_for_byte(demo, registry):
    alias, _, platform_envelope = demo
    before = snapshot(alias)
    with keys():
        encrypt_all(alias, registry)
        for column in columns(registry):
            batches.decrypt_column(column, using=alias, batch_size=BATCH, log=lambda _: None)
    after = snapshot(alias)
    restored = [list(row) for row in after]
    expected = [list(row) for row in before]
    # Row 5 held the platform's envelope; decrypting writes its plaintext.
    expected[4][1] = "already-encrypted-by-the-platform"
    assert restored == expected
    assert platform_envelope not in str(after)


def test_the_routine_refuses_to_run_inside_a_transaction(demo, registry):
    alias, _, _ = demo
    with keys(), transaction.atomic(using=alias), pytest.raises(RuntimeError, match="atomic"):
        batches.encrypt_column(columns(registry)[0], using=alias)


# ------------------------------------------------------------------------------ rotation


@pytest.fixture
def registry_columns(monkeypatch, registry):
    """``rotate_keys`` discovers the throwaway model's columns instead of the project's."""
    found = columns(registry)
    monkeypatch.setattr(batches, "encrypted_columns", lambda apps=None: found)


def kids(alias) -> dict[str, set]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT token, secret, blob::text, blob_b::text FROM secret_demo")
        rows = cursor.fetchall()
    found: dict[str, set] = {}
    for index, name in enumerate(("token", "secret", "blob", "blob_b")):
        values = [row[index] for row in rows if row[index] not in (None, "")]
        found[name] = {
            crypto.envelope_kid(json.loads(v) if name.startswith("blob") else v) for v in values
        }
    return found


def test_rotate_keys_leaves_no_value_under_the_old_kid_and_keeps_every_value(
    demo, registry, registry_columns
):
    alias, model, _ = demo
    with keys():
        encrypt_all(alias, registry)
        originals = {
            row.pk: (row.token, row.secret, row.blob, row.blob_b)
            for row in model.objects.using(alias)
        }
    assert kids(alias) == {name: {"default"} for name in ("token", "secret", "blob", "blob_b")}

    with keys(extra=f"k2:{KEY_B}", active="k2"):
        out = io.StringIO()
        call_command("rotate_keys", "--database", alias, "--batch-size", "1000", stdout=out)
        assert "batch 3" in out.getvalue()
        assert "every encrypted value is under key id 'k2'" in out.getvalue()
        assert kids(alias) == {name: {"k2"} for name in ("token", "secret", "blob", "blob_b")}
        for row in model.objects.using(alias):
            assert (row.token, row.secret, row.blob, row.blob_b) == originals[row.pk]

    # The old key can go: everything decrypts with k2 alone.
    with keys(default="", extra=f"k2:{KEY_B}", active="k2"):
        for row in model.objects.using(alias):
            assert (row.token, row.secret, row.blob, row.blob_b) == originals[row.pk]


def test_rotate_keys_dry_run_counts_by_kid_and_writes_nothing(demo, registry, registry_columns):
    alias, _, _ = demo
    with keys():
        encrypt_all(alias, registry)
    before = snapshot(alias)
    with keys(extra=f"k2:{KEY_B}"):
        out = io.StringIO()
        call_command("rotate_keys", "--database", alias, "--to-kid", "k2", "--dry-run", stdout=out)
    assert snapshot(alias) == before
    text = out.getvalue()
    assert f"SecretDemo.token: {ROWS - ROWS // 97 - ROWS // 89} value(s) to re-encrypt" in text
    assert "(default: " in text


def test_rotate_keys_fails_loudly_without_the_old_key(demo, registry, registry_columns):
    alias, _, _ = demo
    with keys():
        encrypt_all(alias, registry)
    with keys(default="", extra=f"k2:{KEY_B}", active="k2"):
        with pytest.raises(CommandError, match="no encryption key for key id 'default'"):
            call_command("rotate_keys", "--database", alias, stdout=io.StringIO())
        with pytest.raises(CommandError, match="No key configured for key id"):
            call_command("rotate_keys", "--database", alias, "--dry-run", stdout=io.StringIO())


# rotate_keys first checks that the server accepts writes (database.errors): a connection.


def test_rotate_keys_refuses_an_unknown_target_kid(django_db_blocker):
    with django_db_blocker.unblock(), keys(), pytest.raises(CommandError, match="nowhere"):
        call_command("rotate_keys", "--to-kid", "nowhere", stdout=io.StringIO())


def test_rotate_keys_with_no_encrypted_columns_says_so(monkeypatch, django_db_blocker):
    monkeypatch.setattr(batches, "encrypted_columns", lambda apps=None: [])
    out = io.StringIO()
    with django_db_blocker.unblock(), keys():
        call_command("rotate_keys", stdout=out)
    assert "nothing to do" in out.getvalue()


def test_encrypt_rotate_and_decrypt_leave_every_other_platform_format_byte_for_byte(
    demo, registry, registry_columns
):
    from tests.test_crypto_formats import hashed_codes, token_manager_blob, two_factor_token

    alias, model, _ = demo
    others = {
        10: token_manager_blob({"access_token": "DUMMY-TM"}),
        11: two_factor_token(),
        12: hashed_codes("AB12-CD34"),
    }
    with connections[alias].cursor() as cursor:
        for pk, value in others.items():
            cursor.execute(
                "UPDATE secret_demo SET token = %s, secret = %s WHERE id = %s", [value, value, pk]
            )

    def stored() -> dict[int, tuple]:
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT id, token, secret FROM secret_demo WHERE id = ANY(%s)", [list(others)]
            )
            return {pk: (token, secret) for pk, token, secret in cursor.fetchall()}

    expected = {pk: (value, value) for pk, value in others.items()}
    with keys():
        outcomes = encrypt_all(alias, registry)
        assert stored() == expected
        token = next(o for o in outcomes if o.column.column == "token")
        assert token.by_kid["token-manager blob"] == 1 and token.by_kid["Fernet token"] == 1
        # Read as opaque values and saved back verbatim, never wrapped in an envelope.
        row = model.objects.using(alias).get(pk=10)
        assert row.token == others[10] and "DUMMY" not in repr(row.token)
        row.save(using=alias)
        assert stored() == expected
    with keys(extra=f"k2:{KEY_B}", active="k2"):
        call_command("rotate_keys", "--database", alias, stdout=io.StringIO())
        assert stored() == expected
        for column in columns(registry):
            assert batches.remaining(column, kid="k2", using=alias) == {}
        for column in columns(registry):
            batches.decrypt_column(column, using=alias, log=lambda line: None)
        assert stored() == expected
