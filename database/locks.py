"""Session-level PostgreSQL advisory locks."""

import contextlib
from collections.abc import Iterator


class LockUnavailable(Exception):
    pass


@contextlib.contextmanager
def advisory_lock(connection, key: int) -> Iterator[None]:
    """Hold advisory lock ``key`` on ``connection``'s session, or raise LockUnavailable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise LockUnavailable(key)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
