"""The migrate lease: one migrator per database, whatever sits between it and the server.

A session-level advisory lock does not survive a transaction-mode pooler: the lock lands on
whichever server connection ran the statement, a second migrator gets another one, and the
lock stays behind on the pooled connection after the first exits. The lease is a row instead
(``django_migrate_lease``, created when missing, as Django creates ``django_migrations``):
taken by one ``INSERT … ON CONFLICT … WHERE expired`` statement, so exactly one of two
racing migrators gets it; renewed by a heartbeat thread on its own connection; deleted at
exit. A migrator that dies without deleting it (kill -9, a lost machine) stops renewing it,
and the next run may take it once it has not been renewed for ``seconds``; at once if the
dead holder ran on the same machine and PID namespace, where its pid can be checked. The
server's clock is the only clock used.
"""

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import DatabaseError, IntegrityError, ProgrammingError, connections

TABLE = "django_migrate_lease"
NAME = "migrate"

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    name text PRIMARY KEY,
    token uuid NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    machine text NOT NULL,
    started_at timestamptz NOT NULL,
    renewed_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
)
"""

_TAKE = f"""
INSERT INTO {TABLE} AS lease
    (name, token, host, pid, machine, started_at, renewed_at, expires_at)
VALUES (%(name)s, %(token)s, %(host)s, %(pid)s, %(machine)s, clock_timestamp(),
        clock_timestamp(), clock_timestamp() + make_interval(secs => %(seconds)s))
ON CONFLICT (name) DO UPDATE SET
    token = EXCLUDED.token, host = EXCLUDED.host, pid = EXCLUDED.pid,
    machine = EXCLUDED.machine, started_at = EXCLUDED.started_at,
    renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
WHERE lease.expires_at < clock_timestamp() OR lease.token = %(dead)s
RETURNING token
"""

_RENEW = f"""
UPDATE {TABLE} SET renewed_at = clock_timestamp(),
    expires_at = clock_timestamp() + make_interval(secs => %(seconds)s)
WHERE name = %(name)s AND token = %(token)s
RETURNING token
"""

_HOLDER = f"""
SELECT host, pid, started_at, renewed_at, expires_at,
       greatest(extract(epoch FROM expires_at - clock_timestamp()), 0), machine, token::text
FROM {TABLE} WHERE name = %s
"""


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    started_at: datetime
    renewed_at: datetime
    expires_at: datetime
    expires_in: float
    machine: str
    token: str

    def __str__(self) -> str:
        return (
            f"pid {self.pid} on host {self.host}, started {self.started_at:%Y-%m-%d %H:%M:%S %Z}, "
            f"last renewed {self.renewed_at:%H:%M:%S %Z}; unless renewed, the lease expires in "
            f"{self.expires_in:.0f} s"
        )

    def died_here(self) -> bool:
        """True when the holder ran on this machine, in this PID namespace, and is gone."""
        return bool(self.machine) and self.machine == MACHINE and not _alive(self.pid)


def _machine() -> str:
    """This boot of this machine and PID namespace: where a holder's pid can be checked."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""  # not Linux: only expiry frees a dead migrator's lease
    return f"{boot}/{namespace}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


MACHINE = _machine()


class LeaseHeld(Exception):
    """Another migrator holds the lease; ``holder`` says who (None if it just ended)."""

    def __init__(self, holder: Holder | None):
        super().__init__(str(holder))
        self.holder = holder


class LeaseLost(Exception):
    """The lease expired while this migrator ran (its heartbeat could not renew it)."""


def _execute(connection, statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone() if cursor.description else None


def ensure_table(connection) -> None:
    """Create the lease table if missing; a racing creator's unique violation means done."""
    try:
        _execute(connection, _CREATE)
    except (IntegrityError, ProgrammingError) as error:
        if not _execute(connection, "SELECT to_regclass(%s)", [TABLE])[0]:
            raise error


def holder(connection) -> Holder | None:
    row = _execute(connection, _HOLDER, [NAME])
    return Holder(*row[:5], float(row[5]), *row[6:]) if row else None


class Lease:
    """This process's claim on the lease of ``connection``'s database."""

    def __init__(self, connection, seconds: float):
        self.alias = connection.alias
        self.connection = connection
        self.seconds = float(seconds)
        self.token = str(uuid.uuid4())
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._params = {"name": NAME, "token": self.token, "seconds": self.seconds}

    def take(self) -> None:
        """Take the lease if free or expired, or at once if its holder died on this machine
        (compared by token, so of two runs replacing one dead holder only one succeeds)."""
        ensure_table(self.connection)
        if self._take(dead=None):
            return
        current = holder(self.connection)
        if current and current.died_here() and self._take(dead=current.token):
            return
        raise LeaseHeld(holder(self.connection))

    def _take(self, dead: str | None) -> bool:
        params = {
            **self._params,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "machine": MACHINE,
            "dead": dead,
        }
        return _execute(self.connection, _TAKE, params) is not None

    def renew(self, connection=None) -> None:
        """Extend the lease by ``seconds`` from now; LeaseLost if another run has taken it."""
        if _execute(connection or self.connection, _RENEW, self._params) is None:
            self.lost.set()
        if self.lost.is_set():
            raise LeaseLost()

    def release(self) -> None:
        """Delete the lease if still ours. A failure here (a broken connection) must not hide
        the error that ended the run: the lease then simply expires."""
        with contextlib.suppress(DatabaseError):
            _execute(
                self.connection,
                f"DELETE FROM {TABLE} WHERE name = %(name)s AND token = %(token)s",
                self._params,
            )

    def _heartbeat(self) -> None:
        # Django connections are per thread: this one is the heartbeat's own.
        connection = connections[self.alias]
        try:
            while not self._stop.wait(self.seconds / 3):
                try:
                    self.renew(connection)
                except DatabaseError:
                    connection.close()  # the next beat reconnects
        except LeaseLost:
            pass
        finally:
            connection.close()

    @contextlib.contextmanager
    def held(self) -> Iterator["Lease"]:
        """Take the lease (or raise LeaseHeld), renew it in the background, release at exit."""
        self.take()
        beat = threading.Thread(target=self._heartbeat, name="migrate-lease", daemon=True)
        beat.start()
        try:
            yield self
        finally:
            self._stop.set()
            beat.join()
            self.release()
