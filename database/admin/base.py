"""The project's admin base: safe on tables of millions of rows, and secrets never shown.

``PlatformAdmin`` is the one base ``ModelAdmin`` of every domain model (STYLE.md §8):

- no full ``COUNT(*)``: ``show_full_result_count = False`` and ``EstimatedCountPaginator``,
  which counts exactly only up to ``EXACT_COUNT_LIMIT`` rows and asks the planner beyond;
  no facet counts, no date hierarchy;
- every relation is a raw-id widget (no ``<select>`` of a whole table); each admin spells out
  ``list_select_related`` for the relations it lists (a test holds them to it);
- search is equality on indexed columns only (``search_fields`` name columns, not lookups;
  terms that are not valid values of a column are skipped), sorting only on indexed columns,
  and list filters that read distinct values through an index (``IndexedValuesFilter``);
- secrets (``secret_fields``: the encrypted, platform-secret and hash field types, and columns
  known to hold secrets until the forward migrations swap their field types) are deferred in
  every query, left out of every form, list, search and filter, and shown on the change page
  only as a masked hint computed in SQL: the key id of an envelope, else the format
  (``database.secrets.formats``) and length ("•••• (token-manager blob, 184 chars)"); their
  values never reach Python in the admin: related rows (raw-id labels and their
  validation, relations shown read-only, the objects a deletion would take along) are
  loaded without them too, so a wrong or missing encryption key cannot break a page.
  Bulk actions are off (``delete_selected`` would load whole related sets);
- an object id that no row could have (not a value of the key's type, too long, a NUL
  character) is a 404, as for a page that does not exist; a well-formed id of a missing
  row keeps Django's redirect to the index with its "does not exist" message;
- changelists fit a 1280-pixel screen: dates and times are listed compactly
  (``2025-09-02 14:15``, the exact value on hover), and the changelist template
  (``admin/database/change_list.html``) makes the result table fit its box: first by
  dropping the time of day from the list, then by narrowing the widest columns, cutting long
  values with an ellipsis and giving them their full text as a tooltip.

``ReadOnlyAdmin`` adds: nobody adds, changes or deletes (legacy-only, audit tables).
"""

from __future__ import annotations

import datetime
import json
import re
from functools import cached_property

from django.contrib import admin
from django.contrib.admin.utils import NestedObjects, get_last_value_from_parameters, quote
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db import models, router
from django.db.models import Func, Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _

from database.fields import SecretFieldMixin
from database.secrets import formats

EXACT_COUNT_LIMIT = 10_000
FILTER_CHOICES_LIMIT = 50

# --------------------------------------------------------------------------------- secrets

# Column names that hold secrets (TARGET_SCHEMA.md S column), recognised before the forward
# migrations give them their encrypted or hash field types: tokens, secrets, passwords and
# credentials, the hashes that replace API keys and invitation tokens, 2FA backup codes.
SECRET_NAME = re.compile(
    r"(^|_)(password|secret|token|credentials?|api_key)$|(^|_)(token|key|secret)_hash$"
    r"|backup_codes$"
)
# Secrets whose names say nothing: (table, column) -> kind.
SECRET_COLUMNS = {
    ("registration_keys", "key"): "hash",
    ("user_settings", "connected_accounts"): "encrypted",
}
HASH_NAME = re.compile(r"hash|password|backup_codes")
TEXT_TYPES = {"CharField", "TextField", "JSONField"}


def model_field_is_json(model, name: str) -> bool:
    return model._meta.get_field(name).get_internal_type() == "JSONField"


def secret_fields(model) -> dict[str, str]:
    """``{field name: "encrypted" | "hash"}`` for every concrete field of ``model`` holding a
    secret. "encrypted" means a value the platform reads back (shown as its key id at most),
    "hash" a value only ever compared (shown as hidden)."""
    found = {}
    for field in model._meta.concrete_fields:
        if field.is_relation or field.primary_key:
            continue
        known = SECRET_COLUMNS.get((model._meta.db_table, field.column))
        if isinstance(field, SecretFieldMixin):
            found[field.name] = "encrypted"
        elif known:
            found[field.name] = known
        elif SECRET_NAME.search(field.name) and field.get_internal_type() in TEXT_TYPES:
            found[field.name] = "hash" if HASH_NAME.search(field.name) else "encrypted"
    return found


def without_secrets(queryset):
    """``queryset`` with the secret columns of its model deferred: never read, never
    decrypted (a wrong or missing key cannot fail on them)."""
    secrets = secret_fields(queryset.model)
    return queryset.defer(*secrets) if secrets else queryset


class SecretFreeRawIdWidget(ForeignKeyRawIdWidget):
    """Django's raw-id widget, whose label (the related row's ``__str__``) is read without
    the related row's secrets."""

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field()
        rows = without_secrets(self.rel.model._default_manager.using(self.db).all())
        try:
            related = rows.get(**{key.name: valid_key(key, value)})
        except (self.rel.model.DoesNotExist, Http404):
            return "", ""
        return Truncator(related).words(14), change_url(self.admin_site, related)


class SecretFreeCollector(NestedObjects):
    """What the delete page lists: the related rows (and the rows they are listed with),
    loaded without their secrets."""

    def related_objects(self, related_model, related_fields, objs):
        rows = super().related_objects(related_model, related_fields, objs)
        deferred = [
            f"{field.name}__{name}"
            for field in related_fields
            for name in secret_fields(field.remote_field.model)
        ]
        return without_secrets(rows).defer(*deferred)


def deleted_objects(objs, request, admin_site):
    """``django.contrib.admin.utils.get_deleted_objects`` with ``SecretFreeCollector``:
    what deleting ``objs`` would take along, as the delete page lists it."""
    try:
        first = objs[0]
    except IndexError:
        return [], {}, set(), []
    collector = SecretFreeCollector(using=router.db_for_write(first._meta.model), origin=objs)
    collector.collect(objs)
    perms_needed = set()

    def format_callback(obj):
        meta = obj._meta
        label = capfirst(meta.verbose_name)
        if not admin_site.is_registered(obj.__class__):
            return f"{label}: {obj}"
        if not admin_site.get_model_admin(obj.__class__).has_delete_permission(request, obj):
            perms_needed.add(meta.verbose_name)
        url = change_url(admin_site, obj)
        if not url:
            return f"{label}: {obj}"
        return format_html('{}: <a href="{}">{}</a>', label, url, obj)

    to_delete = collector.nested(format_callback)
    protected = [format_callback(obj) for obj in collector.protected]
    model_count = {
        model._meta.verbose_name_plural: len(rows) for model, rows in collector.model_objs.items()
    }
    return to_delete, model_count, perms_needed, protected


def change_url(admin_site, obj) -> str:
    """The change page of ``obj`` in ``admin_site``, or "" where it has none."""
    meta = obj._meta
    try:
        return reverse(
            f"{admin_site.name}:{meta.app_label}_{meta.model_name}_change", args=[quote(obj.pk)]
        )
    except NoReverseMatch:
        return ""


def valid_key(field, text):
    """The value of the key ``field`` that ``text`` names; Http404 when no row could have it:
    not a value of the field's type, out of its range or too long, or holding a NUL
    character (which PostgreSQL refuses in text)."""
    try:
        value = field.to_python(text)
        field.run_validators(value)
        field.get_prep_value(value)
    except (ValidationError, ValueError, TypeError, OverflowError):
        raise Http404("No such object: the id is not a valid key") from None
    if "\x00" in str(value):
        raise Http404("No such object: the id is not a valid key")
    return value


class SecretState(Func):
    """What may be said of a secret column's value, computed in SQL: NULL when NULL, else
    ``<format>|<length>``, the format as ``database.secrets.formats.sql_format`` names it
    (``envelope:<key id>``, ``token-manager blob``, ``Fernet token``, ``plaintext``, …)."""

    output_field = models.TextField()

    def __init__(self, expression, *, is_json: bool = False, **extra):
        state = formats.sql_format("%(expressions)s", is_json=is_json)
        length = "pg_catalog.length((%(expressions)s)::text)"
        extra["template"] = f"(({state}) || '|' || {length})"
        super().__init__(expression, **extra)


def secret_hint(kind: str, state: str | None, expected: frozenset[str] = frozenset()) -> str:
    """The masked hint for a ``SecretState``: the format and length at most, never the value.
    ``expected``: the formats the column's reader reads (names a blob valid in both
    base64 alphabets)."""
    if state is None:
        return "—"
    fmt, _, length = state.rpartition("|")
    if fmt == formats.EMPTY:
        return "(empty)"
    if kind == "hash":
        return "•••• (hidden)"
    kid = formats.state_kid(fmt)
    if kid is not None:
        return f"•••• (encrypted, kid {kid})"
    if fmt == formats.PLAINTEXT:
        return f"•••• (not encrypted, {length} chars)"
    return f"•••• ({formats.name_sql_format(fmt, expected)}, {length} chars)"


def _state_attribute(name: str) -> str:
    return f"secret_state_{name}"


def _secret_display(name: str, kind: str, label: str, expected: frozenset[str] = frozenset()):
    def display(obj):
        return secret_hint(kind, getattr(obj, _state_attribute(name), None), expected)

    display.short_description = f"{label} (secret)"
    display.__name__ = f"masked_{name}"
    return display


# ------------------------------------------------------------------------------- counting


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to ``EXACT_COUNT_LIMIT`` rows, then trusts the planner's estimate.

    The exact part reads at most that many index entries; beyond it ``EXPLAIN`` gives the
    estimated row count of the (filtered) query, which is what a person paging through
    millions of rows needs. ``estimated`` tells the template to say "about".
    """

    estimated = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, models.QuerySet):
            return super().count
        exact = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        if exact <= EXACT_COUNT_LIMIT:
            return exact
        self.estimated = True
        try:
            plan = json.loads(queryset.order_by().explain(format="json"))
            return max(exact, int(plan[0]["Plan"]["Plan Rows"]))
        except (ValueError, KeyError, IndexError, TypeError):
            return exact


# -------------------------------------------------------------------------------- filters


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """The distinct values of an indexed column, read by skipping through its index.

    ``AllValuesFieldListFilter`` runs ``SELECT DISTINCT`` over the whole table; this walks the
    index with a recursive query that costs one index probe per distinct value, capped at
    ``FILTER_CHOICES_LIMIT`` values. Use it only on columns that lead an index.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg = field_path
        self.lookup_kwarg_isnull = f"{field_path}__isnull"
        self.lookup_val = params.get(self.lookup_kwarg)
        self.lookup_val_isnull = get_last_value_from_parameters(params, self.lookup_kwarg_isnull)
        self.empty_value_display = model_admin.get_empty_value_display()
        self.lookup_choices = distinct_indexed_values(model, field)
        admin.FieldListFilter.__init__(
            self, field, request, params, model, model_admin, field_path
        )


def distinct_indexed_values(model, field, limit: int = FILTER_CHOICES_LIMIT) -> list:
    from django.db import connections

    connection = connections[router.db_for_read(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(field.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE walk(value) AS (
                (SELECT {column} FROM {table} WHERE {column} IS NOT NULL
                 ORDER BY {column} LIMIT 1)
                UNION ALL
                SELECT (SELECT {column} FROM {table} WHERE {column} > walk.value
                        ORDER BY {column} LIMIT 1)
                FROM walk WHERE walk.value IS NOT NULL
            )
            SELECT value FROM walk WHERE value IS NOT NULL LIMIT %s
            """,
            [limit],
        )
        values = [field.to_python(row[0]) for row in cursor.fetchall()]
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {column} IS NULL)")
        if cursor.fetchone()[0]:
            values.append(None)
    return values


def indexed_columns(model) -> set[str]:
    """Names of the fields that lead a B-tree index (or are unique / the primary key)."""
    names = set()
    for field in model._meta.concrete_fields:
        if field.primary_key or field.unique or field.db_index:
            names.add(field.name)
    for index in model._meta.indexes:
        plain = type(index) is models.Index and index.condition is None
        if plain and getattr(index, "fields", None):
            names.add(index.fields[0].lstrip("-"))
    for constraint in model._meta.constraints:
        unique = isinstance(constraint, models.UniqueConstraint) and constraint.condition is None
        if unique and constraint.fields:
            names.add(constraint.fields[0])
    return names


# ------------------------------------------------------------------------ list columns

COMPACT_TYPES = ("DateTimeField", "DateField")


def compact_column(field):
    """A list column showing ``field`` (a date or date-time) as ``2025-09-02 14:15``, with the
    exact value on hover; the time of day is a ``.clock`` the changelist template hides when
    the columns do not fit. The column keeps the field's name (its CSS class
    ``field-<name>``), label and ordering."""

    def column(obj):
        value = getattr(obj, field.attname)
        if value is None:
            return None
        if not isinstance(value, datetime.datetime):
            return format_html('<time datetime="{0}" title="{0}">{0}</time>', value.isoformat())
        value = timezone.template_localtime(value)
        return format_html(
            '<time datetime="{0}" title="{0}">{1}<span class="clock"> {2}</span></time>',
            value.isoformat(),
            value.strftime("%Y-%m-%d"),
            value.strftime("%H:%M"),
        )

    column.__name__ = field.name
    column.short_description = field.verbose_name
    column.admin_order_field = field.name
    return column


# ---------------------------------------------------------------------------- the base


class PlatformAdmin(admin.ModelAdmin):
    """Base admin of every domain model; see the module docstring."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    list_max_show_all = 200
    actions = None
    list_select_related = ()  # each admin names the relations its list shows
    # Columns searched by equality; each must lead an index (checked by a test).
    search_fields = ()
    search_help_text = _("Exact value of an indexed column (id, public id, email…).")
    # Fits the result table to the page: long values end in an ellipsis, full text on hover.
    change_list_template = "admin/database/change_list.html"

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        self.secrets = secret_fields(model)
        relations = tuple(
            field.name
            for field in [*model._meta.concrete_fields, *model._meta.many_to_many]
            if field.is_relation and field.editable and not field.primary_key
        )
        if not self.raw_id_fields:
            self.raw_id_fields = relations
        self.list_display = tuple(name for name in self.list_display if name not in self.secrets)

    # -- queries

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        deferred = list(self.secrets)
        for relation in self.list_select_related:
            related = self.model._meta.get_field(relation).related_model
            deferred += [f"{relation}__{name}" for name in secret_fields(related)]
        return queryset.defer(*deferred) if deferred else queryset

    def get_object(self, request, object_id, from_field=None):
        """The row, its secrets as masked states computed in SQL; Http404 for an id no row
        could have (``valid_key``), None for a missing row (Django redirects to the index).
        Relations shown read-only are loaded here, without their secrets."""
        queryset = self.get_queryset(request).annotate(
            **{
                _state_attribute(name): SecretState(
                    name, is_json=model_field_is_json(self.model, name)
                )
                for name in self.secrets
            }
        )
        model = queryset.model
        field = model._meta.pk if from_field is None else model._meta.get_field(from_field)
        try:
            obj = queryset.get(**{field.name: valid_key(field, object_id)})
        except model.DoesNotExist:
            return None
        if not self.has_change_permission(request):
            self._load_relations_without_secrets(obj)
        return obj

    def _load_relations_without_secrets(self, obj) -> None:
        """Shown read-only, a relation is displayed as its row's ``__str__``; load those rows
        here without their secrets (a dangling reference shows as empty)."""
        for field in obj._meta.concrete_fields:
            if not field.many_to_one and not field.one_to_one:
                continue
            value = getattr(obj, field.attname)
            if value is None or field.is_cached(obj):
                continue
            related = field.remote_field.model._base_manager.db_manager(obj._state.db)
            target = field.target_field
            field.set_cached_value(
                obj, without_secrets(related.filter(**{target.attname: value})).first()
            )

    def get_search_results(self, request, queryset, search_term):
        """Equality on each search column for which the term is a valid value (index use)."""
        term = search_term.strip()
        if not term or not self.search_fields:
            return queryset, False
        condition = Q()
        for name in self.search_fields:
            field = self.model._meta.get_field(name)
            try:
                value = field.to_python(term)
                field.get_prep_value(value)
            except (ValidationError, ValueError, TypeError):
                continue
            condition |= Q(**{name: value})
        if not condition:
            return queryset.none(), False
        return queryset.filter(condition), False

    def get_list_display(self, request):
        return tuple(self._list_column(entry) for entry in super().get_list_display(request))

    def _list_column(self, entry):
        """Dates and date-times become compact columns, the same callable on every call
        (``sortable_by`` matches columns by identity)."""
        if not isinstance(entry, str):
            return entry
        try:
            field = self.model._meta.get_field(entry)
        except FieldDoesNotExist:
            return entry
        if field.get_internal_type() not in COMPACT_TYPES:
            return entry
        if entry not in self._compact_columns:
            self._compact_columns[entry] = compact_column(field)
        return self._compact_columns[entry]

    @cached_property
    def _compact_columns(self) -> dict:
        return {}

    def get_sortable_by(self, request):
        indexed = indexed_columns(self.model) | {"pk"}
        return [
            entry
            for entry in self.get_list_display(request)
            if getattr(entry, "__name__", entry) in indexed
        ]

    # -- forms: secrets are never a form field; the change page shows a masked hint

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.raw_id_fields:
            kwargs["widget"] = SecretFreeRawIdWidget(
                db_field.remote_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_field_queryset(self, db, db_field, request):
        """The rows a relation's form field validates against, read without their secrets."""
        queryset = super().get_field_queryset(db, db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(db).all()
        return without_secrets(queryset)

    def get_deleted_objects(self, objs, request):
        return deleted_objects(objs, request, self.admin_site)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        # Legacy columns are nullable without ``blank=True``: NULL is a legal value to keep.
        if formfield is not None and db_field.null:
            formfield.required = False
        return formfield

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or ()), *self.secrets]

    def save_model(self, request, obj, form, change):
        """On change, write only the columns the person changed (plus ``auto_now`` ones).

        A round trip through the form would otherwise rewrite every column: timestamps lose
        their microseconds (the admin widgets drop them), and values the running application
        changed meanwhile would be overwritten with what the form loaded.
        """
        if not change:
            return super().save_model(request, obj, form, change)
        concrete = {field.name: field for field in obj._meta.concrete_fields}
        changed = [name for name in form.changed_data if name in concrete]
        if changed:
            changed += [
                name
                for name, field in concrete.items()
                if getattr(field, "auto_now", False) and name not in changed
            ]
            obj.save(update_fields=changed)
        return None

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if "public_id" not in readonly and any(
            field.name == "public_id" for field in self.model._meta.concrete_fields
        ):
            # Database-generated and never editable, but an operator needs to see it.
            readonly.insert(0, "public_id")
        if obj is not None:
            # The same callables on every call: Django matches readonly fields by identity.
            readonly += self.masked_secrets
        return readonly

    @cached_property
    def masked_secrets(self) -> list:
        return [
            _secret_display(
                name, kind, self.model._meta.get_field(name).verbose_name, self._reads(name)
            )
            for name, kind in self.secrets.items()
        ]

    def _reads(self, name: str) -> frozenset[str]:
        column = self.model._meta.get_field(name).column
        secret = formats.column(self.model._meta.db_table, column)
        return secret.reads if secret else frozenset()


class ReadOnlyAdmin(PlatformAdmin):
    """Viewable, never written through the admin: legacy-only tables and audit trails."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# ------------------------------------------------------------------- Django's own admins


class MalformedIdsNotFound:
    """For admins not built on ``PlatformAdmin`` (Django's own): an object id no row could
    have is a 404 there too (``valid_key``)."""

    def get_object(self, request, object_id, from_field=None):
        meta = self.model._meta
        valid_key(meta.pk if from_field is None else meta.get_field(from_field), object_id)
        return super().get_object(request, object_id, from_field)


def refuse_malformed_ids_in_django_admins(site=admin.site) -> None:
    """Re-register the admins of Django's own models (the admin's logins and groups) with
    ``MalformedIdsNotFound``."""
    from django.contrib.auth import admin as auth_admin  # registers them on import
    from django.contrib.auth import models as auth_models

    for model, admin_class in (
        (auth_models.User, auth_admin.UserAdmin),
        (auth_models.Group, auth_admin.GroupAdmin),
    ):
        if site.is_registered(model):
            site.unregister(model)
        strict = type(admin_class.__name__, (MalformedIdsNotFound, admin_class), {})
        site.register(model, strict)


refuse_malformed_ids_in_django_admins()
