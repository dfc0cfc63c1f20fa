"""The embedded default database: a PostgreSQL server installed from PyPI (pgserver).

It is started on demand the first time settings are loaded without DATABASE_URL, keeps its
data in ``.pgdata/`` (git-ignored) and keeps running after the process exits, so the next
command reuses it in milliseconds.
"""

import warnings
from pathlib import Path
from urllib.parse import quote

DEFAULT_DATABASE = "platform"


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
