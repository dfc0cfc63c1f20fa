"""A private PostgreSQL 15 server for one benchmark run: socket-only, in a temporary folder.

Production runs PostgreSQL 15, so the benchmarks do too (the embedded PostgreSQL 16 build
lacks OpenSSL, which makes ``gen_random_uuid()`` about 3x slower). The server is started
with Debian's binaries as the ``postgres`` OS user (``runuser``), listens only on a unix
socket in its own temporary folder on a private port, and is stopped and deleted at the end.
"""

import contextlib
import datetime
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DEFAULT_PORT = 54399
OS_USER = "postgres"

SLOW_MS = 250  # statements at least this long are logged, with their database and application
LOGGED = re.compile(
    r"^(\S+ \S+) \S+ \[\d+\] (\S+) (\S*): LOG:  duration: ([\d.]+) ms  "
    r"(?:statement|execute [^:]*): (.*)"
)

# A small production-like configuration. fsync and synchronous_commit stay on so that a
# writer's latency includes its WAL flush, as it would in production.
SERVER_SETTINGS = {
    "listen_addresses": "",
    "shared_buffers": "512MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "log_lock_waits": "on",
    "log_min_duration_statement": f"{SLOW_MS}ms",
    "log_line_prefix": "%m [%p] %d %a: ",  # %m is in log_timezone: UTC below
    "log_timezone": "UTC",
    "log_min_messages": "warning",
    "timezone": "UTC",
}


@dataclass(frozen=True)
class Logged:
    """One statement from the server log: when it ended (epoch seconds), its duration, text."""

    ended: float
    ms: float
    text: str

    @property
    def started(self) -> float:
        return self.ended - self.ms / 1000


@dataclass(frozen=True)
class Server:
    socket_dir: Path
    port: int
    user: str = OS_USER

    @property
    def version(self) -> str:
        return _run([str(PG_BIN / "postgres"), "--version"]).stdout.strip()

    def url(self, dbname: str = "postgres") -> str:
        """A DATABASE_URL for ``dbname`` on this server (understood by django-environ)."""
        host = quote(str(self.socket_dir), safe="")
        return f"postgres://{self.user}@/{dbname}?host={host}&port={self.port}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={self.user} dbname={dbname}"

    def logged(self, dbname: str, application: str) -> list[Logged]:
        """The statements the server logged for ``dbname`` and ``application``, in order."""
        log = self.socket_dir / "log"
        found = []
        for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
            match = LOGGED.match(line)
            if match and match[2] == dbname and match[3] == application:
                ended = datetime.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S.%f")
                at = ended.replace(tzinfo=datetime.UTC).timestamp()
                found.append(Logged(at, float(match[4]), match[5].strip()))
        return found

    def slow_statements(self, dbname: str, application: str) -> list[Logged]:
        """The logged statements that took at least ``SLOW_MS``."""
        return [s for s in self.logged(dbname, application) if s.ms >= SLOW_MS]


def ensure_binaries() -> None:
    """Install Debian's postgresql-15 when its binaries are missing."""
    if (PG_BIN / "postgres").exists():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql-15"], check=True, env=env)


@contextlib.contextmanager
def private_server(port: int = DEFAULT_PORT, keep: Path | None = None) -> Iterator[Server]:
    """Start a PostgreSQL 15 cluster, yield it, then stop it.

    Without ``keep`` the cluster is a throw-away one in a temporary folder, deleted at the
    end. With ``keep`` it lives in that folder (created, or started again if it holds one
    from an earlier run) and stays there, stopped, for a later run to reuse.
    """
    ensure_binaries()
    workdir = keep or Path(tempfile.mkdtemp(prefix="bench-pg15."))
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        _give_to_postgres(workdir)
        if not (workdir / "data" / "PG_VERSION").exists():
            _initdb(workdir / "data")
        _pg_ctl(workdir, "start", "-w", "-l", str(workdir / "log"), "-o", _options(workdir, port))
        try:
            yield Server(workdir, port)
        finally:
            _pg_ctl(workdir, "stop", "-m", "fast")
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def standby_of(primary: Server, port: int) -> Iterator[Server]:
    """A hot standby streaming from ``primary`` on the same machine (``pg_basebackup -R``),
    on its own port and data folder beside the primary's; stopped at the end of the block
    (its files go with the primary's folder)."""
    workdir = primary.socket_dir
    data = workdir / "standby"
    _as_postgres(
        [str(PG_BIN / "pg_basebackup"), "-D", str(data), "-R", "-X", "stream", "-c", "fast",
         "-h", str(workdir), "-p", str(primary.port), "-U", primary.user]
    )  # fmt: skip
    options = _options(workdir, port, STANDBY_SETTINGS)
    _pg_ctl(workdir, "start", "-w", "-l", str(workdir / "standby.log"), "-o", options, data=data)
    try:
        _wait_until_streaming(primary)
        yield Server(workdir, port)
    finally:
        _pg_ctl(workdir, "stop", "-m", "fast", data=data)


# The standby replays with the primary's settings, and a smaller cache (same machine).
STANDBY_SETTINGS = {"shared_buffers": "256MB", "hot_standby": "on"}


def wait_for_replay(primary: Server, standby: Server, seconds: float = 600) -> None:
    """Return once ``standby`` has replayed all the WAL ``primary`` had written on the call."""
    import psycopg

    with psycopg.connect(primary.conninfo(), autocommit=True) as conn:
        (target,) = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
    deadline = time.monotonic() + seconds
    with psycopg.connect(standby.conninfo(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            query = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
            if conn.execute(query, [target]).fetchone()[0]:
                return
            time.sleep(0.2)
    raise RuntimeError(f"the standby did not catch up with the primary in {seconds:g} s")


def _wait_until_streaming(primary: Server, seconds: float = 60) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    with psycopg.connect(primary.conninfo(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            query = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
            if conn.execute(query).fetchone()[0]:
                return
            time.sleep(0.2)
    raise RuntimeError(f"the standby was not streaming from the primary after {seconds:g} s")


def _options(workdir: Path, port: int, overrides: dict | None = None) -> str:
    settings = {**SERVER_SETTINGS, **(overrides or {})}
    settings |= {"unix_socket_directories": str(workdir), "port": str(port)}
    return " ".join(f"-c {name}='{value}'" for name, value in settings.items())


def _initdb(datadir: Path) -> None:
    options = ["--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
    _as_postgres([str(PG_BIN / "initdb"), "-D", str(datadir), "-U", OS_USER, *options])


def _pg_ctl(workdir: Path, *args: str, data: Path | None = None) -> None:
    try:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data or workdir / "data"), *args])
    except subprocess.CalledProcessError as error:
        log = workdir / ("standby.log" if data else "log")
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(f"pg_ctl {args[0]} failed: {error.stderr}\n{tail}") from error


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, OS_USER, OS_USER)


def _as_postgres(command: list[str]) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", OS_USER, "--", *command]
    return _run(command)


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True)
