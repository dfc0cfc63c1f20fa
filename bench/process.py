"""Run ``manage.py`` against one bench database: wall time, output and the child's peak memory."""

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Completed:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float  # peak resident memory of this child process alone

    def check(self) -> "Completed":
        if self.returncode != 0:
            tail = (self.stderr or self.stdout)[-3000:]
            raise RuntimeError(f"{' '.join(self.args)} exited {self.returncode}:\n{tail}")
        return self


def manage(
    *args: str,
    database_url: str,
    app_name: str = "bench",
    options: str = "",
    env: dict | None = None,
) -> Completed:
    """``python manage.py *args`` against ``database_url`` (``env``: more variables)."""
    return python(
        "manage.py", *args, database_url=database_url, app_name=app_name, options=options, env=env
    )


def python(
    *args: str,
    database_url: str,
    app_name: str = "bench",
    options: str = "",
    env: dict | None = None,
) -> Completed:
    """``python *args`` with DATABASE_URL set; waits with ``wait4`` for the child's rusage.

    ``PGAPPNAME`` labels the child's sessions in ``pg_stat_activity``, so the lock sampler
    can tell the upgrade's statements from everyone else's; ``PGOPTIONS`` (``options``) sets
    server settings for its sessions only.
    """
    env = {**os.environ, **(env or {}), "DATABASE_URL": database_url, "PGAPPNAME": app_name}
    if options:
        env["PGOPTIONS"] = options
    command = [sys.executable, *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Completed(
            command[1:], child.returncode, out.read(), err.read(), seconds, usage.ru_maxrss / 1024
        )
