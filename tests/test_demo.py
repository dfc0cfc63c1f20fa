"""``make demo`` and what the README shows after it."""

import http.cookiejar
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from database.management.commands.migrate import Command as MigrateCommand
from database.online import batches
from database.schema import scratch


def test_progress_lines_never_glue_onto_applying_lines():
    terminal = io.StringIO()
    migrate = MigrateCommand(stdout=terminal)
    migrate.verbosity = 1
    with batches.reporting_to(migrate.report_progress):
        migrate.stdout.write("Running migrations:")
        migrate.migration_progress_callback("apply_start", "accounts.0003_seed")
        migrate.migration_progress_callback("apply_success", "accounts.0003_seed")
        migrate.migration_progress_callback("apply_start", "accounts.0004_public_id")
        batches.progress_callback()("  users.public_id: 1 batches, 5 rows")
        batches.progress_callback()("social.SocialPlatformConnection.access_token: batch 1")
        migrate.migration_progress_callback("apply_success", "accounts.0004_public_id")
        migrate.migration_progress_callback("apply_start", "accounts.0005_more")
        migrate.migration_progress_callback("apply_success", "accounts.0005_more", fake=True)

    assert terminal.getvalue().splitlines() == [
        "Running migrations:",
        "  Applying accounts.0003_seed... OK",
        "  Applying accounts.0004_public_id...",
        "    users.public_id: 1 batches, 5 rows",
        "    social.SocialPlatformConnection.access_token: batch 1",
        "  Applying accounts.0004_public_id... OK",
        "  Applying accounts.0005_more... FAKED",
    ]


# ------------------------------------------------------------------------ a fresh clone


def run(command, cwd, env, timeout=300, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check:
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def operator_environment() -> dict:
    """The environment of an operator's shell: none of the variables the test run sets."""
    dropped = ("DATABASE_URL", "TEST_DATABASE_NAME", "PLATFORM_CONTRACT", "VIRTUAL_ENV")
    return {
        name: value
        for name, value in os.environ.items()
        if name not in dropped and not name.startswith(("DJANGO_", "TOKEN_ENCRYPTION_"))
    }


def printed_steps(demo_output: str) -> list[str]:
    """The commands the demo prints at its end, comments removed."""
    lines = demo_output.splitlines()
    start = max(i for i, line in enumerate(lines) if line.endswith(("Next:", "work on it:")))
    return [line.split(" # ")[0].strip() for line in lines[start + 1 :] if line.startswith("  ")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def clone_folder():
    """A folder of its own in /tmp, not pytest's ``tmp_path``: when run as root the embedded
    server runs as the ``pgserver`` user, which must traverse every folder above its data, and
    another pytest session on this machine (CI runs two side by side) resets pytest's root
    folder to 0700 whenever it starts using it."""
    folder = Path(tempfile.mkdtemp(prefix="demo-clone-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_a_fresh_clone_runs_the_demo_then_the_readme_commands_as_written(clone_folder, server):
    """A fresh clone of this checkout's HEAD, the shared virtualenv in place of the one
    ``make`` would create: ``make demo`` (on the clone's own embedded server), then every
    command the demo prints, as written, with their output checked; then ``make stop``.

    Under DATABASE_URL (CI's PostgreSQL 15) the clone runs the recipe of ``make demo`` with a
    database name of its own on that server (``make demo`` would rebuild the shared
    ``production_rehearsal``) and follows the ``export`` lines the demo prints for that case.
    """
    clone = clone_folder / "clone"
    head = run(["git", "rev-parse", "HEAD"], settings.BASE_DIR, os.environ).stdout.strip()
    run(
        ["git", "clone", "--quiet", "--no-checkout", str(settings.BASE_DIR), str(clone)],
        clone_folder,
        os.environ,
    )
    run(["git", "checkout", "--quiet", "--detach", head], clone, os.environ)
    (clone / ".venv").symlink_to(sys.prefix)
    env = operator_environment()
    embedded = settings.EMBEDDED_DATABASE
    name = "production_rehearsal" if embedded else f"demo_{uuid.uuid4().hex[:8]}"
    try:
        if embedded:
            # -o: the shared virtualenv is never reinstalled from the clone.
            demo = run(["make", "-o", ".venv/bin/.installed", "demo"], clone, env)
        else:
            env["DATABASE_URL"] = scratch.database_url(server, "postgres")
            demo = run(
                [".venv/bin/python", "manage.py", "rehearse_adoption", "--name", name],
                clone,
                {**env, "DJANGO_DEVELOPMENT_KEYS": "1"},
            )
        follow_the_demo(clone, env, demo.stdout, name, embedded)
    finally:
        if embedded:
            from config.embedded import stop_embedded_server

            stop_embedded_server(clone / ".pgdata")
        else:
            scratch.drop_database(server, name)


def follow_the_demo(clone, env, output: str, name: str, embedded: bool) -> None:
    assert f"Adopted '{name}'" in output
    applying = [line for line in output.splitlines() if "Applying" in line]
    assert len(applying) > 60
    glued = [line for line in applying if not APPLYING.fullmatch(line)]
    assert glued == []
    assert "    users.public_id: done" in output  # the progress, on its own line

    steps = printed_steps(output)
    assert steps[0] == ". .venv/bin/activate"
    setup = [step for step in steps if step.startswith((". ", "export "))]
    assert len(setup) == (1 if embedded else 3)

    commands = [step for step in steps if step not in setup]
    assert commands == [
        "python manage.py check_integrity",
        "python manage.py check_integrity --format json",
        "python manage.py check_integrity --format markdown > report.md",
        "python manage.py showmigrations",
        "python manage.py rotate_keys --dry-run",
        "python manage.py createsuperuser",
        "python manage.py runserver",
        *(["make stop"] if embedded else []),
    ]
    readme = (clone / "README.md").read_text()
    shown = [c for c in commands if re.search(rf"^{re.escape(c)}( |$)", readme, re.MULTILINE)]
    assert shown == commands  # the README shows the same commands

    def shell(command: str, check=False) -> subprocess.CompletedProcess:
        return run(["bash", "-c", "\n".join([*setup, command])], clone, env, check=check)

    text = shell("python manage.py check_integrity")
    assert text.returncode == 1, text.stderr  # findings at warning and above
    assert f"Database {name} " in text.stdout
    tables = int(re.search(r"(\d+) table\(s\)", text.stdout).group(1))
    assert tables > 50
    for planted in (
        "social_responses.interaction_id",  # orphans (P1)
        "content_logs.scheduled_for",  # required values (P3b)
        "users.created_at",  # (P3a)
        "users.email",  # duplicates ignoring case (P4a)
        "users.two_factor_secret",  # a plaintext secret
    ):
        assert planted in text.stdout, planted

    report = json.loads(shell("python manage.py check_integrity --format json").stdout)
    assert report["database"] == name
    orphans = {
        (f["table"], f["column"]): f["count"]
        for f in report["findings"]
        if f["check"] == "reference_orphans"
    }
    assert orphans[("social_responses", "interaction_id")] == 3
    assert report["summary"]["error"] > 0 and report["summary"]["failed"]

    markdown = shell("python manage.py check_integrity --format markdown > report.md")
    assert markdown.returncode == 1, markdown.stderr
    written = (clone / "report.md").read_text()
    assert written.startswith(f"# Schema analysis: {name}")
    assert int(re.search(r"## Tables found \((\d+)\)", written).group(1)) == tables

    migrations = shell("python manage.py showmigrations", check=True).stdout
    assert migrations.count("[X]") > 60
    assert "[ ]" not in migrations
    assert " [X] 0001_initial" in migrations and "social\n" in migrations

    rotation = shell("python manage.py rotate_keys --dry-run", check=True).stdout
    assert "Dry run: re-encrypting 6 column(s) under key id 'default'" in rotation
    assert "social.SocialPlatformConnection.access_token: 0 value(s) to re-encrypt" in rotation

    # The README's unattended form of the createsuperuser the demo prints.
    created = shell(
        f"DJANGO_SUPERUSER_PASSWORD='{PASSWORD}' python manage.py createsuperuser --no-input "
        "--username admin --email admin@example.com",
        check=True,
    )
    assert "Superuser created successfully." in created.stdout

    log_admin_in(clone, env, setup)

    if embedded:
        stopped = run(["bash", "-c", "make stop"], clone, env)
        assert "Stopped the embedded server" in stopped.stdout
        again = run(["bash", "-c", "make stop"], clone, env)
        assert "is not running" in again.stdout


APPLYING = re.compile(r"  Applying \w+\.\w+\.\.\.( OK| FAKED)?")
PASSWORD = "a demo password 7c1f"


def log_admin_in(clone, env, setup) -> None:
    """``python manage.py runserver`` (on a free port), then the admin's login as the user
    just created, /admin/ and its stylesheet."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (clone / "runserver.log").open("w")
    server = subprocess.Popen(
        ["bash", "-c", "\n".join([*setup, f"exec python manage.py runserver 127.0.0.1:{port}"])],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    browser = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                login = browser.open(f"{base}/admin/login/?next=/admin/", timeout=10).read()
                break
            except OSError:
                assert server.poll() is None, (clone / "runserver.log").read_text()
                assert time.monotonic() < deadline, (clone / "runserver.log").read_text()
                time.sleep(0.3)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token.decode(),
                "username": "admin",
                "password": PASSWORD,
                "next": "/admin/",
            }
        ).encode()
        answer = browser.open(f"{base}/admin/login/?next=/admin/", data=form, timeout=30)
        page = answer.read().decode()
        assert answer.geturl() == f"{base}/admin/", page[:2000]
        assert "Site administration" in page
        assert 'href="/static/admin/css/base.css"' in page
        css = browser.open(f"{base}/static/admin/css/base.css", timeout=30)
        assert css.status == 200
        assert css.headers["Content-Type"].startswith("text/css")
        assert "--body-fg" in css.read().decode()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
