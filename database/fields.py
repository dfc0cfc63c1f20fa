"""Field types for legacy columns that Django's built-in fields cannot express exactly.

Every custom column type of the project lives here (QUIRKS.md §2-§4): ``json`` (not jsonb),
``timestamp without time zone``, the ``adminrole`` enum and text-UUID primary keys.
"""

import datetime
import json
import uuid
from typing import Any

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models.functions import Cast
from psycopg.types.json import Json


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


class TextUUIDPrimaryKey(models.CharField):
    """A ``character varying`` primary key holding a UUID as text (QUIRKS.md §1).

    New rows get their id from Python, so the ORM knows it without a round trip; rows
    inserted by other writers get it from the column's ``gen_random_uuid()::text`` default.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("default", new_text_uuid)
        kwargs.setdefault("db_default", text_uuid_db_default())
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)
