"""Admin changelist latency on the largest table, in-process with Django's test ``Client``.

Run as a script with DATABASE_URL pointing at a bench copy (``run.py`` does this); prints
one JSON object. A superuser is created for the run (force_login); each page is fetched
once cold, then ``REPEAT`` times, and the median of those is reported with the page's query
count. The row count is the planner's estimate (the admin itself never counts a big table).
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TABLE = "content_logs"
REPEAT = 5


def model_for(table: str):
    from django.apps import apps

    return next((m for m in apps.get_models() if m._meta.db_table == table), None)


def pages(model, model_admin, user) -> tuple[dict[str, str], dict[str, str]]:
    """URL per page to time, and a reason per page that cannot be measured.

    The filtered page uses the first choice the changelist's first filter offers; the search
    looks up the owner of the newest row (or its id), as an operator would.
    """
    from django.test import RequestFactory
    from django.urls import reverse

    meta = model._meta
    base = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    found, missing = {"first page": base}, {}
    request = RequestFactory().get(base)
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    choice = first_filter_choice(changelist)
    if choice:
        found["filtered"] = f"{base}{choice[1]}"
    else:
        missing["filtered"] = "not measured: the changelist offers no filter choice"
    if model_admin.search_fields:
        term = search_term(model, model_admin.search_fields)
        found["search"] = f"{base}?q={term}"
    else:
        missing["search"] = "not measured: the changelist has no search_fields"
    return found, missing


def first_filter_choice(changelist) -> tuple[str, str] | None:
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            if not choice["selected"] and choice["query_string"] not in ("", "?"):
                return f"{spec.title}={choice['display']}", choice["query_string"]
    return None


def search_term(model, search_fields) -> str:
    newest = model.objects.order_by("-pk").first()
    for name in search_fields:
        field = model._meta.get_field(name)
        if field.is_relation and newest is not None:
            return str(getattr(newest, field.attname))
    return str(newest.pk if newest is not None else 1)


def time_page(client, url: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(REPEAT + 1):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(1000 * (time.perf_counter() - started))
        if response.status_code != 200:
            return {"url": url, "status": response.status_code, "error": "not HTTP 200"}
    return {
        "url": url,
        "status": 200,
        "cold_ms": round(timings[0], 1),
        "median_ms": round(statistics.median(timings[1:]), 1),
        "queries": len(queries),
    }


def estimated_rows(model) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        return cursor.fetchone()[0]


def measure() -> dict[str, Any]:
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import Client

    model = model_for(TABLE)
    if model is None or not admin.site.is_registered(model):
        return {"not_measured": f"no admin registered for the model of {TABLE} yet"}
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    found, missing = pages(model, admin.site._registry[model], user)
    return {
        "model": f"{model._meta.app_label}.{model.__name__}",
        "rows": estimated_rows(model),
        "pages": {name: time_page(client, url) for name, url in found.items()},
        "not_measured": missing,
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(json.dumps(measure()))


if __name__ == "__main__":
    main()
