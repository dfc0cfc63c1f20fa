"""The admin on the upgraded sample production database: every page, bounded queries, no
secret in any page, and a read-only inspector.

The admin is pointed at ``adopted_alias`` (production's contract schema and sample rows,
adopted with ``migrate --fake-initial`` and migrated to the latest state) by a router; tables
the sample leaves empty get one row from the app's factories.
"""

import importlib
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from database.admin import views
from database.admin.base import (
    EXACT_COUNT_LIMIT,
    IndexedValuesFilter,
    PlatformAdmin,
    ReadOnlyAdmin,
    indexed_columns,
    secret_fields,
    without_secrets,
)
from database.admin.inspector import INSPECTOR_GROUP

DOMAIN_APPS = ("accounts", "organizations", "goals", "content", "social", "workflows", "research")
PASSWORD = "correct horse battery staple 42"

# Every secret sample_data.sql seeds (contract/legacy/sample_data.sql).
SAMPLE_SECRETS = [
    "DUMMY-IG-ACCESS-TOKEN-0001",
    "DUMMY-FB-PAGE-TOKEN-0002",
    "WWS2PEBWTYYRCLSVOXGRCAS44SYU5IRW",
    "5XWwOaBkQ9TE-mEHH_WE1hRwsocKEyOKXtVAwivgnUo",
    # registration keys
    "xrAlKcigKb37kVx4w1ld79RF9cmOpXeqyX5dO4MgRnk",
    "YCmjg0MWugKyIbdI42vSFFFp8Ilb8EutiZ5hc-wD4KA",
    # password hashes of users and admin users
    "$2b$12$.s0Q1CEH8UNs1KHWgfpMMZs9BdC29hCnyqcS0AMgEMmPEKnD.3Sr8",
    "$2b$12$lRrhXORj3//o/t/2Mv8V6TWc.BL7AFpOUkbh2d3.xIkYVfpyvrXL2",
    "$2b$12$4hkZJ4yfDPEnQlANgGLQcMNaPAzD/fwkLYLr6n6WkbIqjGjDf4oq/",
    "$2b$12$MhCGxbYQhVy8IjF7k4iL409PVwDSUNW9/IMxBZQGIWP3ZaQLvt5y0",
    "$2b$12$Y/BJEA4U80nBM2VhukXAlwKZdX/Tfl7D7YgcYLMry4KCOsHEKucW.",
    "$2b$12$RAiM.tpCBpQZ5E4jk0nHpsdIVofTFVlVzNnWNp/RdcFVwY2Fee/c2",
    "$2b$12$dc2Bn1WgBok9iIuVOz2sy/1QYgVcPRg5Qy9UGpYehkmOZxkAQZCkA",
    # 2FA backup codes of user 1
    "7F33-BC28",
    "F465-EDA1",
]
# Fragments that would betray a secret even when cut or escaped in HTML.
SECRET_FRAGMENTS = [*SAMPLE_SECRETS, "DUMMY-IG", "DUMMY-FB", "WWS2PEBW", "5XWwOaBk", "$2b$12$"]


def domain_models():
    return [model for label in DOMAIN_APPS for model in apps.get_app_config(label).get_models()]


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


class AliasRouter:
    """Sends every query to one database (the adopted copy)."""

    def __init__(self, alias):
        self.alias = alias

    def db_for_read(self, model, **hints):
        return self.alias

    def db_for_write(self, model, **hints):
        return self.alias

    def allow_relation(self, obj1, obj2, **hints):
        return True


@dataclass
class AdminDatabase:
    alias: str
    superuser: object
    inspector: object
    objects: dict = field(default_factory=dict)  # model -> primary key of one row

    def client(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    @property
    def connection(self):
        return connections[self.alias]


def factory_for(model):
    module = importlib.import_module(f"{model._meta.app_label}.factories")
    return getattr(module, f"{model.__name__}Factory")


@pytest.fixture
def admin_db(adopted_alias):
    """The adopted sample production database behind the admin, with a superuser, an
    inspector, and at least one row in every domain table."""
    with override_settings(DATABASE_ROUTERS=[AliasRouter(adopted_alias)]):
        ContentType.objects.clear_cache()
        forget_integrity_reports()
        user_model = get_user_model()
        superuser = user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
        inspector = user_model.objects.create_user(
            "inspector", "inspector@example.com", PASSWORD, is_staff=True
        )
        inspector.groups.add(Group.objects.get(name=INSPECTOR_GROUP))
        objects = {}
        for model in domain_models():
            row = model._default_manager.order_by("pk").first() or factory_for(model)()
            objects[model] = row.pk
        yield AdminDatabase(adopted_alias, superuser, inspector, objects)
        ContentType.objects.clear_cache()
        forget_integrity_reports()


def forget_integrity_reports():
    """No kept report or run of the integrity page outlives a test."""
    for run in list(views._RUNS.values()):
        run.done.wait(60)
    views._RUNS.clear()
    cache.clear()


# ------------------------------------------------------------------- configuration (no DB)


def test_every_domain_model_is_registered_with_the_platform_base():
    unregistered = [m._meta.label for m in domain_models() if m not in admin.site._registry]
    assert unregistered == []
    for model in domain_models():
        assert isinstance(admin.site._registry[model], PlatformAdmin), model._meta.label


def test_every_admin_is_configured_for_big_tables():
    problems = []
    for model in domain_models():
        model_admin = admin.site._registry[model]
        label = model._meta.label
        relations = {
            f.name
            for f in [*model._meta.concrete_fields, *model._meta.many_to_many]
            if f.is_relation and f.editable and not f.primary_key
        }
        indexed = indexed_columns(model)
        secrets = set(secret_fields(model))
        listed_relations = {
            name
            for name in model_admin.list_display
            if name in {f.name for f in model._meta.concrete_fields if f.is_relation}
        }
        if model_admin.show_full_result_count:
            problems.append(f"{label}: full result count")
        if not relations <= set(model_admin.raw_id_fields):
            problems.append(f"{label}: relations without raw-id widget")
        if listed_relations != set(model_admin.list_select_related):
            problems.append(
                f"{label}: list_select_related {model_admin.list_select_related} "
                f"!= listed relations {sorted(listed_relations)}"
            )
        for name in model_admin.search_fields:
            if name not in indexed or name in secrets:
                problems.append(f"{label}: search on {name} (not indexed, or secret)")
        for entry in model_admin.list_filter:
            if isinstance(entry, tuple):
                name, filter_class = entry
                if filter_class is not IndexedValuesFilter or name not in indexed:
                    problems.append(f"{label}: filter {name} would scan the table")
            elif not query_free_filter(model._meta.get_field(entry)):
                problems.append(f"{label}: filter {entry} would scan the table")
        if secrets & set(model_admin.list_display):
            problems.append(f"{label}: secret in list_display")
        if model_admin.date_hierarchy:
            problems.append(f"{label}: date_hierarchy aggregates the whole table")
    assert problems == []


def query_free_filter(model_field) -> bool:
    """Booleans and fields with choices filter from a fixed list (no query)."""
    return model_field.get_internal_type() == "BooleanField" or bool(model_field.choices)


EXPECTED_SECRETS = {
    "accounts.User": {
        "hashed_password": "hash",
        "two_factor_secret": "encrypted",
        "two_factor_backup_codes": "hash",
        "email_verification_token": "encrypted",
        "password_reset_token": "encrypted",
    },
    "accounts.AdminUser": {"hashed_password": "hash", "two_factor_secret": "encrypted"},
    "accounts.UserSettings": {"connected_accounts": "encrypted"},
    "accounts.UserCredential": {"encrypted_credentials": "encrypted"},
    "accounts.AdminSession": {"session_token": "encrypted", "refresh_token": "encrypted"},
    "accounts.UserManagement": {"api_key": "encrypted", "api_secret": "encrypted"},
    "accounts.ApiKeyRevocation": {"api_key": "encrypted"},
    "organizations.OrganizationInvitation": {"token": "encrypted"},
    "social.SocialPlatformConnection": {"access_token": "encrypted", "refresh_token": "encrypted"},
    "social.SocialConnection": {
        "access_token": "encrypted",
        "refresh_token": "encrypted",
        "page_access_token": "encrypted",
        "webhook_secret": "encrypted",
    },
}


def test_secret_columns_of_the_schema_are_recognised():
    found = {m._meta.label: secret_fields(m) for m in domain_models() if secret_fields(m)}
    # Field swaps may change how a secret column is recognised; the set of
    # secret columns must stay the same.
    assert {label: set(names) for label, names in found.items()} == {
        label: set(names) for label, names in EXPECTED_SECRETS.items()
    }


# ------------------------------------------------------------------------- pages and queries


NORMALISE = re.compile(r"'(?:[^']|'')*'|\b\d+\b")


def assert_no_repeated_statement(queries, page):
    """An N+1 shows up as the same statement with different parameters."""
    shapes = [NORMALISE.sub("?", q["sql"]) for q in queries]
    repeated = {shape for shape in shapes if shapes.count(shape) > 1}
    assert not repeated, f"{page}: repeated statement(s) {repeated}"


def changelist_budget(model_admin) -> int:
    # session + user + capped count (+ EXPLAIN beyond the cap) + page of rows,
    # + 2 index probes per indexed-values filter.
    filters = sum(isinstance(entry, tuple) for entry in model_admin.list_filter)
    return 6 + 2 * filters


def change_budget(model) -> int:
    # session + user + object + one label per raw-id relation (+ permission reads).
    relations = sum(1 for f in model._meta.concrete_fields if f.is_relation)
    return 6 + relations


def test_superuser_opens_every_changelist_and_change_page_in_bounded_queries(
    admin_db, django_assert_max_num_queries
):
    client = admin_db.client(admin_db.superuser)
    for model in domain_models():
        model_admin = admin.site._registry[model]
        url = admin_url(model, "changelist")
        budget = changelist_budget(model_admin)
        with (
            CaptureQueriesContext(admin_db.connection) as captured,
            django_assert_max_num_queries(budget, connection=admin_db.connection),
        ):
            response = client.get(url)
        assert response.status_code == 200, url
        assert_no_repeated_statement(captured.captured_queries, url)

        pk = admin_db.objects[model]
        url = admin_url(model, "change", quote(pk))
        with django_assert_max_num_queries(change_budget(model), connection=admin_db.connection):
            response = client.get(url)
        assert response.status_code == 200, url
        assert str(pk) in response.content.decode()


def test_filtered_and_searched_changelists_answer_within_the_same_budget(
    admin_db, django_assert_max_num_queries
):
    client = admin_db.client(admin_db.superuser)
    for model in domain_models():
        model_admin = admin.site._registry[model]
        pk = admin_db.objects[model]
        for query in [{"q": str(pk)}, *filter_queries(model, model_admin)]:
            url = admin_url(model, "changelist")
            with django_assert_max_num_queries(
                changelist_budget(model_admin), connection=admin_db.connection
            ):
                response = client.get(url, query)
            assert response.status_code == 200, (url, query)
            assert "?e=1" not in response.get("Location", ""), (url, query)


def filter_queries(model, model_admin):
    for entry in model_admin.list_filter:
        name = entry[0] if isinstance(entry, tuple) else entry
        model_field = model._meta.get_field(name)
        if model_field.get_internal_type() == "BooleanField":
            yield {f"{name}__exact": "1"}
        elif model_field.choices:
            yield {f"{name}__exact": model_field.choices[0][0]}
        else:
            value = model._default_manager.values_list(name, flat=True).first()
            yield {name: value} if value is not None else {f"{name}__isnull": "True"}


def test_search_is_equality_on_indexed_columns(admin_db):
    client = admin_db.client(admin_db.superuser)
    url = admin_url(get_model("accounts", "User"), "changelist")
    with CaptureQueriesContext(admin_db.connection) as captured:
        by_id = client.get(url, {"q": "2"}).content.decode()
        by_email = client.get(url, {"q": "tom@harborcoffee.example"}).content.decode()
        nothing = client.get(url, {"q": "harbor"}).content.decode()
    assert "peakfit" in by_id and "harborcoffee" not in by_id
    assert "harborcoffee" in by_email
    assert "0 platform users" in nothing
    searches = [q["sql"] for q in captured.captured_queries if '"users"' in q["sql"]]
    assert searches and not any("LIKE" in sql or "UPPER(" in sql for sql in searches)


def get_model(app_label, name):
    return apps.get_model(app_label, name)


def test_indexed_values_filter_lists_distinct_values_without_a_table_scan(admin_db):
    content_log = get_model("content", "ContentLog")
    client = admin_db.client(admin_db.superuser)
    with CaptureQueriesContext(admin_db.connection) as captured:
        page = client.get(admin_url(content_log, "changelist")).content.decode()
    platforms = sorted(set(content_log.objects.values_list("platform", flat=True)))
    for platform in platforms:
        assert f"?platform={platform}" in page
    assert not any("DISTINCT" in q["sql"] for q in captured.captured_queries)
    assert any("WITH RECURSIVE" in q["sql"] for q in captured.captured_queries)


def test_big_tables_are_never_counted_in_full(admin_db):
    with admin_db.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO content_logs (id, user_id, platform, content, content_type) "
            "SELECT 1000 + i, 1 + i %% 5, 'twitter', 'post ' || i, 'text' "
            "FROM generate_series(1, %s) AS i",
            [EXACT_COUNT_LIMIT + 2_000],
        )
        cursor.execute("ANALYZE content_logs")
    client = admin_db.client(admin_db.superuser)
    content_log = get_model("content", "ContentLog")
    with CaptureQueriesContext(admin_db.connection) as captured:
        page = client.get(admin_url(content_log, "changelist")).content.decode()
        filtered = client.get(admin_url(content_log, "changelist"), {"platform": "twitter"})
        searched = client.get(admin_url(content_log, "changelist"), {"q": "1005"})
    counts = [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"].upper() and "content_logs" in q["sql"]
    ]
    assert len(counts) >= 3  # one per page, each capped at the exact-count limit
    assert all(f"LIMIT {EXACT_COUNT_LIMIT + 1}" in sql for sql in counts), counts
    assert re.search(r"about 1[12],\d{3}|about 1[12]\d{3}", page)
    assert filtered.status_code == 200
    assert "about " in filtered.content.decode()
    assert searched.context["cl"].result_count == 1


# ----------------------------------------------------------------------------- secrets


def all_admin_pages(admin_db, client):
    """Every page a person can reach: index, lists, every sample row's change and history
    page, searches for the secrets themselves, the archive and the integrity report."""
    pages = {reverse("admin:index"): client.get(reverse("admin:index"))}
    for model in domain_models():
        url = admin_url(model, "changelist")
        pages[url] = client.get(url)
        for secret in ("DUMMY-IG-ACCESS-TOKEN-0001", "WWS2PEBWTYYRCLSVOXGRCAS44SYU5IRW"):
            # A search for a secret finds nothing (secrets are not searchable); the page
            # echoes only what was typed, so that one term is not a leak there.
            found = client.get(url, {"q": secret})
            assert found.context["cl"].result_count == 0, url
            pages[(f"{url}?q={secret}", secret)] = found
        for pk in model._default_manager.values_list("pk", flat=True)[:10]:
            for view in ("change", "history"):
                url = admin_url(model, view, quote(pk))
                pages[url] = client.get(url)
    for name in ("admin-archive", "admin-integrity"):
        pages[reverse(name)] = client.get(reverse(name))
    pages["integrity run again"] = client.post(reverse("admin-integrity"), follow=True)
    archive = client.get(reverse("admin-archive"))
    for table in re.findall(r"/admin/inspect/archive/([\w-]+)/", archive.content.decode()):
        url = reverse("admin-archive-table", args=[table])
        pages[url] = client.get(url)
    return pages


def leaked(pages) -> list[str]:
    leaks = []
    for url, response in pages.items():
        assert response.status_code == 200, url
        html = response.content.decode()
        if isinstance(url, tuple):  # (url, the term searched for): the echo is allowed
            url, typed = url
            html = html.replace(typed, "")
        leaks += [f"{url}: {s}" for s in SECRET_FRAGMENTS if s in html]
    return leaks


def test_no_sample_secret_appears_in_any_admin_page(admin_db):
    client = admin_db.client(admin_db.superuser)
    pages = all_admin_pages(admin_db, client)
    assert len(pages) > 150
    assert leaked(pages) == []
    # The change page says that a secret exists, and in what state, without showing it.
    user_page = pages[admin_url(get_model("accounts", "User"), "change", 1)].content.decode()
    # two_factor_secret of user 1: plaintext (32 characters), left for TwoFactorService (D17).
    assert "•••• (not encrypted, 32 chars)" in user_page
    assert "•••• (hidden)" in user_page  # hashed_password
    connection = get_model("social", "SocialPlatformConnection")
    page = pages[admin_url(connection, "change", 1)].content.decode()
    assert "Access token (secret)" in page


def test_platform_formats_are_shown_as_format_and_length_only(admin_db):
    from tests.test_crypto_formats import token_manager_blob, two_factor_token

    blob = token_manager_blob({"access_token": "DUMMY-TM-0001"})
    fernet = two_factor_token()
    connected = '{"twitter": {"access_token": "DUMMY-TW-0001"}}'
    with admin_db.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE social_platform_connections SET access_token = %s WHERE id = 1", [blob]
        )
        cursor.execute("UPDATE users SET two_factor_secret = %s WHERE id = 1", [fernet])
        cursor.execute(
            "UPDATE user_settings SET connected_accounts = %s WHERE user_id = 1", [connected]
        )
        cursor.execute("SELECT id FROM user_settings WHERE user_id = 1")
        (settings_id,) = cursor.fetchone()
    client = admin_db.client(admin_db.superuser)
    connection_model = get_model("social", "SocialPlatformConnection")
    pages = {
        "connection": client.get(admin_url(connection_model, "change", 1)),
        "user": client.get(admin_url(get_model("accounts", "User"), "change", 1)),
        "settings": client.get(
            admin_url(get_model("accounts", "UserSettings"), "change", settings_id)
        ),
    }
    html = {name: page.content.decode() for name, page in pages.items()}
    assert f"•••• (token-manager blob, {len(blob)} chars)" in html["connection"]
    assert f"•••• (Fernet token, {len(fernet)} chars)" in html["user"]
    assert "•••• (not encrypted," in html["settings"]
    for text in html.values():
        assert not [s for s in (blob[:24], fernet[:24], "DUMMY-TM", "DUMMY-TW") if s in text]


def test_no_secret_reaches_the_inspector_either(admin_db):
    pages = all_admin_pages(admin_db, admin_db.client(admin_db.inspector))
    assert leaked(pages) == []


def test_saving_a_change_form_keeps_every_secret_as_it_was(admin_db):
    user_model = get_model("accounts", "User")
    with admin_db.connection.cursor() as cursor:
        cursor.execute("SELECT * FROM users WHERE id = 1")
        before = cursor.fetchone()
    client = admin_db.client(admin_db.superuser)
    url = admin_url(user_model, "change", 1)
    response = client.get(url)
    data = form_data(response.context["adminform"].form)
    data["full_name"] = "Maria G."
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    with admin_db.connection.cursor() as cursor:
        cursor.execute("SELECT * FROM users WHERE id = 1")
        after = cursor.fetchone()
        names = [column.name for column in cursor.description]
    changed = {n for n, old, new in zip(names, before, after, strict=True) if old != new}
    assert changed == {"full_name"}


def form_data(form) -> dict:
    """What a browser would post back for ``form`` unchanged."""
    from django import forms

    data = {}
    for bound in form:
        widget, value = bound.field.widget, bound.value()
        if isinstance(widget, forms.MultiWidget):
            parts = widget.decompress(value) if not isinstance(value, list) else value
            for index, part in enumerate(parts):
                data[f"{bound.html_name}_{index}"] = "" if part is None else str(part)
        elif isinstance(widget, forms.NullBooleanSelect):
            data[bound.html_name] = {True: "true", False: "false"}.get(value, "unknown")
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        else:
            prepared = bound.field.prepare_value(value)
            data[bound.html_name] = "" if prepared is None else str(prepared)
    return data


# ----------------------------------------------------------------------------- inspector


def test_the_inspector_group_holds_every_view_permission_and_nothing_else(admin_db):
    group = Group.objects.get(name=INSPECTOR_GROUP)
    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert all(codename.startswith("view_") for _, codename in codenames)
    for model in apps.get_models():
        expected = (model._meta.app_label, f"view_{model._meta.model_name}")
        assert expected in codenames, expected
    assert Permission.objects.filter(codename__startswith="view_").count() == len(codenames)


def test_the_inspector_opens_every_page_and_can_write_nothing(
    admin_db, django_assert_max_num_queries
):
    client = admin_db.client(admin_db.inspector)
    for model in domain_models():
        model_admin = admin.site._registry[model]
        pk = quote(admin_db.objects[model])
        changelist = admin_url(model, "changelist")
        with django_assert_max_num_queries(
            changelist_budget(model_admin) + 2, connection=admin_db.connection
        ):
            assert client.get(changelist).status_code == 200, changelist
        change = admin_url(model, "change", pk)
        with django_assert_max_num_queries(
            change_budget(model) + 2, connection=admin_db.connection
        ):
            page = client.get(change)
        assert page.status_code == 200, change
        assert 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
        assert client.get(admin_url(model, "add")).status_code == 403
        assert client.post(admin_url(model, "add"), {}).status_code == 403
        assert client.post(change, {}).status_code == 403
        assert client.get(admin_url(model, "delete", pk)).status_code == 403
        assert client.post(admin_url(model, "delete", pk), {"post": "yes"}).status_code == 403
        assert model._default_manager.filter(pk=admin_db.objects[model]).exists()


def test_read_only_tables_refuse_writes_even_to_a_superuser(admin_db):
    client = admin_db.client(admin_db.superuser)
    read_only = [m for m in domain_models() if isinstance(admin.site._registry[m], ReadOnlyAdmin)]
    assert {m._meta.db_table for m in read_only} >= {
        "social_responses",
        "inbox_settings",
        "knowledge_base_entries",
        "admin_audit_logs",
        "audit_logs",
        "social_audit",
    }
    for model in read_only:
        pk = quote(admin_db.objects[model])
        assert client.get(admin_url(model, "add")).status_code == 403
        assert client.post(admin_url(model, "change", pk), {}).status_code == 403
        assert client.post(admin_url(model, "delete", pk), {"post": "yes"}).status_code == 403


def test_anonymous_and_non_staff_users_are_sent_to_the_login_page(admin_db):
    user = get_user_model().objects.create_user("nobody", "n@example.com", PASSWORD)
    for client in (Client(), admin_db.client(user)):
        for url in (
            admin_url(get_model("content", "ContentLog"), "changelist"),
            reverse("admin-archive"),
            reverse("admin-integrity"),
        ):
            response = client.get(url)
            assert response.status_code == 302
            assert "/admin/login/" in response["Location"]


# ----------------------------------------------------------------- archive and integrity


def test_archive_pages_list_archived_tables_and_mask_their_secrets(admin_db):
    client = admin_db.client(admin_db.superuser)
    with admin_db.connection.cursor() as cursor:
        cursor.execute(
            "CREATE SCHEMA IF NOT EXISTS archive; "
            "CREATE TABLE archive.demo_social_tokens AS SELECT id, platform, access_token, "
            "json_build_object('access_token', access_token, 'scope', scope) AS payload, "
            "json_build_object('token', access_token)::text AS raw "
            "FROM social_platform_connections; "
            "CREATE TABLE archive.social_platform_connections__refresh_token__raw AS "
            "SELECT id, access_token AS value FROM social_platform_connections"
        )
    index = client.get(reverse("admin-archive")).content.decode()
    assert "archive.demo_social_tokens" in index
    # The registration keys retired by accounts.0007 are archived with a manifest row.
    assert "archive.registration_keys" in index
    assert 'id="archive-manifest"' in index and "registration_keys" in index
    pages = [
        client.get(reverse("admin-archive-table", args=[table]))
        for table in (
            "demo_social_tokens",
            "social_platform_connections__refresh_token__raw",
            "registration_keys",
        )
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "••••" in html, html[html.index("content-main") :][:3000]
        assert [s for s in SECRET_FRAGMENTS if s in html] == []
    assert "instagram" in pages[0].content.decode()  # what is not secret is shown
    assert "Auto-generated key for first user" in pages[2].content.decode()
    assert client.get(reverse("admin-archive-table", args=["no_such"])).status_code == 404


def test_archive_index_shows_the_manifest_summary_first_and_folds_empty_tables(admin_db):
    with admin_db.connection.cursor() as cursor:
        # Analysed while empty, filled afterwards: the planner still says 0 rows.
        cursor.execute(
            "CREATE TABLE archive.filled_after_analyze (id int); "
            "ANALYZE archive.filled_after_analyze; "
            "INSERT INTO archive.filled_after_analyze SELECT generate_series(1, 3)"
        )
        cursor.execute(
            "SELECT count(*) FILTER (WHERE row_count = 0), count(*), sum(row_count) "
            "FROM archive.manifest"
        )
        empty_runs, runs, rows = cursor.fetchone()
    client = admin_db.client(admin_db.inspector)
    with CaptureQueriesContext(admin_db.connection) as captured:
        response = client.get(reverse("admin-archive"))
    html = response.content.decode()
    context = response.context
    summary = html.index('id="archive-summary"')
    assert summary < html.index('id="archive-manifest"') < html.index('id="archive-tables"')
    assert f"{rows} row(s)</strong> archived by" in html and f"of {runs} archiving run(s)" in html
    folded = html[html.index('id="archive-empty"') :]
    empty = {table["name"] for table in context["empty_tables"]}
    # The json-to-jsonb conversions archived nothing on the sample: their tables are folded.
    raw_json = {name for name in empty if name.endswith("__raw_json")}
    assert len(raw_json) > 10
    assert f"{len(empty)} empty archive table(s)</summary>" in folded
    assert all(f"archive.{name}</a>" in folded for name in empty)
    filled = html[html.index('id="archive-tables"') : html.index('id="archive-empty"')]
    assert "archive.registration_keys</a>" in filled and "__raw_json" not in filled
    assert "archive.filled_after_analyze</a>" in filled  # counted, not trusted to be empty
    assert f"{empty_runs} archiving run(s) found nothing to archive</summary>" in html
    # Bounded: the schema, its tables, one count for every doubtful table, the manifest.
    archive_queries = [q for q in captured.captured_queries if "archive" in q["sql"]]
    assert len(archive_queries) <= 5, [q["sql"][:80] for q in archive_queries]


def test_archive_page_tolerates_a_database_without_the_archive_schema(admin_db):
    with admin_db.connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS archive CASCADE")
    client = admin_db.client(admin_db.inspector)
    page = client.get(reverse("admin-archive"))
    assert page.status_code == 200
    assert "does not exist in this database yet" in page.content.decode()


def test_integrity_page_shows_the_latest_report_at_once_and_runs_again_on_request(
    admin_db, monkeypatch
):
    from database.integrity import runner

    runs = []
    real = runner.run_checks
    monkeypatch.setattr(runner, "run_checks", lambda *a, **k: runs.append(1) or real(*a, **k))
    client = admin_db.client(admin_db.inspector)
    url = reverse("admin-integrity")
    first = client.get(url)  # nothing pressed: the first view runs the checks
    html = first.content.decode()
    assert first.status_code == 200
    assert 'id="integrity-summary"' in html and "integrity-running" not in html
    # The sample's planted defects are findings, e.g. the orphans of social_responses (P1).
    assert "social_responses" in html
    report = first.context["report"]
    assert report["findings"] and report["finished"] >= report["started"]
    # Each severity is a colour class and a word on its row, and counted in the summary.
    for severity in {finding["severity"] for finding in report["findings"]}:
        assert f'<tr class="severity-{severity}"><td><span class="severity">{severity}' in html
        assert f'class="severity severity-{severity}"' in html
    assert "Run again" in html and "csrfmiddlewaretoken" in html

    assert len(runs) == 1
    # Kept: a second view shows the same report without running the checks again.
    again = client.get(url)
    assert again.context["report"]["finished"] == report["finished"]
    assert len(runs) == 1

    # "Run again" runs them (POST, then back to the page) and shows the newer report.
    rerun = client.post(url)
    assert rerun.status_code == 302 and rerun["Location"] == url
    newer = client.get(url).context["report"]
    assert newer["finished"] > report["finished"] and len(runs) == 2
    assert client.get(url, {"run": "1"}).context["report"]["finished"] == newer["finished"]


def test_integrity_page_says_when_the_checks_are_still_running(admin_db, monkeypatch):
    import threading

    from database.integrity import runner

    release = threading.Event()
    real = runner.run_checks

    def slow(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_checks", slow)
    monkeypatch.setattr(views, "INTEGRITY_WAIT", 0.1)
    client = admin_db.client(admin_db.superuser)
    page = client.get(reverse("admin-integrity")).content.decode()
    assert 'id="integrity-running"' in page and 'http-equiv="refresh"' in page
    assert "Run again" not in page
    # Another view joins the run in progress instead of starting a second one.
    client.get(reverse("admin-integrity"))
    assert len(views._RUNS) == 1
    release.set()
    next(iter(views._RUNS.values())).done.wait(60)
    done = client.get(reverse("admin-integrity")).content.decode()
    assert 'id="integrity-summary"' in done and "integrity-running" not in done


def test_integrity_page_reports_a_failed_run_and_waits_for_a_click(admin_db, monkeypatch):
    from django.db import OperationalError

    from database.integrity import runner

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(runner, "run_checks", broken)
    client = admin_db.client(admin_db.superuser)
    page = client.get(reverse("admin-integrity")).content.decode()
    assert "The checks could not run: canceling statement" in page
    assert "Run the checks now" in page
    client.get(reverse("admin-integrity"))
    assert len(calls) == 1  # not retried by every view
    client.post(reverse("admin-integrity"))
    assert len(calls) == 2


def test_admin_index_links_the_inspection_pages(admin_db):
    page = admin_db.client(admin_db.inspector).get(reverse("admin:index")).content.decode()
    assert reverse("admin-integrity") in page
    assert reverse("admin-archive") in page


# ------------------------------------------------------------------- clear_expired_tokens


def test_clear_expired_tokens_clears_only_tokens_past_their_lifetime(admin_db):
    import io

    from django.utils import timezone

    user_model = get_model("accounts", "User")
    user_model.objects.filter(pk=3).update(
        password_reset_token="fresh-token", password_reset_sent_at=timezone.now()
    )
    out = io.StringIO()
    call_command("clear_expired_tokens", "--dry-run", "--database", admin_db.alias, stdout=out)
    assert "password_reset_token: 1 expired (older than 2 h) would be cleared" in out.getvalue()
    assert user_model.objects.filter(password_reset_token__isnull=False).count() == 2
    out = io.StringIO()
    call_command("clear_expired_tokens", "--database", admin_db.alias, stdout=out)
    assert "password_reset_token: 1 expired (older than 2 h) cleared" in out.getvalue()
    assert "email_verification_token: 0 expired" in out.getvalue()
    remaining = dict(
        user_model.objects.filter(password_reset_token__isnull=False).values_list(
            "pk", "password_reset_token"
        )
    )
    assert remaining == {3: "fresh-token"}
    assert user_model.objects.get(pk=5).password_reset_sent_at is not None


# ------------------------------------------------ keys, malformed ids, permissions, tables


def staff_without_permissions():
    return get_user_model().objects.create_user("staff", is_staff=True)


def registered_models():
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


WRONG_KEY = "y" * 43 + "="  # a valid Fernet key that opens nothing in the database
KEY_SETTINGS = {
    "wrong key": {"TOKEN_ENCRYPTION_KEY": WRONG_KEY, "TOKEN_ENCRYPTION_DEVELOPMENT_KEY": ""},
    "no key": {"TOKEN_ENCRYPTION_KEY": "", "TOKEN_ENCRYPTION_DEVELOPMENT_KEY": ""},
}


def object_pages(model, pk) -> list[str]:
    return [admin_url(model, view, quote(pk)) for view in ("change", "history", "delete")]


def expected_status(model_admin, url: str, user) -> int:
    """What a person may open: the delete page with the delete permission, the others with
    the view (or change) permission; else 403."""
    request = SimpleNamespace(user=user)
    if url.endswith("/delete/"):
        allowed = model_admin.has_delete_permission(request)
    else:
        allowed = model_admin.has_view_or_change_permission(request)
    return 200 if allowed else 403


def related_lookups(model) -> list[str]:
    """The raw-id widget's lookup popup of each relation of ``model``."""
    return [
        f"{admin_url(field.related_model, 'changelist')}?_to_field={field.target_field.name}"
        "&_popup=1"
        for field in model._meta.concrete_fields
        if field.many_to_one or field.one_to_one
    ]


@pytest.mark.parametrize("keys", KEY_SETTINGS.values(), ids=list(KEY_SETTINGS))
def test_a_wrong_or_missing_key_never_breaks_a_page_nor_shows_a_secret(admin_db, keys):
    from database.secrets import crypto

    with admin_db.connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM social_platform_connections ORDER BY id")
        tokens = [token for (token,) in cursor.fetchall()]
    with override_settings(**keys), pytest.raises(crypto.EncryptionError):
        crypto.decrypt(tokens[0])  # the sample's tokens are encrypted and cannot open now
    for user in (admin_db.superuser, admin_db.inspector, staff_without_permissions()):
        client = admin_db.client(user)
        with override_settings(**keys):
            assert client.get(reverse("admin:index")).status_code == 200
            for model in domain_models():
                pages = [admin_url(model, "changelist"), *related_lookups(model)]
                for url in [*pages, *object_pages(model, admin_db.objects[model])]:
                    response = client.get(url)
                    model_admin = resolve(urlparse(url).path).func.model_admin
                    expected = expected_status(model_admin, url, user)
                    assert response.status_code == expected, (user.username, url)
                    html = response.content.decode()
                    assert [s for s in SECRET_FRAGMENTS if s in html] == [], url
    # What may be said of a secret is said without any key: its key id, from SQL.
    connection_model = get_model("social", "SocialPlatformConnection")
    with override_settings(**keys):
        page = admin_db.client(admin_db.superuser).get(admin_url(connection_model, "change", 1))
    assert "•••• (encrypted, kid default)" in page.content.decode()


def test_with_a_wrong_key_a_superuser_still_changes_and_deletes_rows(admin_db):
    """Saving a form and deleting a row read no secret either: they work with a wrong key,
    and the encrypted tokens stay as they were."""
    interaction_model = get_model("social", "SocialInteraction")
    connection_model = get_model("social", "SocialPlatformConnection")
    interaction = interaction_model.objects.exclude(connection=None).order_by("pk").first()
    connection_pk = interaction.connection_id
    client = admin_db.client(admin_db.superuser)
    with override_settings(**KEY_SETTINGS["wrong key"]):
        url = admin_url(interaction_model, "change", quote(interaction.pk))
        data = form_data(client.get(url).context["adminform"].form)
        data["author_username"] = "renamed"
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        url = admin_url(connection_model, "delete", connection_pk)
        assert "Social interaction" in client.get(url).content.decode()  # taken along
        assert client.post(url, {"post": "yes"}).status_code == 302
    with admin_db.connection.cursor() as cursor:
        cursor.execute(
            "SELECT author_username, connection_id FROM social_interactions WHERE id = %s",
            [interaction.pk],
        )
        assert cursor.fetchone() == ("renamed", None)  # SET NULL: the connection is gone
        cursor.execute(
            "SELECT count(*) FROM social_platform_connections WHERE id = %s", [connection_pk]
        )
        assert cursor.fetchone() == (0,)


def test_no_model_reads_a_secret_or_a_relation_to_name_itself(admin_db):
    """``__str__`` of every model, on a row loaded as the admin loads it (secrets deferred):
    no query, so neither a deferred secret nor a related row is read."""
    for model, pk in admin_db.objects.items():
        row = without_secrets(model._default_manager.filter(pk=pk)).get()
        with CaptureQueriesContext(admin_db.connection) as captured:
            str(row)
        assert captured.captured_queries == [], model._meta.label


def malformed_ids(model) -> list[str]:
    """Ids no row of ``model`` can have: a NUL character, and what the key's type refuses
    (not a number, out of range, not a UUID, too long)."""
    key = model._meta.pk
    ids = ["\x00", "1\x00"]
    kind = key.get_internal_type()
    if kind in ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField"):
        ids += ["abc", "1.5", "9" * 30]
    elif kind == "UUIDField":
        ids += ["not-a-uuid", "1234"]
    elif key.max_length:
        ids += ["x" * (key.max_length + 1)]
    return ids


@dataclass
class SharedAdminDatabase:
    alias: str
    users: list  # a superuser, an inspector, a staff user without permissions


@pytest.fixture(scope="module")
def shared_admin_db(module_databases, adopted_template, django_db_blocker):
    """One adopted copy for the tests of this module that only read, with the three kinds
    of staff user (no passwords: ``force_login``)."""
    from database.schema import scratch

    database = module_databases("adopted", template=adopted_template)
    settings = connections.settings["default"]
    with (
        django_db_blocker.unblock(),
        scratch.database_alias(settings, database.name) as alias,
        override_settings(DATABASE_ROUTERS=[AliasRouter(alias)]),
    ):
        ContentType.objects.clear_cache()
        users = get_user_model().objects
        inspector = users.create_user("inspector", is_staff=True)
        inspector.groups.add(Group.objects.get(name=INSPECTOR_GROUP))
        yield SharedAdminDatabase(
            alias,
            [
                users.create_superuser("root", "root@example.com", None),
                inspector,
                users.create_user("staff", is_staff=True),
            ],
        )
        ContentType.objects.clear_cache()


@pytest.mark.parametrize("model", registered_models(), ids=lambda model: model._meta.label)
def test_malformed_object_ids_are_not_found(shared_admin_db, model):
    with override_settings(DATABASE_ROUTERS=[AliasRouter(shared_admin_db.alias)]):
        for user in shared_admin_db.users:
            client = Client()
            client.force_login(user)
            for bad in malformed_ids(model):
                for view in ("change", "history", "delete"):
                    url = admin_url(model, view, quote(bad))
                    assert client.get(url).status_code == 404, (user.username, url)
            # The id as a browser sends it, percent-encoded; the old change URL too.
            for url in ("%00/change/", "1%00/delete/", "%00/"):
                response = client.get(f"{admin_url(model, 'changelist')}{url}", follow=True)
                assert response.status_code == 404, (user.username, url)
        # A well-formed id of a missing row keeps Django's answer: back to the index; unless
        # the model's optional table is missing on this server (pgvector, D2): not found.
        missing = {"UUIDField": "00000000-0000-0000-0000-000000000000"}.get(
            model._meta.pk.get_internal_type(), "999999"
        )
        tables = connections[shared_admin_db.alias].introspection.table_names()
        client = Client()
        client.force_login(shared_admin_db.users[0])
        response = client.get(admin_url(model, "change", missing))
        assert response.status_code == (302 if model._meta.db_table in tables else 404)


def test_malformed_archive_table_names_are_not_found(admin_db):
    staff = staff_without_permissions()
    base = reverse("admin-archive")
    for user, status in ((admin_db.superuser, 404), (admin_db.inspector, 404), (staff, 403)):
        client = admin_db.client(user)
        for bad in ("%00", "registration_keys%00", "x" * 300, "pg_class", "manifest%00"):
            response = client.get(f"{base}{bad}/")
            assert response.status_code == status, (user.username, bad)
        page = client.get(
            reverse("admin-archive-table", args=["registration_keys"]), {"offset": "\x00"}
        )
        assert page.status_code == (200 if status == 404 else 403)


def test_inspection_pages_need_their_own_view_permissions(admin_db):
    staff = staff_without_permissions()
    pages = [
        reverse("admin-archive"),
        reverse("admin-archive-table", args=["registration_keys"]),
        reverse("admin-integrity"),
    ]
    assert admin_db.inspector.has_perms(
        ["database.view_archive", "database.view_integrity_report"]
    )
    assert not staff.has_perm("database.view_archive")
    for user, status in ((admin_db.superuser, 200), (admin_db.inspector, 200), (staff, 403)):
        client = admin_db.client(user)
        for url in pages:
            assert client.get(url).status_code == status, (user.username, url)
        index = client.get(reverse("admin:index")).content.decode()
        for url in (reverse("admin-archive"), reverse("admin-integrity")):
            assert (url in index) == (status == 200), (user.username, url)
    assert len(views._RUNS) == 1  # the staff user's refused POST below starts none
    response = admin_db.client(staff).post(reverse("admin-integrity"))
    assert response.status_code == 403 and len(views._RUNS) == 1
    # Granted one by one, each opens its own page only.
    staff.user_permissions.add(Permission.objects.get(codename="view_archive"))
    staff = get_user_model().objects.get(pk=staff.pk)  # permissions are cached per object
    client = admin_db.client(staff)
    assert client.get(reverse("admin-archive")).status_code == 200
    assert client.get(reverse("admin-integrity")).status_code == 403


def test_the_inspection_permissions_come_back_after_migrate(admin_db):
    from database.admin.inspector import INSPECTION_PERMISSIONS

    Permission.objects.filter(codename__in=INSPECTION_PERMISSIONS).delete()
    assert not Permission.objects.filter(codename__in=INSPECTION_PERMISSIONS).exists()
    call_command("migrate", "--database", admin_db.alias, verbosity=0)
    group = Group.objects.get(name=INSPECTOR_GROUP)
    assert set(
        group.permissions.filter(content_type__app_label="database").values_list(
            "codename", flat=True
        )
    ) == set(INSPECTION_PERMISSIONS)


def test_optional_tables_that_do_not_exist_are_not_listed_and_their_pages_are_not_found(
    admin_db,
):
    import embeddings

    optional = [model for model in registered_models() if embeddings.is_optional(model)]
    assert optional
    staff = staff_without_permissions()
    superuser = admin_db.client(admin_db.superuser)
    if embeddings.available(admin_db.connection):  # pgvector here: listed until dropped
        index = superuser.get(reverse("admin:index")).content.decode()
        assert all(admin_url(model, "changelist") in index for model in optional)
    with admin_db.connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS content_embeddings, memory_embeddings")
    for user in (admin_db.superuser, admin_db.inspector, staff):
        client = admin_db.client(user)
        index = client.get(reverse("admin:index"))
        assert index.status_code == 200
        assert "embedding" not in index.content.decode().lower(), user.username
        assert client.get(reverse("admin:app_list", args=["embeddings"])).status_code == 404
        for model in optional:
            urls = [admin_url(model, "changelist"), admin_url(model, "add")]
            urls += [admin_url(model, view, "1") for view in ("change", "history", "delete")]
            for url in urls:
                assert client.get(url).status_code == 404, (user.username, url)
