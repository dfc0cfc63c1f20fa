"""One migrator at a time through a real transaction-mode PgBouncer (Debian's ``pgbouncer``).

Each test starts its own PgBouncer (``pool_mode = transaction``, trust, a free port in a
temporary folder) in front of the test server, the embedded one or DATABASE_URL's. It comes
from ``apt-get install pgbouncer`` (``.ci/run`` installs it); outside CI a machine without it
skips these tests, under ``CI=true`` its absence is a failure.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from database import lease, pooler, scratch
from database.management.commands.migrate import ANOTHER_MIGRATOR
from tests.conftest import run_manage

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited: {log.read_text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"pgbouncer did not listen on {port}: {log.read_text()}")


class PgBouncer:
    """A transaction-mode PgBouncer in front of the test server, on 127.0.0.1:``port``."""

    def __init__(self, server: dict):
        self.params = scratch.connection_params(server)
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self.log = self.folder / "pgbouncer.log"

    def config(self) -> str:
        target = (
            f"host={self.params.get('host', 'localhost')} port={self.params.get('port', 5432)}"
        )
        if self.params.get("password"):
            target += f" user={self.params['user']} password={self.params['password']}"
        return (
            f"[databases]\n* = {target}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.folder / 'users.txt'}\n"
            "pool_mode = transaction\ndefault_pool_size = 20\nmax_client_conn = 200\n"
            f"logfile = {self.log}\n"
        )

    def run_as(self) -> list[str]:
        """PgBouncer refuses to run as root: as root, run it as the server socket's owner."""
        if os.geteuid() != 0:
            return []
        host = str(self.params.get("host", ""))
        owner = pwd.getpwuid(Path(host).stat().st_uid).pw_name if host.startswith("/") else ""
        return ["-u", owner if owner and owner != "root" else "nobody"]

    def start(self) -> subprocess.Popen:
        (self.folder / "pgbouncer.ini").write_text(self.config())
        (self.folder / "users.txt").write_text(f'"{self.params.get("user", "postgres")}" ""\n')
        self.log.touch()
        for path in (self.folder, *self.folder.iterdir()):
            path.chmod(0o777 if path.is_dir() else 0o666)
        command = [PGBOUNCER, *self.run_as(), str(self.folder / "pgbouncer.ini")]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_for_port(self.port, process, self.log)
        return process

    def url(self, database: str, *, declared: bool = True) -> str:
        user = self.params.get("user", "postgres")
        query = "?pooler=transaction" if declared else ""
        return f"postgres://{user}@127.0.0.1:{self.port}/{database}{query}"


@pytest.fixture
def pgbouncer(server) -> Iterator[PgBouncer]:
    if not os.access(PGBOUNCER, os.X_OK):
        message = "pgbouncer is not installed (apt-get install pgbouncer)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    bouncer = PgBouncer(server)
    process = bouncer.start()
    yield bouncer
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(bouncer.folder, ignore_errors=True)


def _start_migrate(url: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "migrate", "--fake-initial", "--no-input"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": url, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _duplicates(database, query: str) -> list[tuple]:
    return database.execute(f"{query} GROUP BY 1, 2 HAVING count(*) > 1")


def test_two_concurrent_upgrades_through_pgbouncer_apply_once(production_db, pgbouncer):
    url = pgbouncer.url(production_db.name)
    runs = [_start_migrate(url) for _ in range(2)]
    outcomes = [(run.wait(timeout=600), *run.communicate()) for run in runs]

    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, ANOTHER_MIGRATOR], outcomes
    (refused,) = [err for code, _, err in outcomes if code == ANOTHER_MIGRATOR]
    (applier,) = [run for run, (code, _, _) in zip(runs, outcomes, strict=True) if code == 0]
    assert "Another migrate is running on this database" in refused
    assert f"pid {applier.pid} on host {socket.gethostname()}" in refused
    assert "Traceback" not in refused
    assert _duplicates(production_db, "SELECT app, name FROM django_migrations") == []
    manifest = production_db.execute("SELECT count(*) FROM archive.manifest")[0][0]
    assert manifest > 0
    assert _duplicates(production_db, "SELECT source, archive_table FROM archive.manifest") == []
    assert production_db.execute(f"SELECT count(*) FROM {lease.TABLE}") == [(0,)]

    third = run_manage("migrate", "--fake-initial", "--no-input", database_url=url)

    assert third.returncode == 0, third.stderr
    assert "No migrations to apply" in third.stdout
    assert production_db.execute("SELECT count(*) FROM archive.manifest")[0][0] == manifest


def _wait_for_lease(database, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        exists = database.execute(f"SELECT to_regclass('{lease.TABLE}') IS NOT NULL")[0][0]
        if exists and database.execute(f"SELECT pid FROM {lease.TABLE}") == [(process.pid,)]:
            return
        time.sleep(0.1)
    pytest.fail(f"migrate took no lease: {process.communicate()}")


def test_a_live_lease_is_renewed_and_a_killed_ones_expires_within_the_bound(
    production_db, pgbouncer
):
    bound = 3
    env = {"MIGRATE_LEASE_SECONDS": str(bound)}
    url = pgbouncer.url(production_db.name)
    migrator = _start_migrate(url, env)
    _wait_for_lease(production_db, migrator)
    time.sleep(bound + 1)  # past the first expiry: only the heartbeat keeps the lease

    assert migrator.poll() is None, "the upgrade ended too soon to show the heartbeat"
    renewed = run_manage("migrate", "--no-input", database_url=url, env=env)
    assert renewed.returncode == ANOTHER_MIGRATOR, renewed.stderr
    assert f"pid {migrator.pid}" in renewed.stderr

    # As if it ran on another machine: its pid cannot be checked from here.
    production_db.execute(f"UPDATE {lease.TABLE} SET machine = 'elsewhere' RETURNING 1")
    migrator.send_signal(signal.SIGKILL)
    migrator.wait(timeout=10)
    killed_at = production_db.execute("SELECT clock_timestamp()")[0][0]
    blocked = run_manage("migrate", "--no-input", database_url=url, env=env)
    expires_at = production_db.execute(f"SELECT expires_at FROM {lease.TABLE}")[0][0]

    assert blocked.returncode == ANOTHER_MIGRATOR, blocked.stderr
    assert f"pid {migrator.pid} on host {socket.gethostname()}" in blocked.stderr
    assert "at most 3 s after its last renewal" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    assert (expires_at - killed_at).total_seconds() <= bound
    time.sleep(max((expires_at - killed_at).total_seconds(), 0) + 0.5)
    # Through the same pooler, undeclared: migrate detects it by itself.
    resumed = run_manage(
        "migrate",
        "--fake-initial",
        "--no-input",
        database_url=pgbouncer.url(production_db.name, declared=False),
        env=env,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _duplicates(production_db, "SELECT app, name FROM django_migrations") == []
    assert production_db.execute(f"SELECT count(*) FROM {lease.TABLE}") == [(0,)]


def test_a_migrator_killed_on_this_machine_is_replaced_at_once(production_db, pgbouncer):
    url = pgbouncer.url(production_db.name)
    migrator = _start_migrate(url)
    _wait_for_lease(production_db, migrator)
    time.sleep(1.5)  # let it start applying

    migrator.send_signal(signal.SIGKILL)
    migrator.wait(timeout=10)
    (dead_until, started) = production_db.execute(
        f"SELECT expires_at, clock_timestamp() FROM {lease.TABLE}"
    )[0]
    resumed = run_manage("migrate", "--fake-initial", "--no-input", database_url=url)

    assert started < dead_until  # started while the dead run's lease was still current
    assert resumed.returncode == 0, resumed.stderr
    assert _duplicates(production_db, "SELECT app, name FROM django_migrations") == []


def test_a_migrator_that_lost_its_lease_stops_before_the_next_migration(production_db, pgbouncer):
    migrator = _start_migrate(pgbouncer.url(production_db.name))
    _wait_for_lease(production_db, migrator)

    # What a run that took over an expired lease leaves: the row is no longer this run's.
    production_db.execute(f"UPDATE {lease.TABLE} SET token = gen_random_uuid() RETURNING 1")
    code, out, err = migrator.wait(timeout=300), *migrator.communicate()

    assert code == ANOTHER_MIGRATOR, (out, err)
    assert "This migrate lost its lease" in err
    assert "Traceback" not in err
    started = out.count("  Applying ")
    finished = out.count(" OK\n") + out.count(" FAKED\n")
    assert started == finished  # none left half-way
    assert len(production_db.applied_migrations()) == finished
    assert production_db.execute(f"SELECT count(*) FROM {lease.TABLE}") == [(1,)]


@pytest.fixture
def register(django_db_blocker) -> Iterator:
    """Factory: a Django connection alias with these settings (forgotten afterwards)."""
    from django.db import connections

    aliases = []

    def make(alias: str, settings_dict: dict):
        connections.settings[alias] = settings_dict
        aliases.append(alias)
        return connections[alias]

    with django_db_blocker.unblock():
        yield make
        for alias in aliases:
            connections[alias].close()
            del connections[alias]
            del connections.settings[alias]


def test_a_pooler_is_declared_in_the_url_or_detected(server, production_db, pgbouncer, register):
    declared = pooler.configure({"OPTIONS": {"pooler": "transaction"}})
    assert declared["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert declared["OPTIONS"] == {"prepare_threshold": None}

    direct = register("direct", {**server, "NAME": production_db.name})
    through = register(
        "through",
        {
            **server,
            "NAME": production_db.name,
            "HOST": "127.0.0.1",
            "PORT": pgbouncer.port,
            "OPTIONS": {},
        },
    )
    assert pooler.adapt(direct) is False
    assert not direct.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    assert pooler.adapt(through) is True
    assert through.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert through.connection.prepare_threshold is None


@pytest.mark.parametrize("seconds", ["0", "nan", "a minute"])
def test_a_lease_shorter_than_a_second_is_refused(production_db, seconds):
    result = production_db.manage(
        "migrate", "--fake-initial", "--no-input", env={"MIGRATE_LEASE_SECONDS": seconds}
    )

    assert result.returncode == 2, result.stderr
    assert f"MIGRATE_LEASE_SECONDS is '{seconds}': it must be a number" in result.stderr
    assert "Traceback" not in result.stderr
    assert production_db.applied_migrations() == []


def test_statement_pooling_is_refused_in_one_paragraph(production_db):
    separator = "&" if "?" in production_db.url else "?"
    url = f"{production_db.url}{separator}pooler=statement"

    result = run_manage("migrate", "--no-input", database_url=url)

    assert result.returncode == 2, result.stderr
    assert "Unknown pooler mode 'statement'" in result.stderr
    assert "Statement pooling cannot work" in result.stderr
    assert "Traceback" not in result.stderr
    assert production_db.applied_migrations() == []
