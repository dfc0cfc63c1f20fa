"""What the rest of the world sees while the upgrade runs.

Two helper processes on their own connections (unix socket only):

- the **lock sampler** reads ``pg_locks`` joined with ``pg_stat_activity`` every few
  milliseconds and records, per table and per transaction, how long an ACCESS EXCLUSIVE
  lock was seen held, and how long any session was seen waiting for a lock on a table;
- the **writer** plays the running application: single-row INSERTs and UPDATEs on
  ``content_logs`` in a loop (bounded in count and time), timing each one;
- with a standby (``bench/run.py --standby``), the **lag sampler** reads every 100 ms the
  standby's own replay position (``pg_last_wal_replay_lsn()``) and the primary's WAL position
  after it: the bytes the standby has yet to replay, as it is, not as it last reported them;
  and ``replay_lag`` from the primary's ``pg_stat_replication``.

Each runs in its own process (``spawn``), so neither competes for the parent's GIL.
"""

import multiprocessing
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

WRITER_APP = "bench-writer"
SAMPLER_APP = "bench-lock-sampler"
UPGRADE_APP = "bench-upgrade"  # migrate --fake-initial (bench/upgrade.py)
RAW_APP = "bench-raw"  # the raw statements (bench/upgrade.py)

LOCKS = """
SELECT c.relname, l.pid, l.mode, l.granted, a.application_name,
       coalesce(a.xact_start, a.query_start), left(a.query, 300),
       CASE WHEN NOT l.granted THEN pg_catalog.pg_blocking_pids(l.pid) END,
       CASE WHEN NOT l.granted THEN (
           SELECT string_agg(
               concat_ws(' ', b.backend_type, nullif(b.application_name, ''), b.pid,
                         left(b.query, 120)),
               ' | ')
           FROM pg_catalog.pg_stat_activity AS b
           WHERE b.pid = ANY (pg_catalog.pg_blocking_pids(l.pid))
       ) END
FROM pg_catalog.pg_locks AS l
JOIN pg_catalog.pg_class AS c ON c.oid = l.relation
JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'relation'
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
  AND (l.mode = 'AccessExclusiveLock' OR NOT l.granted)
  AND l.pid <> pg_backend_pid()
"""


@dataclass
class Interval:
    """A lock seen held (or awaited) from ``first`` to ``last`` (wall-clock seconds)."""

    table: str
    pid: int
    application: str
    mode: str
    query: str
    first: float
    last: float
    blockers: str = ""  # a wait's: the sessions it was first seen waiting behind
    blocker_pids: tuple[int, ...] = ()  # and their pids

    @property
    def seconds(self) -> float:
        return self.last - self.first


@dataclass
class LockSamples:
    held: list[Interval] = field(default_factory=list)  # ACCESS EXCLUSIVE, granted
    waited: list[Interval] = field(default_factory=list)  # any mode, not granted
    samples: int = 0
    seconds: float = 0.0

    @property
    def mean_interval_ms(self) -> float:
        return 1000 * self.seconds / max(self.samples, 1)


def sample_locks(conninfo: str, stop, results, interval: float, max_seconds: float) -> None:
    """Process body: sample until ``stop`` is set, then put a ``LockSamples`` on ``results``."""
    open_held: dict[tuple, Interval] = {}
    open_waits: dict[tuple, Interval] = {}
    found = LockSamples()
    started = time.monotonic()
    with psycopg.connect(conninfo, autocommit=True, application_name=SAMPLER_APP) as conn:
        while not stop.is_set() and time.monotonic() - started < max_seconds:
            tick = time.monotonic()
            now = time.time()
            for row in conn.execute(LOCKS, prepare=True):
                table, pid, mode, granted, app, since, query, pids, blockers = row
                book = open_held if granted else open_waits
                key = (table, pid, mode, since)
                seen = book.get(key)
                if seen is None:  # keep the statement running when the lock was first seen
                    seen = book[key] = Interval(table, pid, app or "", mode, query or "", now, now)
                seen.last = now
                if not seen.blockers and blockers:
                    seen.blockers, seen.blocker_pids = blockers, tuple(pids)
            found.samples += 1
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    found.seconds = time.monotonic() - started
    found.held, found.waited = list(open_held.values()), list(open_waits.values())
    results.put(found)


@dataclass
class WriteSample:
    at: float  # wall-clock start
    kind: str  # "insert" or "update"
    seconds: float
    error: str = ""


def write_loop(
    conninfo: str, stop, results, pause: float, max_ops: int, max_seconds: float
) -> None:
    """Process body: single-row writes on content_logs until stopped or a bound is reached."""
    rng = random.Random(7)
    samples: list[WriteSample] = []
    started = time.monotonic()
    with psycopg.connect(conninfo, autocommit=True, application_name=WRITER_APP) as conn:
        conn.execute("SET statement_timeout = '120s'")
        low_user, high_user = conn.execute("SELECT min(id), max(id) FROM users").fetchone()
        (high_log,) = conn.execute("SELECT max(id) FROM content_logs").fetchone()
        while (
            not stop.is_set()
            and len(samples) < max_ops
            and time.monotonic() - started < max_seconds
        ):
            user = rng.randint(low_user, high_user)
            samples.append(_timed(conn, "insert", INSERT, [user]))
            samples.append(_timed(conn, "update", UPDATE, [rng.randint(1, high_log)]))
            time.sleep(pause)
    results.put(samples)


INSERT = (
    "INSERT INTO content_logs (user_id, platform, content, content_type, status) "
    "VALUES (%s, 'twitter', 'Written by the benchmark while the upgrade runs.', 'text', 'draft')"
)
UPDATE = (
    "UPDATE content_logs SET updated_at = now() AT TIME ZONE 'UTC', "
    "engagement_score = engagement_score + 1 WHERE id = %s"
)


def _timed(conn: psycopg.Connection, kind: str, statement: str, params: list) -> WriteSample:
    at = time.time()
    started = time.perf_counter()
    error = ""
    try:
        conn.execute(statement, params, prepare=True)
    except psycopg.Error as exc:
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
    return WriteSample(at, kind, time.perf_counter() - started, error)


LAG_APP = "bench-lag-sampler"
REPLAYED = "SELECT pg_last_wal_replay_lsn()"
BEHIND = """
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)::bigint,
       (SELECT max(extract(epoch FROM replay_lag))::float8 FROM pg_stat_replication),
       (SELECT string_agg(left(query, 160), ' | ') FROM pg_stat_activity
        WHERE application_name = ANY (%s) AND state = 'active')
"""


@dataclass
class LagSample:
    at: float  # wall-clock
    behind_bytes: int
    replay_lag_seconds: float | None
    running: str = ""  # what the upgrade's sessions were running then


def sample_lag(
    conninfo: str, standby_conninfo: str, stop, results, interval: float, max_seconds: float
) -> None:
    """Process body: the standby's replay lag until ``stop`` is set; a list on ``results``."""
    samples: list[LagSample] = []
    started = time.monotonic()
    with (
        psycopg.connect(conninfo, autocommit=True, application_name=LAG_APP) as primary,
        psycopg.connect(standby_conninfo, autocommit=True, application_name=LAG_APP) as standby,
    ):
        while not stop.is_set() and time.monotonic() - started < max_seconds:
            tick = time.monotonic()
            (replayed,) = standby.execute(REPLAYED).fetchone()
            behind, seconds, running = primary.execute(
                BEHIND, [replayed, [UPGRADE_APP, RAW_APP]]
            ).fetchone()
            samples.append(LagSample(time.time(), max(behind, 0), seconds, running or ""))
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    results.put(samples)


@dataclass
class Observed:
    locks: LockSamples
    writes: list[WriteSample]
    lag: list[LagSample] = field(default_factory=list)


@dataclass
class MonitorSettings:
    lock_interval: float = 0.005
    write_pause: float = 0.010
    max_ops: int = 200_000
    max_seconds: float = 1800.0
    standby_conninfo: str = ""  # sample the replay lag of this standby too
    lag_interval: float = 0.1


@contextmanager
def monitors(conninfo: str, settings: MonitorSettings) -> Iterator[Observed]:
    """Run the sampler and the writer for the duration of the block; results filled after."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    lock_results, write_results = context.Queue(), context.Queue()
    sampler = context.Process(
        target=sample_locks,
        args=(conninfo, stop, lock_results, settings.lock_interval, settings.max_seconds),
    )
    writer = context.Process(
        target=write_loop,
        args=(
            conninfo,
            stop,
            write_results,
            settings.write_pause,
            settings.max_ops,
            settings.max_seconds,
        ),
    )
    lag_results = context.Queue()
    lag = context.Process(
        target=sample_lag,
        args=(
            conninfo,
            settings.standby_conninfo,
            stop,
            lag_results,
            settings.lag_interval,
            settings.max_seconds,
        ),
    )
    observed = Observed(LockSamples(), [])
    sampler.start()
    writer.start()
    if settings.standby_conninfo:
        lag.start()
    try:
        yield observed
    finally:
        stop.set()
        observed.locks = lock_results.get(timeout=60)
        observed.writes = write_results.get(timeout=180)
        if settings.standby_conninfo:
            observed.lag = lag_results.get(timeout=60)
            lag.join(10)
        sampler.join(10)
        writer.join(10)


def replay_lag(samples: list[LagSample], start: float, end: float) -> dict[str, Any]:
    """Max and p95 of the standby's replay lag (bytes, and replay_lag seconds) in [start, end)."""
    chosen = [s for s in samples if start <= s.at < end]
    if not chosen:
        return {"samples": 0}
    behind = sorted(s.behind_bytes for s in chosen)
    worst = max(chosen, key=lambda s: s.behind_bytes)
    seconds = sorted(s.replay_lag_seconds for s in chosen if s.replay_lag_seconds is not None)
    summary: dict[str, Any] = {
        "samples": len(chosen),
        "max_bytes": behind[-1],
        "p95_bytes": _percentile(behind, 0.95),
        "max_mb": round(behind[-1] / 2**20, 2),
        "p95_mb": round(_percentile(behind, 0.95) / 2**20, 2),
        "running_at_max": " ".join(worst.running.split())[:300],
    }
    if seconds:
        summary |= {
            "max_seconds": round(seconds[-1], 3),
            "p95_seconds": round(_percentile(seconds, 0.95), 3),
        }
    return summary


def latency(samples: list[WriteSample], start: float, end: float) -> dict[str, Any]:
    """p50/p99/max (ms) of the successful writes that started in [start, end)."""
    chosen = [s for s in samples if start <= s.at < end]
    done = sorted(1000 * s.seconds for s in chosen if not s.error)
    errors = [s.error for s in chosen if s.error]
    summary: dict[str, Any] = {"writes": len(chosen), "errors": len(errors)}
    if errors:
        summary["first_errors"] = sorted(set(errors))[:3]
    if done:
        summary |= {
            "p50_ms": round(statistics.median(done), 2),
            "p99_ms": round(_percentile(done, 0.99), 2),
            "max_ms": round(done[-1], 2),
        }
    return summary


def _percentile(ordered: list[float], share: float) -> float:
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def longest_holds(
    locks: LockSamples, application: str, start: float = 0.0, end: float = float("inf")
) -> dict[str, dict[str, Any]]:
    """Per table: the longest ACCESS EXCLUSIVE hold seen by ``application``'s sessions."""
    longest: dict[str, Interval] = {}
    for hold in locks.held:
        if hold.application != application or hold.last < start or hold.first > end:
            continue
        if hold.table not in longest or hold.seconds > longest[hold.table].seconds:
            longest[hold.table] = hold
    # The lock may have been taken just after the sample before the first one that saw it,
    # and released just before the sample after the last one: at most two intervals more.
    margin = 2 * locks.mean_interval_ms / 1000
    return {
        table: {
            "seen_seconds": round(hold.seconds, 3),
            "at_most_seconds": round(hold.seconds + margin, 3),
            "statement": " ".join(hold.query.split())[:200],
        }
        for table, hold in sorted(longest.items())
    }


def longest_waits(locks: LockSamples, application: str) -> dict[str, dict[str, Any]]:
    """Per table: the longest time a session of ``application`` was seen waiting for a lock,
    and the sessions it waited behind (a DDL statement queued behind an autovacuum, say)."""
    longest: dict[str, Interval] = {}
    for wait in locks.waited:
        if wait.application != application:
            continue
        if wait.table not in longest or wait.seconds > longest[wait.table].seconds:
            longest[wait.table] = wait
    return {
        table: {
            "seconds": round(wait.seconds, 3),
            "mode": wait.mode,
            "behind": " ".join(wait.blockers.split()),
            "behind_waits_behind": _waits_behind(locks, wait),
        }
        for table, wait in sorted(longest.items())
    }


def _waits_behind(locks: LockSamples, wait: Interval) -> str:
    """What the sessions ``wait`` queued behind were themselves waiting for, at that time."""
    found = {
        " ".join(other.blockers.split())
        for other in locks.waited
        if other.pid != wait.pid
        and other.blockers
        and other.pid in wait.blocker_pids
        and other.first <= wait.last
        and other.last >= wait.first
    }
    return " || ".join(sorted(found))
