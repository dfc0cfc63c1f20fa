"""A real hot standby: ``check_integrity --database replica`` serves from it, ``migrate``
refuses it up front, and its recovery conflicts become one paragraph (``database.errors``).

The test starts its own primary with the binaries of the server under test (the embedded
pgserver build, or Debian's PostgreSQL 15 when DATABASE_URL points at one), loads the demo
database with ``rehearse_adoption``, and clones it with ``pg_basebackup -R``.
"""

import contextlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connections

from config.database_urls import database_config
from database import errors
from database.online import batches, ddl
from database.schema import scratch
from tests.conftest import run_manage

DEMO = "production_rehearsal"


def binaries_like(server: dict) -> Path:
    """The bin directory of a PostgreSQL build of the same major version as ``server``."""
    with scratch.connect(server, "postgres") as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10_000
    from config.embedded import pg_ctl_path  # pgserver's bin folder, without importing it

    candidates = [pg_ctl_path().parent]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    for bindir in candidates:
        if not (bindir / "postgres").exists():
            continue
        version = subprocess.run(
            [bindir / "postgres", "--version"], capture_output=True, text=True, check=True
        ).stdout
        if int(re.search(r"(\d+)\.\d+", version).group(1)) == major:
            return bindir
    raise AssertionError(f"No PostgreSQL {major} binaries to build a standby with: {candidates}")


def _os_user() -> dict:
    """PostgreSQL refuses to run as root: run it as postgres (or pgserver's own user)."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "pgserver"):
        try:
            return {"user": pwd.getpwnam(name).pw_uid}
        except KeyError:
            continue
    raise AssertionError("Running as root without a postgres or pgserver OS user")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    bindir: Path
    data: Path
    socket_dir: Path
    port: int

    def run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self.bindir / program), *args],
            check=True,
            capture_output=True,
            timeout=300,
            **_os_user(),
        )

    def start(self, *settings: str) -> None:
        options = f"-k {self.socket_dir} -p {self.port} -c listen_addresses=''"
        options += "".join(f" -c {setting}" for setting in settings)
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", f"{self.data}.log", "-w", "-o", options, "start"
        )

    def stop(self) -> None:
        subprocess.run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
            **_os_user(),
        )

    def url(self, dbname: str) -> str:
        host = str(self.socket_dir).replace("/", "%2F")
        return f"postgres://postgres@/{dbname}?host={host}&port={self.port}"

    def connect(self, dbname: str = DEMO, **kwargs) -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.socket_dir), port=self.port, user="postgres", dbname=dbname, **kwargs
        )


@pytest.fixture(scope="module")
def primary_and_standby(server) -> Iterator[tuple[Cluster, Cluster]]:
    bindir = binaries_like(server)
    folder = Path(tempfile.mkdtemp(prefix="standby-test-"))
    os.chmod(folder, 0o777)
    if _os_user():
        shutil.chown(folder, user=_os_user()["user"])
    primary = Cluster(bindir, folder / "primary", folder, _free_port())
    standby = Cluster(bindir, folder / "standby", folder, _free_port())
    try:
        primary.run(
            "initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        primary.start()
        loaded = run_manage(
            "rehearse_adoption", "--name", DEMO, database_url=primary.url("postgres")
        )
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        primary.run(
            "pg_basebackup",
            "-D",
            str(standby.data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-h",
            str(folder),
            "-p",
            str(primary.port),
            "-U",
            "postgres",
        )
        standby.start("hot_standby=on")
        _wait_for_replay(primary, standby)
        yield primary, standby
    finally:
        standby.stop()
        primary.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_replay(primary: Cluster, standby: Cluster) -> None:
    with primary.connect(autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with standby.connect(autocommit=True) as conn:
                recovering, caught_up = conn.execute(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn",
                    [target],
                ).fetchone()
            if recovering and caught_up:
                return
        except psycopg.OperationalError:
            pass  # still starting
        time.sleep(0.2)
    raise AssertionError("The standby did not catch up with the primary within 60 s")


def findings(stdout: str) -> list:
    report = json.loads(stdout)
    return sorted(json.dumps(finding, sort_keys=True) for finding in report["findings"])


def test_check_integrity_serves_from_the_standby_with_the_primarys_findings(primary_and_standby):
    primary, standby = primary_and_standby
    env = {"DATABASE_REPLICA_URL": standby.url(DEMO)}

    on_primary = run_manage("check_integrity", "--format", "json", database_url=primary.url(DEMO))
    on_standby = run_manage(
        "check_integrity",
        "--format",
        "json",
        "--database",
        "replica",
        database_url=primary.url(DEMO),
        env=env,
    )

    assert on_primary.returncode == 1, on_primary.stderr  # the sample's defects
    assert on_standby.returncode == on_primary.returncode, on_standby.stderr
    assert "Traceback" not in on_standby.stderr
    assert findings(on_standby.stdout) == findings(on_primary.stdout)
    assert len(findings(on_standby.stdout)) > 5


def test_migrate_refuses_the_standby_before_doing_anything(primary_and_standby):
    primary, standby = primary_and_standby
    with primary.connect() as conn:
        applied = conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]

    as_replica = run_manage(
        "migrate",
        "--no-input",
        "--database",
        "replica",
        database_url=primary.url(DEMO),
        env={"DATABASE_REPLICA_URL": standby.url(DEMO)},
    )
    as_default = run_manage("migrate", "--no-input", database_url=standby.url(DEMO))

    for result in (as_replica, as_default):
        assert result.returncode == errors.READ_ONLY, result.stdout + result.stderr
        assert result.stdout == ""  # not even the baseline check ran
        paragraph = result.stderr.strip()
        assert "\n" not in paragraph and "Traceback" not in paragraph
        assert "is a hot standby (pg_is_in_recovery() is true)" in paragraph
    with primary.connect() as conn:
        assert conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0] == applied


def test_a_recovery_conflict_is_one_paragraph(primary_and_standby):
    primary, standby = primary_and_standby
    with standby.connect(autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET max_standby_streaming_delay = 0")
        conn.execute("SELECT pg_reload_conf()")
    raised: list[BaseException] = []

    def long_read():
        with standby.connect(autocommit=True) as conn:
            try:
                conn.execute("SELECT pg_sleep(30) FROM users LIMIT 1")
            except psycopg.Error as error:
                raised.append(error)

    reader = threading.Thread(target=long_read)
    reader.start()
    try:
        time.sleep(1)  # the read holds its lock on users
        with primary.connect() as conn:
            conn.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    finally:
        reader.join(timeout=60)
        with standby.connect(autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET max_standby_streaming_delay")
            conn.execute("SELECT pg_reload_conf()")

    assert raised, "the standby did not cancel the conflicting read"
    returncode, paragraph = errors.explain(raised[0], {"NAME": DEMO, "USER": "postgres"})
    assert returncode == errors.CONFLICT
    assert "conflict with recovery" in paragraph
    assert "max_standby_streaming_delay" in paragraph and "\n" not in paragraph


def test_a_wrong_password_is_one_paragraph_and_exit_2(primary_and_standby):
    primary, _ = primary_and_standby
    hba = primary.data / "pg_hba.conf"
    hba.write_text("local all password_user scram-sha-256\n" + hba.read_text())
    with primary.connect(autocommit=True) as conn:
        conn.execute("CREATE ROLE password_user LOGIN PASSWORD 'right'")
        conn.execute("SELECT pg_reload_conf()")
    url = primary.url(DEMO).replace("postgres@", "password_user:wrong@", 1)

    result = run_manage("showmigrations", database_url=url)

    assert result.returncode == errors.CANNOT_RUN, result.stdout + result.stderr
    paragraph = result.stderr.strip()
    assert "\n" not in paragraph and "Traceback" not in paragraph
    assert 'password authentication failed for user "password_user"' in paragraph
    assert "The server rejected the credentials." in paragraph
    assert "wrong" not in paragraph


# -- the batches' throttle on the standby's replay lag (database.online.batches.throttling)

PROBE_ROWS = 40_000
PROBE_BATCH = 2_000


@pytest.fixture
def primary_alias(primary_and_standby, django_db_blocker) -> Iterator[str]:
    """A Django connection alias on the primary's demo database, and a table to backfill."""
    primary, standby = primary_and_standby
    with primary.connect(autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS lag_probe")
        conn.execute("CREATE TABLE lag_probe (id serial PRIMARY KEY, note text, filler text)")
        conn.execute(
            "INSERT INTO lag_probe (filler) SELECT repeat('x', 200) FROM generate_series(1, %s)",
            [PROBE_ROWS],
        )
    _wait_for_replay(primary, standby)
    settings_dict = {
        **connections.settings["default"],
        **database_config("DATABASE_URL", primary.url(DEMO)),
    }
    with django_db_blocker.unblock(), scratch.database_alias(settings_dict, DEMO) as alias:
        yield alias


@contextlib.contextmanager
def replay_paused(standby: Cluster) -> Iterator[None]:
    with standby.connect(autocommit=True) as conn:
        # The standby reports its replay position every second, not every 10.
        conn.execute("ALTER SYSTEM SET wal_receiver_status_interval = 1")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with standby.connect(autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
            conn.execute("ALTER SYSTEM RESET wal_receiver_status_interval")
            conn.execute("SELECT pg_reload_conf()")


def written(primary: Cluster) -> int:
    with primary.connect(autocommit=True) as conn:
        return conn.execute("SELECT count(note) FROM lag_probe").fetchone()[0]


def backfill_probe(alias: str, lines: list[str]) -> int:
    return ddl.backfill(
        connections[alias],
        batches.Table("lag_probe"),
        "note",
        "'done'",
        batch_size=PROBE_BATCH,
        progress=lines.append,
    )


def test_batches_wait_while_the_standby_lags_more_than_the_bound(
    primary_and_standby, primary_alias, settings
):
    primary, standby = primary_and_standby
    settings.MIGRATE_MAX_REPLICA_LAG_BYTES = str(2**20)
    lines: list[str] = []
    outcome: list = []
    with replay_paused(standby):
        backfill = threading.Thread(
            target=lambda: outcome.append(backfill_probe(primary_alias, lines))
        )
        backfill.start()
        deadline = time.monotonic() + 60
        while not any("waiting for standby" in line for line in lines):
            assert time.monotonic() < deadline and backfill.is_alive(), lines
            time.sleep(0.1)
        held = written(primary)
        time.sleep(3)
        assert written(primary) == held  # no batch past the bound while replay is paused
        assert 0 < held < PROBE_ROWS
    backfill.join(timeout=120)

    assert outcome == [PROBE_ROWS]
    assert written(primary) == PROBE_ROWS
    waiting = next(line for line in lines if "waiting for standby" in line)
    assert "MB behind" in waiting and "more than 1.0 MB (MIGRATE_MAX_REPLICA_LAG_BYTES)" in waiting
    assert any("standbys within 1.0 MB again after" in line for line in lines)


def test_a_standby_stuck_past_the_longest_wait_stops_the_batches_with_exit_10(
    primary_and_standby, primary_alias, settings
):
    primary, standby = primary_and_standby
    settings.MIGRATE_MAX_REPLICA_LAG_BYTES = str(2**20)
    settings.MIGRATE_REPLICA_WAIT_SECONDS = "2"
    with replay_paused(standby), pytest.raises(errors.StandbyLagWaitExhausted) as raised:
        backfill_probe(primary_alias, [])

    returncode, paragraph = errors.explain(raised.value, connections[primary_alias].settings_dict)
    assert returncode == errors.STANDBY_LAG == 10
    assert "more than 1.0 MB behind (MIGRATE_MAX_REPLICA_LAG_BYTES)" in paragraph
    assert "for 2 s (MIGRATE_REPLICA_WAIT_SECONDS)" in paragraph
    assert "a re-run resumes" in paragraph and "\n" not in paragraph
    assert 0 < written(primary) < PROBE_ROWS  # the batches committed before the wait are kept


def test_a_role_without_pg_monitor_pauses_only_and_says_so_once(
    primary_and_standby, primary_alias, settings
):
    primary, standby = primary_and_standby
    with primary.connect(autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS lag_blind")
        conn.execute("CREATE ROLE lag_blind LOGIN")
        conn.execute("GRANT SELECT, UPDATE ON lag_probe TO lag_blind")
    settings.MIGRATE_MAX_REPLICA_LAG_BYTES = str(2**20)
    settings.MIGRATE_REPLICA_WAIT_SECONDS = "2"  # a wait would fail the test
    connections.settings["lag_blind"] = {
        **connections[primary_alias].settings_dict,
        "USER": "lag_blind",
    }
    lines: list[str] = []
    try:
        with replay_paused(standby):
            assert backfill_probe("lag_blind", lines) == PROBE_ROWS
            again = ddl.backfill(
                connections["lag_blind"],
                batches.Table("lag_probe"),
                "note",
                "'again'",
                progress=lines.append,
            )
    finally:
        connections["lag_blind"].close()
        del connections["lag_blind"]
        del connections.settings["lag_blind"]

    assert again == 0
    unreadable = [line for line in lines if "cannot read its lag" in line]
    assert len(unreadable) == 1, lines
    assert "needs pg_monitor" in unreadable[0]
    assert not any("waiting for standby" in line for line in lines)
    assert written(primary) == PROBE_ROWS


def test_clear_expired_tokens_stops_with_exit_10_on_a_stalled_standby(primary_and_standby):
    primary, standby = primary_and_standby
    with primary.connect(autocommit=True) as conn:
        conn.execute("UPDATE users SET password_reset_token = NULL")
        conn.execute(
            "UPDATE users SET password_reset_token = 'stale', password_reset_sent_at = NULL "
            "WHERE id IN (SELECT id FROM users ORDER BY id LIMIT 3)"
        )
    _wait_for_replay(primary, standby)
    stalled = {"MIGRATE_MAX_REPLICA_LAG_BYTES": "1", "MIGRATE_REPLICA_WAIT_SECONDS": "1"}

    with replay_paused(standby):
        result = run_manage(
            "clear_expired_tokens",
            "--batch-size",
            "1",
            database_url=primary.url(DEMO),
            env=stalled,
        )

    assert result.returncode == errors.STANDBY_LAG, result.stdout + result.stderr
    assert "waiting for standby" in result.stdout
    paragraph = result.stderr.strip()
    assert "\n" not in paragraph and "Traceback" not in paragraph
    assert "MIGRATE_REPLICA_WAIT_SECONDS" in paragraph and "pg_wal_replay_resume()" in paragraph
    with primary.connect(autocommit=True) as conn:
        left = conn.execute("SELECT count(password_reset_token) FROM users").fetchone()[0]
    assert left == 2  # the first batch is kept; a re-run clears the rest
