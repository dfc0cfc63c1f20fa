"""Static files: WhiteNoise serves the admin's from the Django process, as the README says.

Under the defaults (``DJANGO_DEBUG=0``, nothing collected, as under ``runserver`` in a
checkout) the files come from the apps' folders under their plain names; after
``collectstatic`` (production) pages link hashed names served compressed and cached for ever.
"""

import json
import os
import subprocess
import sys

from django.conf import settings
from django.templatetags.static import static
from django.test import Client

from tests.test_crypto import PRODUCTION_ENV


def test_the_admin_css_is_served_with_the_default_settings():
    assert not settings.DEBUG
    assert static("admin/css/base.css") == "/static/admin/css/base.css"

    response = Client().get("/static/admin/css/base.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    body = b"".join(response.streaming_content).decode()
    assert "--body-fg" in body  # the admin's own stylesheet, not an error page


def test_the_admin_login_page_links_stylesheets_that_are_served(db):
    client = Client()
    page = client.get("/admin/login/").content.decode()

    assert 'href="/static/admin/css/base.css"' in page
    assert client.get("/static/admin/css/login.css").status_code == 200


def test_collected_files_are_served_hashed_compressed_and_cached_for_ever(tmp_path, server):
    from database.schema.scratch import database_url

    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "DJANGO_STATIC_ROOT": str(tmp_path),
        "DATABASE_URL": database_url(server, "postgres"),
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collect.returncode == 0, collect.stderr
    assert (tmp_path / "staticfiles.json").is_file()
    # A fresh process, as a production server starts after the release's collectstatic.
    probe = """
import json, django
django.setup()
from django.templatetags.static import static
from django.test import Client
client = Client(HTTP_HOST="platform.example")
url = static("admin/css/base.css")
response = client.get(url, secure=True, HTTP_ACCEPT_ENCODING="gzip")
print(json.dumps({"url": url, "status": response.status_code,
                  "encoding": response.get("Content-Encoding"),
                  "cache": response.get("Cache-Control")}))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["url"].startswith("/static/admin/css/base.")
    assert served["url"] != "/static/admin/css/base.css"  # the hashed name
    assert served["status"] == 200
    assert served["encoding"] == "gzip"
    assert "immutable" in served["cache"]
