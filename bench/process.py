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
    """``python *args`` with DATABASE_URL set; its peak RSS is the child's own (``REPORT_PEAK``).

    ``PGAPPNAME`` labels the child's sessions in ``pg_stat_activity``, so the lock sampler
    can tell the upgrade's statements from everyone else's; ``PGOPTIONS`` (``options``) sets
    server settings for its sessions only.
    """
    env = {**os.environ, **(env or {}), "DATABASE_URL": database_url, "PGAPPNAME": app_name}
    if options:
        env["PGOPTIONS"] = options
    with tempfile.NamedTemporaryFile("r") as peak:
        env[PEAK_FILE] = peak.name
        command = [sys.executable, "-c", REPORT_PEAK, *args]
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.monotonic()
            child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.monotonic() - started
            child.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        peak_kb = int(peak.read().strip() or usage.ru_maxrss)
    return Completed(list(args), child.returncode, stdout, stderr, seconds, peak_kb / 1024)


# The child's own peak: VmHWM of its address space, written at exit. wait4's ru_maxrss
# is no use here: Linux carries the high-water mark of the address space that exec
# replaces into it, and a child forked (or vforked) from this process starts with the
# bench's own memory (hundreds of MB of lock samples), whatever the child itself uses.
PEAK_FILE = "BENCH_PEAK_RSS_FILE"
REPORT_PEAK = """
import atexit, os, runpy, sys
def report():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(os.environ["BENCH_PEAK_RSS_FILE"], "w").write(line.split()[1])
atexit.register(report)
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name="__main__")
"""
