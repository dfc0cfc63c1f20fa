"""The embedded default database: a PostgreSQL server installed from PyPI (pgserver).

It is started on demand the first time settings are loaded without DATABASE_URL, keeps its
data in ``.pgdata/`` (git-ignored) and keeps running after the process exits, so the next
command reuses it in milliseconds. Its one database is the demo database: ``make demo``
(``rehearse_adoption``) rebuilds it, and every command run without DATABASE_URL uses it.

``python -m config.embedded stop`` (``make stop``) stops it, as the OS user it runs as.
"""

import os
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

DEMO_DATABASE = "production_rehearsal"
DEFAULT_DATABASE = DEMO_DATABASE
DATA_DIR = Path(__file__).resolve().parent.parent / ".pgdata"


def embedded_database_url(data_dir: Path, database: str = DEFAULT_DATABASE) -> str:
    """Start (or reuse) the embedded server and return a URL for ``database`` on it."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; harmless here.
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(data_dir, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    server.psql(
        f"SELECT 'CREATE DATABASE {database}' "
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec"
    )
    return f"postgres://postgres@/{database}?host={quote(socket_dir, safe='')}&port={info.port}"


def pg_ctl_path() -> Path:
    """pgserver's own ``pg_ctl``, located without importing pgserver (whose import sets up
    its lock files)."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("pgserver is not installed")
    return Path(spec.origin).parent / "pginstall" / "bin" / "pg_ctl"


def stop_embedded_server(data_dir: Path = DATA_DIR) -> str:
    """Stop the embedded server of ``data_dir``; return what happened, in one line.

    pgserver runs PostgreSQL as the owner of the data folder: the ``pgserver`` OS user when
    started by root (PostgreSQL refuses to run as root, ``pg_ctl`` too), the caller otherwise.
    ``pg_ctl stop`` runs as that same owner.
    """
    if not (data_dir / "PG_VERSION").exists():
        return f"No embedded server in {data_dir}: nothing to stop."
    owner = data_dir.stat().st_uid
    as_owner = {"user": owner} if os.geteuid() == 0 and owner != 0 else {}

    def pg_ctl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(pg_ctl_path()), "-D", str(data_dir), *args],
            capture_output=True,
            text=True,
            timeout=120,
            **as_owner,
        )

    if pg_ctl("status").returncode == 3:  # pg_ctl's "no server running"
        return f"The embedded server in {data_dir} is not running."
    result = pg_ctl("-m", "fast", "-w", "stop")
    if result.returncode != 0:
        raise RuntimeError((result.stderr or result.stdout).strip())
    return f"Stopped the embedded server in {data_dir}."


def main(argv: list[str]) -> int:
    if argv != ["stop"]:
        print("usage: python -m config.embedded stop", file=sys.stderr)
        return 2
    try:
        print(stop_embedded_server())
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"Could not stop the embedded server: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
