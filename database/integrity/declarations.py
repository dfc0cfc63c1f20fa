"""What the models say about the data beyond what the database enforces.

Everything here is read from Django's model registry, so the checks learn about the domain
without importing it. Besides ordinary ``ForeignKey`` fields (with or without
``db_constraint``), a model may declare, as plain class attributes:

``implied_references = {"column": ("table", "column")}``
    a column that points at another table with no ``ForeignKey`` at all: the target may not
    exist yet, or its key may have another type (then values are compared as text).
``required_values = {"field": Q(...)}``
    a nullable column the domain requires a value in, wherever the condition holds
    (``Q()``: in every row).
``unique_values = {"field": expression}``
    a field whose values the domain expects to be unique although no constraint says so,
    compared through ``expression`` (``Lower("email")`` for case-insensitive, ``F("user")``).
    A ``UniqueConstraint`` (or ``unique=True``) of the model that the live database lacks
    is an expectation of the same kind: the duplicates that would stop it are listed.
``conflicting_values = {"field": Q(...)}``
    the rows in which ``field`` disagrees with other values: the condition describes the
    conflict itself.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


@dataclass(frozen=True)
class Reference:
    """``table(columns)`` is meant to point at ``target_table(target_columns)``."""

    table: str
    columns: tuple[str, ...]
    target_table: str
    target_columns: tuple[str, ...]
    declared_by: str  # "ForeignKey" or "implied_references", for messages

    @property
    def where(self) -> str:
        return f"{self.table}.{', '.join(self.columns)}"

    @property
    def target(self) -> str:
        return f"{self.target_table}.{', '.join(self.target_columns)}"


@dataclass(frozen=True)
class Declaration:
    """One ``required_values``/``unique_values``/``conflicting_values`` entry."""

    model: type[models.Model]
    field: models.Field
    rule: object  # a Q for required/conflicting values, an expression for unique values

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def column(self) -> str:
        return self.field.column


@dataclass(frozen=True)
class UniqueExpectation:
    """Rows of ``model`` should not share ``keys`` (where ``condition`` holds)."""

    model: type[models.Model]
    columns: tuple[str, ...]
    keys: tuple[object, ...]  # expressions compared together
    condition: models.Q
    compared: str  # how the values are compared, for messages
    declared: bool  # by unique_values (always checked), not by a constraint

    @property
    def table(self) -> str:
        return self.model._meta.db_table


def unique_expectations() -> Iterator[UniqueExpectation]:
    """``unique_values`` entries, then every unique constraint the models declare."""
    for entry in declarations("unique_values"):
        compared = f"{entry.column} ignoring case" if isinstance(entry.rule, Lower) else ""
        yield UniqueExpectation(
            entry.model,
            (entry.column,),
            (entry.rule,),
            models.Q(),
            compared or f"{entry.column} (compared as {entry.rule})",
            declared=True,
        )
    for model in concrete_models():
        for fields, condition in _unique_field_sets(model):
            columns = tuple(model._meta.get_field(name).column for name in fields)
            yield UniqueExpectation(
                model,
                columns,
                tuple(models.F(name) for name in fields),
                condition or models.Q(),
                ", ".join(columns),
                declared=False,
            )


def _unique_field_sets(model) -> Iterator[tuple[tuple[str, ...], models.Q | None]]:
    for field in model._meta.local_concrete_fields:
        if field.unique and not field.primary_key:
            yield (field.name,), None
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            yield tuple(constraint.fields), constraint.condition


def concrete_models() -> list[type[models.Model]]:
    """Every model with a table of its own, including automatic many-to-many tables."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy and not model._meta.swapped
    ]


def is_project_app(app_config: AppConfig) -> bool:
    """True for the project's own apps; False for Django's and other installed packages."""
    path = Path(app_config.path).resolve()
    base = Path(settings.BASE_DIR).resolve()
    return path.is_relative_to(base) and not any(
        part in {".venv", "site-packages"} for part in path.relative_to(base).parts
    )


def project_app_labels() -> set[str]:
    return {config.label for config in apps.get_app_configs() if is_project_app(config)}


def foreign_tables() -> set[str]:
    """Tables of apps the project does not own (django.contrib and other packages).

    Their indexes are designed by their own migrations, which no migration here can change,
    so the index-design checks leave them out; their data is checked like any other.
    """
    return {
        model._meta.db_table
        for model in concrete_models()
        if not is_project_app(model._meta.app_config)
    }


def model_references() -> Iterator[Reference]:
    """Every reference the models declare: foreign keys, then implied references."""
    for model in concrete_models():
        table = model._meta.db_table
        for field in model._meta.local_concrete_fields:
            if field.many_to_one or field.one_to_one:
                yield Reference(
                    table,
                    (field.column,),
                    field.related_model._meta.db_table,
                    (field.target_field.column,),
                    "ForeignKey",
                )
        for column, (target_table, target_column) in _declared(model, "implied_references"):
            yield Reference(table, (column,), target_table, (target_column,), "implied_references")


def declarations(attribute: str) -> Iterator[Declaration]:
    """The entries of ``attribute`` (``required_values``…) over every model, in order."""
    for model in concrete_models():
        for name, rule in _declared(model, attribute):
            yield Declaration(model, model._meta.get_field(name), rule)


def _declared(model: type[models.Model], attribute: str) -> list[tuple[str, object]]:
    return list(getattr(model, attribute, {}).items())


_LOOKUPS = {
    "exact": "=",
    "iexact": "= (ignoring case)",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "in": "in",
    "contains": "contains",
}


def describe_condition(condition: models.Q) -> str:
    """A ``Q`` as a short phrase for a message: ``tier = 'premium' and status = 'free'``."""
    parts = []
    for child in condition.children:
        if isinstance(child, models.Q):
            parts.append(f"({describe_condition(child)})")
            continue
        lookup, value = child
        path, _, last = lookup.rpartition("__")
        if last == "isnull":
            parts.append(f"{path} is {'' if value else 'not '}null")
        elif last in _LOOKUPS:
            parts.append(f"{path} {_LOOKUPS[last]} {value!r}")
        else:
            parts.append(f"{lookup} = {value!r}")
    text = f" {condition.connector.lower()} ".join(parts)
    return f"not ({text})" if condition.negated else text
