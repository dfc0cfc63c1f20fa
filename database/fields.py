"""Field types for legacy columns that Django's built-in fields cannot express exactly.

Every custom column type of the project lives here (QUIRKS.md §2-§4): ``json`` (not jsonb),
``timestamp without time zone``, the ``adminrole`` enum and text-UUID primary keys.
Secrets at rest use the encrypted and hash field types at the end (TARGET_SCHEMA.md D12, R-16).
"""

import datetime
import json
import uuid
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Value
from django.db.models.functions import Cast
from psycopg.types.json import Json

from database.secrets import crypto, formats


class LegacyJSONField(models.JSONField):
    """A ``json`` column (Django's JSONField always creates ``jsonb``).

    psycopg decodes ``json`` values itself, so values may arrive already decoded; they are
    written back with the ``json`` dumper. The jsonb-only lookups (``__contains``,
    ``__has_key``) do not work on this type: PostgreSQL has no such operators for ``json``.
    """

    description = "JSON stored in a legacy json column"

    def db_type(self, connection):
        return "json"

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str):
            return super().from_db_value(value, expression, connection)
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None or hasattr(value, "as_sql"):
            return value
        return Json(value, dumps=lambda obj: json.dumps(obj, cls=self.encoder))


class NaiveUTCDateTimeField(models.DateTimeField):
    """A ``timestamp without time zone`` column whose values mean UTC (TARGET_SCHEMA.md D10).

    Python sees aware datetimes in UTC; the database keeps naive ones, exactly as the
    legacy application wrote them with ``utcnow()``.
    """

    description = "Date and time in UTC, stored without a time zone"

    def db_type(self, connection):
        return "timestamp without time zone"

    def from_db_value(self, value, expression, connection):
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            return value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value


class PostgresEnumField(models.CharField):
    """A column of an existing PostgreSQL enum type, read and written as its labels."""

    def __init__(self, *args: Any, enum_type: str, **kwargs: Any) -> None:
        self.enum_type = enum_type
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["enum_type"] = self.enum_type
        return name, path, args, kwargs

    def db_type(self, connection):
        return self.enum_type

    def rel_db_type(self, connection):
        return self.enum_type


def new_text_uuid() -> str:
    return str(uuid.uuid4())


def text_uuid_db_default() -> Cast:
    """``(gen_random_uuid())::text``, the database default of the text-UUID keys."""
    return Cast(RandomUUID(), output_field=models.TextField())


class TextPrimaryKey(models.CharField):
    """A ``character varying`` primary key whose values the platform assigns (D15).

    Spelled ``character varying`` rather than Django's ``varchar`` so that PostgreSQL's
    schema editor adds no ``varchar_pattern_ops`` twin of the primary key: nobody searches
    keys by prefix, and every write would pay for the second index.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("primary_key", True)
        super().__init__(*args, **kwargs)

    def db_type(self, connection):
        return "character varying"


class TextUUIDPrimaryKey(TextPrimaryKey):
    """A ``character varying`` primary key holding a UUID as text (QUIRKS.md §1, D15).

    New rows get their id from Python, so the ORM knows it without a round trip; rows
    inserted by other writers get it from the column's ``gen_random_uuid()::text`` default.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", new_text_uuid)
        kwargs.setdefault("db_default", text_uuid_db_default())
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


class UUIDPrimaryKey(models.UUIDField):
    """A ``uuid`` primary key, for the tables whose platform model gives them ``uuid4()``
    keys (D15). Python assigns the id; other writers get ``gen_random_uuid()``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("default", uuid.uuid4)
        kwargs.setdefault("db_default", RandomUUID())
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


# --------------------------------------------------------------------------------------------
# Secrets at rest (TARGET_SCHEMA.md D12, D17: the **E** columns; R-16: the **H** columns).
#
# The platform writes secrets in several formats, one per writer (``database.secrets.formats``).
# A value in any of them is kept byte for byte: never shown, never wrapped again.
#
# An encrypted field's Python value is the plaintext; its column holds the platform's envelope
# (``database.secrets.crypto``). Values already in the envelope are stored unchanged (never
# encrypted twice); a value in another platform format (e.g. a token-manager blob) is read as an
# ``OpaqueSecret`` and written back verbatim; plaintext is read back as it is, because columns
# are encrypted in place online (``database.secrets.batches``) while the application keeps
# running, so rows not reached yet still hold plaintext. A wrong or missing key raises
# ``crypto.EncryptionError``. Ciphertext is random, so such columns can be tested for NULL only.
#
# A platform secret field holds a column the platform reads in its own format (a TwoFactorService
# Fernet token, a user-credentials blob, an admin's raw TOTP secret): the value is stored exactly
# as given and read back as an ``OpaqueSecret``; this project never encrypts or decrypts it.


class SecretFieldMixin:
    """Every field holding a secret; ``isinstance(field, SecretFieldMixin)`` finds them."""

    secret = True

    def get_lookup(self, lookup_name):
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, lookup_name):
        return None


class EncryptedFieldMixin(SecretFieldMixin):
    """What every encrypted field shares; ``isinstance(field, EncryptedFieldMixin)`` finds them."""

    encrypted = True
    plain_class: type[models.Field] = models.TextField  # the same column, unencrypted

    @cached_property
    def _db_default_expression(self):
        # A database default is DDL, not a secret: it stays plain (e.g. '{}'), instead of an
        # envelope under whichever key the migration happened to run with.
        expression = super()._db_default_expression
        if isinstance(expression, Value) and expression.output_field is self:
            return Value(expression.value, output_field=self.plain_class())
        return expression


def encrypted_fields(apps=None) -> Iterator[tuple[type[models.Model], models.Field]]:
    """Every field whose column holds secrets in the platform's envelope (D12), with its model:
    the one discovery of encrypted columns (``apps``: a migration's registry; default: the
    project's), over every model with a table of its own."""
    from django.apps import apps as global_apps

    for model in (apps or global_apps).get_models(include_auto_created=True):
        if model._meta.proxy or model._meta.swapped:
            continue
        for model_field in model._meta.local_concrete_fields:
            if isinstance(model_field, EncryptedFieldMixin):
                yield model, model_field


class _EncryptedStringMixin(EncryptedFieldMixin):
    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        if crypto.parse_envelope(value) is not None:
            return crypto.decrypt(value)
        if formats.is_platform_format(value):
            return formats.OpaqueSecret(value)  # another writer's format: kept as is
        return value  # plaintext not yet encrypted in place

    def to_python(self, value):
        if isinstance(value, str) and crypto.is_envelope(value):
            return crypto.decrypt(value)
        return super().to_python(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None or hasattr(value, "as_sql"):
            return value
        return _stored_form(str(value), connection)

    def value_to_string(self, obj):
        # Serialised data (dumpdata) carries the stored form, never the plaintext.
        value = self.value_from_object(obj)
        return None if value is None else _stored_form(value)


def _stored_form(value: str, connection=None) -> str:
    """What an encrypted column stores for ``value``: a platform format verbatim, else the
    envelope of it, sealed with a key the database's keyring confirms (when writing)."""
    if isinstance(value, formats.OpaqueSecret) or formats.is_platform_format(value):
        return str(value)
    _verify_key(connection)
    return crypto.encrypt(value)


def _verify_key(connection) -> None:
    if connection is not None:
        from database.secrets import keyring

        keyring.verify(connection)


class EncryptedTextField(_EncryptedStringMixin, models.TextField):
    """A ``text`` column holding one encrypted secret; the Python value is the plaintext."""

    description = "Text encrypted at rest (platform envelope)"


class EncryptedCharField(_EncryptedStringMixin, models.CharField):
    """A ``character varying`` column without a length holding one encrypted secret.

    An envelope is about 16/9 of the plaintext plus ~150 characters, so a length limit
    would reject values the application accepts: ``max_length`` is refused.
    """

    description = "Varchar encrypted at rest (platform envelope)"
    plain_class = models.CharField

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.max_length is not None:
            from django.core import checks

            errors.append(
                checks.Error(
                    "EncryptedCharField cannot have a max_length: ciphertext is longer than "
                    "the value.",
                    obj=self,
                    id="database.E110",
                )
            )
        return errors


class _EncryptedJSONMixin(EncryptedFieldMixin):
    """A json/jsonb column whose whole value is encrypted (D6); stored as the envelope object."""

    # jsonb arrives as text (Django registers a text loader); json arrives decoded by psycopg.
    _arrives_as_text = True

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if self._arrives_as_text and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        envelope = crypto.parse_envelope(value)
        if envelope is None:
            return value  # plaintext JSON not yet encrypted in place
        return json.loads(crypto.decrypt(envelope), cls=self.decoder)

    def to_python(self, value):
        if isinstance(value, (dict, str)) and crypto.is_envelope(value):
            return json.loads(crypto.decrypt(value), cls=self.decoder)
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None or hasattr(value, "as_sql"):
            return value
        return super().get_db_prep_value(self._envelope(value, connection), connection, prepared)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else self._envelope(value)

    def _envelope(self, value, connection=None) -> dict:
        if isinstance(value, (dict, str)):
            envelope = crypto.parse_envelope(value)
            if envelope is not None:
                return envelope.as_dict()
        _verify_key(connection)
        return crypto.encrypt_to_dict(json.dumps(value, cls=self.encoder))


class EncryptedJSONField(_EncryptedJSONMixin, models.JSONField):
    """A ``jsonb`` column holding a whole encrypted JSON value; Python sees the decrypted value."""

    description = "JSON encrypted at rest as a whole (platform envelope), jsonb column"
    plain_class = models.JSONField


class EncryptedLegacyJSONField(_EncryptedJSONMixin, LegacyJSONField):
    """Like ``EncryptedJSONField`` on a legacy ``json`` column (user_settings.connected_accounts
    until it is converted to jsonb)."""

    description = "JSON encrypted at rest as a whole (platform envelope), json column"
    plain_class = LegacyJSONField
    _arrives_as_text = False


class _PlatformSecretMixin(SecretFieldMixin):
    """A column the platform reads in its own format: stored as given, read back opaque."""

    encrypted = False

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return formats.OpaqueSecret(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None or hasattr(value, "as_sql"):
            return value
        return str(value)


class PlatformSecretCharField(_PlatformSecretMixin, models.CharField):
    """A ``character varying`` secret the platform writes and reads itself (2FA secrets)."""

    description = "Varchar secret in the platform's own format (never re-encrypted)"


class PlatformSecretTextField(_PlatformSecretMixin, models.TextField):
    """A ``text`` secret the platform writes and reads itself (user credentials blobs)."""

    description = "Text secret in the platform's own format (never re-encrypted)"
