"""``platform_contract``: regenerate ``contract/application/platform_models.json`` from the
platform's own SQLAlchemy metadata.

It runs in the platform's environment (its checkout and virtualenv, with this project installed
with the ``platform`` extra): SQLAlchemy is imported only here, when the command runs. It never
connects to a database.

Exit codes: 0 written, or (``--check``) equal; 1 (``--check``) the file differs from the models,
the differences are listed; 2 cannot run: SQLAlchemy missing, the module not
importable or failing to import, the attribute missing or not a ``MetaData`` / declarative base,
no table found, the file unreadable or unwritable; 3 a bad flag.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import json
import sys
import uuid
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from database.errors import ReportsFailures
from database.schema import platform_contract

DIFFERS = 1
CANNOT_RUN = 2


class Command(ReportsFailures, BaseCommand):
    help = (
        "Write the platform's SQLAlchemy models as platform_models.json (with --check, only "
        "compare). Run it with the platform's virtualenv. Exit 0 written or equal, 1 differs, "
        "2 cannot run."
    )
    requires_system_checks = []
    uses_database = False

    def add_arguments(self, parser):
        parser.add_argument(
            "--metadata",
            required=True,
            metavar="MODULE:ATTRIBUTE",
            help="The platform's declarative base or MetaData, e.g. backend.db.database:Base "
            "(or …:Base.metadata).",
        )
        parser.add_argument(
            "--source",
            required=True,
            type=Path,
            metavar="PLATFORM_CHECKOUT",
            help="The platform's checkout; put first on sys.path before importing.",
        )
        parser.add_argument(
            "--models",
            action="append",
            default=[],
            metavar="MODULE",
            help="A module to import first so that its models register their tables "
            "(repeatable), e.g. backend.db.models.",
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="The file to write or compare (default: the contract's "
            "application/platform_models.json).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Compare with the file and exit 1 listing the differences; write nothing.",
        )

    def handle(self, *args, metadata: str, source: Path, models: list[str], **options):
        output = options["output"] or platform_contract.default_path()
        module_name, _, attribute = metadata.partition(":")
        if not module_name or not attribute:
            raise CommandError(
                f"--metadata {metadata!r} is not MODULE:ATTRIBUTE: name the module and the "
                "platform's declarative base or MetaData in it, e.g. backend.db.database:Base.",
                returncode=CANNOT_RUN,
            )
        if not source.is_dir():
            raise CommandError(
                f"--source {source} is not a directory: give the platform's checkout, the "
                f"folder {module_name.split('.')[0]}/ is in.",
                returncode=CANNOT_RUN,
            )
        _require_sqlalchemy()
        folder = str(source.resolve())
        if folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)
        for name in models:
            _import(name, source)
        target = _import(module_name, source)
        for part in attribute.split("."):  # Base, or Base.metadata
            target = getattr(target, part, _MISSING)
        if target is _MISSING:
            raise CommandError(
                f"Module {module_name} has no attribute {attribute!r}: name the platform's "
                "declarative base or MetaData (e.g. backend.db.database:Base).",
                returncode=CANNOT_RUN,
            )
        found = describe(*_metadata_and_registries(target, metadata))
        if not found:
            raise CommandError(
                f"{metadata} holds no tables: import the modules that declare the models with "
                "--models (e.g. --models backend.db.models).",
                returncode=CANNOT_RUN,
            )
        if options["check"]:
            self.compare(output, found)
            return
        try:
            output.write_text(platform_contract.dumps(found))
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}.", returncode=CANNOT_RUN) from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(found)} tables to {output}."))

    def compare(self, path: Path, found: dict) -> None:
        try:
            expected = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise CommandError(
                f"Cannot read the contract to compare with, {path}: {error}. Run without "
                "--check to write it, or give its place with --output.",
                returncode=CANNOT_RUN,
            ) from None
        differences = platform_contract.diff(expected, found)
        for difference in differences:
            self.stderr.write(f"  {difference}")
        if differences:
            raise CommandError(
                f"{path} differs from the platform's models in {len(differences)} place(s), "
                "listed above (- only in the file, + only in the models, ~ changed): run "
                "without --check to rewrite it, and review the change.",
                returncode=DIFFERS,
            )
        self.stdout.write(self.style.SUCCESS(f"{path} matches the platform's models."))


_MISSING = object()


def _require_sqlalchemy() -> None:
    try:
        import sqlalchemy
    except ImportError:
        raise CommandError(
            "SQLAlchemy is not installed in this environment. Run the command with the "
            "platform's virtualenv, with this project installed into it: "
            "pip install -e '/path/to/platform-schema[platform]'.",
            returncode=CANNOT_RUN,
        ) from None
    if not sqlalchemy.__version__.startswith("2."):
        raise CommandError(
            f"SQLAlchemy {sqlalchemy.__version__} is installed; the contract is read with "
            "SQLAlchemy 2.0, the platform's version. Run the command with the platform's "
            "virtualenv.",
            returncode=CANNOT_RUN,
        )


def _import(name: str, source: Path):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(f"{error.name}.")):
            reason = f"there is no module {error.name} under --source {source}"
        else:
            reason = (
                f"it needs {error.name}, which this environment lacks: run the command with "
                "the platform's virtualenv"
            )
        raise CommandError(f"Cannot import {name}: {reason}.", returncode=CANNOT_RUN) from None
    except Exception as error:  # the platform's own code failed while importing
        detail = " ".join(str(error).split())
        raise CommandError(
            f"Importing {name} from {source} raised {type(error).__name__}: {detail}. The "
            "platform's modules may need its environment (its .env or variables) to import.",
            returncode=CANNOT_RUN,
        ) from None


def _metadata_and_registries(target, spelled: str):
    """The ``MetaData`` and the ORM registries whose mapped classes use it."""
    from sqlalchemy import MetaData
    from sqlalchemy.orm import mapperlib
    from sqlalchemy.orm import registry as Registry

    if isinstance(target, MetaData):
        metadata = target
    elif isinstance(getattr(target, "metadata", None), MetaData):  # a base, or a registry
        metadata = target.metadata
    else:
        raise CommandError(
            f"{spelled} is a {type(target).__name__}, not a SQLAlchemy MetaData or declarative "
            "base: name the platform's Base (e.g. backend.db.database:Base) or its metadata.",
            returncode=CANNOT_RUN,
        )
    registries = [
        registry
        for registry in list(mapperlib._mapper_registries)
        if isinstance(registry, Registry) and registry.metadata is metadata
    ]
    return metadata, registries


# --------------------------------------------------------------------------- the description


def describe(metadata, registries=()) -> dict[str, Any]:
    """The contract's data for ``metadata``: per table its columns, mapped classes and
    multi-column unique constraints (PLATFORM.md explains every key)."""
    from sqlalchemy import UniqueConstraint

    classes: dict[str, set[str]] = {}
    for registry in registries:
        for mapper in registry.mappers:
            table = mapper.local_table
            if table is not None and table.metadata is metadata:
                cls = mapper.class_
                classes.setdefault(table.fullname, set()).add(
                    f"{cls.__module__}.{cls.__qualname__}"
                )
    described = {}
    for name, table in metadata.tables.items():
        spec: dict[str, Any] = {"columns": [_column(column) for column in table.columns]}
        if classes.get(name):
            spec["classes"] = sorted(classes[name])
        groups = sorted(
            sorted(column.name for column in constraint.columns)
            for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint) and not constraint._column_flag
        )
        if groups:
            spec["unique_together"] = groups
        described[name] = spec
    return described


def _column(column) -> dict[str, Any]:
    from sqlalchemy import DateTime, Uuid

    spec: dict[str, Any] = {
        "name": column.name,
        "type": _type(column),
        "nullable": bool(column.nullable),
    }
    for flag in ("primary_key", "unique", "index"):
        if getattr(column, flag):
            spec[flag] = True
    if isinstance(column.type, DateTime):
        spec["timezone_aware"] = bool(column.type.timezone)
    if isinstance(column.type, Uuid) and column.type.as_uuid:
        spec["python_uuid_objects"] = True
    if column.default is not None:
        spec["default"] = _default(column.default)
    if (server_default := _server_default(column)) is not None:
        spec["server_default"] = server_default
    foreign_keys = []
    for foreign_key in column.foreign_keys:
        reference = {"references": foreign_key.target_fullname}
        if foreign_key.ondelete:
            reference["on_delete"] = foreign_key.ondelete.upper()
        foreign_keys.append(reference)
    if foreign_keys:
        spec["foreign_keys"] = sorted(foreign_keys, key=lambda fk: fk["references"])
    return spec


def _dialect():
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect()


def _type(column) -> str:
    try:
        return column.type.compile(dialect=_dialect())
    except Exception as error:  # a custom type without a PostgreSQL rendering
        raise CommandError(
            f"Cannot render the type of {column.table.fullname}.{column.name} "
            f"({column.type!r}) for PostgreSQL: {error}. Is the type's SQLAlchemy extension "
            "installed and imported (--models)?",
            returncode=CANNOT_RUN,
        ) from None


def _sql(expression) -> str:
    return str(expression.compile(dialect=_dialect(), compile_kwargs={"literal_binds": True}))


def _server_default(column) -> str | None:
    """The SQL text of the column's ``DEFAULT``, exactly as ``CREATE TABLE`` renders it."""
    dialect = _dialect()
    return dialect.ddl_compiler(dialect, None).get_column_default_string(column)


def _default(default) -> dict[str, Any]:
    """What the application sends for an unset attribute (PLATFORM.md, ``default``)."""
    from sqlalchemy import Sequence

    if isinstance(default, Sequence):
        return {"sql_by_app": f"nextval('{default.name}')"}
    if default.is_scalar:
        return {"value": _jsonable(default.arg)}
    if default.is_clause_element:
        return {"sql_by_app": _sql(default.arg)}
    if default.is_callable:
        return _generated(default.arg)
    raise CommandError(f"Unknown kind of column default: {default!r}", returncode=CANNOT_RUN)


def _generated(function) -> dict[str, Any]:
    """Classify a Python-side default by what it returns.

    ``str(uuid4())``: a canonical UUID string; ``uuid4()``: a ``uuid.UUID``; ``naive UTC now``:
    a naive ``datetime``. A callable that returns the same JSON value each time (``dict``,
    ``list``, ``lambda: "draft"``) is a constant: ``value``, as if declared ``default={}``.
    Anything else is named by the callable's dotted name.
    """
    results = [_call(function), _call(function)]
    first = results[0]
    if isinstance(first, uuid.UUID):
        return {"generated_by_app": "uuid4()"}
    if isinstance(first, str) and _is_canonical_uuid(first):
        return {"generated_by_app": "str(uuid4())"}
    if isinstance(first, datetime.datetime) and first.tzinfo is None:
        return {"generated_by_app": "naive UTC now"}
    if first is not _FAILED and _is_json(first) and _same(*results):
        return {"value": first}
    return {"generated_by_app": _dotted_name(function)}


_FAILED = object()


def _call(function):
    """Call a default as SQLAlchemy would at INSERT time, with an empty dummy context."""
    context = SimpleNamespace(
        current_parameters={},
        get_current_parameters=lambda isolate_multiinsert_groups=True: {},
        current_column=None,
        engine=None,
        connection=None,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # datetime.utcnow() is deprecated in 3.12
            return function(context)
    except Exception:
        return _FAILED


def _is_canonical_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _is_json(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_is_json(item) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


def _same(first, second) -> bool:
    return json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def _jsonable(value):
    """A constant default as JSON: an enum member by its value (what the contract records for
    ``Enum`` columns), tuples as lists, anything else JSON cannot hold by its ``repr``."""
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _dotted_name(function) -> str:
    original = getattr(function, "__wrapped__", function)  # SQLAlchemy wraps zero-arg callables
    qualified = getattr(original, "__qualname__", None) or getattr(original, "__name__", None)
    if qualified is None:
        qualified = type(original).__qualname__
    module = getattr(original, "__module__", None)
    return qualified if module in (None, "builtins") else f"{module}.{qualified}"
