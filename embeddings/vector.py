"""The pgvector column type, its HNSW index and cosine distance, without a pip dependency.

psycopg does not know the ``vector`` type, so values travel in pgvector's text form
(``[0.5,-1,2.25]``), which PostgreSQL casts from an untyped literal. pgvector stores 4-byte
floats: a value reads back as the nearest ``real``, so only values exactly representable in
single precision (such as 0.5 or 0.25) read back equal to what was written.
"""

from django.contrib.postgres.indexes import PostgresIndex
from django.core import checks, exceptions
from django.db import models


def to_text(value) -> str:
    return "[" + ",".join(repr(float(number)) for number in value) + "]"


def from_text(text: str) -> list[float]:
    inner = text.strip()[1:-1]
    return [float(number) for number in inner.split(",")] if inner else []


class VectorField(models.Field):
    """A ``vector(n)`` column (pgvector); the Python value is a list of floats."""

    description = "Vector of %(dimensions)s floats (pgvector)"
    empty_strings_allowed = False

    def __init__(self, *args, dimensions: int, **kwargs):
        self.dimensions = dimensions
        super().__init__(*args, **kwargs)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if not isinstance(self.dimensions, int) or not 0 < self.dimensions <= 16_000:
            errors.append(checks.Error("dimensions must be an integer from 1 to 16000.", obj=self))
        return errors

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["dimensions"] = self.dimensions
        return name, path, args, kwargs

    def db_type(self, connection):
        return f"vector({self.dimensions})"

    def from_db_value(self, value, expression, connection):
        return None if value is None else from_text(value)

    def to_python(self, value):
        if value is None or isinstance(value, list):
            return value
        try:
            return from_text(value) if isinstance(value, str) else [float(n) for n in value]
        except (TypeError, ValueError) as error:
            raise exceptions.ValidationError(
                "Enter a list of numbers.", code="invalid", params={"value": value}
            ) from error

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else to_text(value)

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if value is not None and len(value) != self.dimensions:
            raise exceptions.ValidationError(
                "Expected %(dimensions)s numbers, got %(count)s.",
                code="dimensions",
                params={"dimensions": self.dimensions, "count": len(value)},
            )

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else to_text(value)


class HnswIndex(PostgresIndex):
    """An HNSW index (pgvector); give the operator class, e.g. ``vector_cosine_ops``."""

    suffix = "hnsw"


class CosineDistance(models.Func):
    """``a <=> b``: pgvector's cosine distance (0 for the same direction, up to 2)."""

    arg_joiner = " <=> "
    template = "(%(expressions)s)"
    output_field = models.FloatField()

    def __init__(self, expression, vector, **extra):
        if not hasattr(vector, "resolve_expression"):
            vector = models.Value(vector, output_field=VectorField(dimensions=len(vector)))
        super().__init__(expression, vector, **extra)
