"""Benchmark the project's operations against raw SQL on a production-shaped PostgreSQL 15.

    python bench/run.py --users 100000

starts a private PostgreSQL 15 (``bench.pg15``), grows the contract database to the scale
(``bench.generate``) as a template, and measures on identical copies of it:

1. each batched pass of the upgrade (a ``public_id`` backfill, or a ``RewriteOnce`` writing a
   table's public_id and shadow columns together) vs one ``UPDATE`` of all the columns it sets;
2. the longest ACCESS EXCLUSIVE hold per big table during the whole upgrade, and the latency
   of a concurrent single-row writer during the upgrade vs idle;
3. ``check_integrity`` vs the raw queries for the same problems, and its peak memory;
4. the whole upgrade (``migrate --fake-initial``) vs the sum of the raw statements of the
   naive upgrade (one UPDATE per column);
5. admin changelist latency on the largest table;
6. with ``--standby``: a streaming standby attached to the server (``bench.pg15.standby_of``),
   its replay lag during both upgrades, and the project upgrade run again on a fresh copy with
   the replica-lag throttle off (``MIGRATE_MAX_REPLICA_LAG_BYTES=0``) to price the throttle.

Prints a table with PASS/MISS per target and writes ``bench/results/latest.json`` plus a
dated copy. A measurement whose project side does not exist yet says "not measured: why".
"""

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet

from bench import pg15, report

TEMPLATE = "bench_template"
UPGRADED = "bench_upgrade"  # the copy the project upgrades, then checks and browses
KEPT_SCALE = "scale.json"  # in a --keep folder: the users of the run that left it
EXPECTED_BACKFILLS = ("users.public_id", "content_logs.public_id")
IDLE_SECONDS = 15.0
PASS_RATIO = 0.9  # a big table's pass vs one UPDATE of all its columns
UPGRADE_RATIO = 0.75  # the whole upgrade vs the naive one's raw statements
LOCK_SECONDS = 0.05  # ACCESS EXCLUSIVE held on any table
WRITER_P99_MS = 10.0
WRITER_MAX_MS = 250.0
INTEGRITY_RATIO = 0.8
INTEGRITY_RSS_MB = 150.0
ADMIN_MS = 100.0
THROTTLED_RATE = 0.7  # the throttled upgrade's rate, at least this share of the unthrottled
WAITED = re.compile(r"standbys within [\d.]+ MB again after ([\d.]+) s")


METHODS = {
    "copies": "CREATE DATABASE … TEMPLATE bench_template STRATEGY FILE_COPY, one per upgrade",
    "backfill": "project: the server's statement log of the upgrade, first batch start to last "
    "batch end (commits, pauses and VACUUMs between batches included); raw: one UPDATE t SET "
    "c = <expression> WHERE c IS NULL, from the raw upgrade; for a pass over several columns "
    "one UPDATE setting them all, run in a transaction rolled back (then VACUUM, untimed), "
    "outside the raw upgrade's total",
    "upgrade": "project: wall time of `manage.py migrate --fake-initial -v 2`; raw: the sum of "
    "the statements' own times, run one by one over psycopg (a transaction per atomic "
    "migration); the naive upgrade: a pass over several columns as one UPDATE per column",
    "watch": "both upgrades run under the lock sampler (pg_locks + pg_stat_activity every "
    "~5 ms) and the writer (an INSERT and an UPDATE of one content_logs row, then 10 ms "
    "pause, autocommit, unix socket); idle figures: the same watch for 15 s before",
    "locks": "per table, the longest ACCESS EXCLUSIVE seen held by one transaction of the "
    "upgrade's sessions (PGAPPNAME), plus two sampling intervals",
    "integrity": "wall time and peak RSS (the child's VmHWM at exit) of `manage.py "
    "check_integrity --format json`"
    ", whole and with --skip for checks that SQL cannot do (secrets: decryption); the latter"
    " vs the raw anti-joins (every foreign key and implied reference) and NULL/duplicate/"
    "sequence queries of bench/raw_checks.py, run alone in one session",
    "admin": "Django test Client in-process, force_login of a superuser; median of 5 warm "
    "GETs after one cold",
    "standby": "--standby: pg_basebackup -R of the bench server after the template is built, "
    "a hot standby on the next port (same machine); every 100 ms the standby's "
    "pg_last_wal_replay_lsn() then the primary's pg_current_wal_lsn() (bytes behind) and "
    "replay_lag from pg_stat_replication; rate ratio = unthrottled migrate wall time / "
    "throttled (the throttled run first, each on a fresh copy, the standby caught up before; "
    "one pair on a shared machine: the waits and the seconds waited, parsed from migrate's "
    "output, say what the throttle itself cost)",
}


class Bench:
    """One run: the server, the template, and the results gathered so far."""

    def __init__(
        self,
        server: pg15.Server,
        users: int,
        standby_port: int | None = None,
        keep: bool = False,
    ):
        from database.schema import scratch

        self.server = server
        self.standby_port = standby_port  # --standby: the port of the standby to attach
        self.standby: pg15.Server | None = None
        self.settings = scratch.server_settings()
        self.users = users
        self.keep = keep  # leave the upgraded copy behind for a --reuse run
        self.results: dict[str, Any] = {}
        self.targets: list[report.Target] = []
        self.big_tables: list[str] = []
        self.logged: list = []  # the project upgrade's statements, from the server log
        self.project_backfills: dict = {}  # "table.column" → upgrade.Timed

    # -- databases ------------------------------------------------------------------------

    def step(self, text: str) -> None:
        """Announce a phase; the load average at its start goes to the results (the machine's
        cores are shared, so other work shows up in the figures)."""
        load = os.getloadavg()[0]
        self.results.setdefault("load_average_1min_at", {})[text.split(" (")[0]] = load
        print(f"\n[{time.strftime('%H:%M:%S')}] {text} (load {load:.1f})", flush=True)

    @contextlib.contextmanager
    def copy(self, name: str, keep: bool = False) -> Iterator[str]:
        """A fresh copy of the template for the block; yields its name; dropped after unless
        ``keep``."""
        from bench import copies
        from database.schema import scratch

        seconds = copies.clone(self.settings, TEMPLATE, name)
        print(f"  copied {TEMPLATE} to {name} in {seconds:.1f} s", flush=True)
        try:
            yield name
        finally:
            if not keep:
                scratch.drop_database(self.settings, name)

    def alias(self, name: str):
        from database.schema import scratch

        return scratch.database_alias(self.settings, name)

    @contextlib.contextmanager
    def watched(self, name: str) -> Iterator:
        """The lock sampler and the writer on database ``name`` for the block."""
        from bench import monitor

        standby = self.standby.conninfo() if self.standby else ""  # cluster-wide: any database
        watch = monitor.MonitorSettings(standby_conninfo=standby)
        with monitor.monitors(self.server.conninfo(name), watch) as seen:
            yield seen

    # -- the run --------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        self.build()
        with self.standby_attached(), self.copy(UPGRADED, keep=self.keep) as upgraded:
            project = self.project_upgrade(upgraded)
            self.raw_upgrade(project)
            if self.standby:
                self.unthrottled_upgrade(project)
            if project is not None:
                self.integrity(upgraded)
                self.admin(upgraded)
            else:
                why = "the upgrade (migrate) failed, see upgrade_error"
                self.results["integrity"] = self.results["admin"] = {"not_measured": why}
        self.targets = all_targets(self.results, self.big_tables)
        return self.results

    @contextlib.contextmanager
    def standby_attached(self) -> Iterator[None]:
        """With ``--standby``: a streaming standby of the server for the block."""
        if self.standby_port is None:
            yield
            return
        self.step(f"Attaching a streaming standby (pg_basebackup -R, port {self.standby_port})")
        with pg15.standby_of(self.server, self.standby_port) as standby:
            self.standby = standby
            try:
                yield
            finally:
                self.standby = None

    def record_lag(self, phase: str, seen, began: float, ended: float) -> None:
        from bench import monitor

        if self.standby:
            lag = monitor.replay_lag(seen.lag, began, ended)
            self.results.setdefault("standby", {})[phase] = lag
            print(f"  standby replay lag during it: {lag}")

    def rerun(self) -> dict[str, Any]:
        """check_integrity and the admin again, on the upgraded copy a --keep run left."""
        from bench import copies, generate
        from database.schema import scratch

        self.step(f"Reusing {UPGRADED} ({self.users:,} users) from an earlier --keep run")
        with scratch.connect(self.settings, TEMPLATE) as conn:  # as grown, before the upgrade
            rows = generate.row_counts(conn)
        self.results["scale"] = {
            "users": self.users,
            "rows": rows,
            "total_rows": sum(rows.values()),
            "database_mb": round(copies.size(self.settings, UPGRADED) / 2**20),
            "reused": UPGRADED,
        }
        self.integrity(UPGRADED)
        self.admin(UPGRADED)
        self.targets = all_targets(self.results, [])
        return self.results

    def build(self) -> None:
        from bench import copies, generate
        from database.schema import scratch

        self.step(f"Growing the contract database to {self.users:,} users ({TEMPLATE})")
        seconds = generate.build(self.settings, TEMPLATE, self.users)
        with scratch.connect(self.settings, TEMPLATE) as conn:
            rows = generate.row_counts(conn)
            planted = generate.planted(conn)
        self.big_tables = sorted(t for t, n in rows.items() if n >= self.users)
        self.results["scale"] = {
            "users": self.users,
            "rows": rows,
            "total_rows": sum(rows.values()),
            "database_mb": round(copies.size(self.settings, TEMPLATE) / 2**20),
            "big_tables": self.big_tables,
            "planted_defects": planted,
        }
        self.results["generate_seconds"] = round(seconds, 1)

    def project_upgrade(self, name: str):
        """migrate --fake-initial under watch, after an idle period with the same watch."""
        from bench import upgrade

        self.step(
            f"Whole upgrade as the project runs it (migrate --fake-initial), under the lock "
            f"sampler and the writer, after {IDLE_SECONDS:.0f} s of them alone"
        )
        project, failed = None, ""
        with self.watched(name) as seen:
            time.sleep(IDLE_SECONDS)
            if self.standby:
                pg15.wait_for_replay(self.server, self.standby)
            began = time.time()
            try:
                project = upgrade.project_upgrade(self.server.url(name))
            except RuntimeError as error:
                failed = str(error)[-2000:]
            ended = time.time()
        self.results["locks"] = locks_section(seen, began, ended, self.big_tables, failed)
        self.record_lag("project_upgrade", seen, began, ended)
        if project is None:
            self.results["upgrade_error"] = failed
            print(f"  migrate FAILED:\n{failed}")
            return None
        self.logged = self.server.logged(name, upgrade.UPGRADE_APP)
        self.project_backfills = upgrade.logged_backfills(
            self.logged, project.reported_rows, self.results["scale"]["rows"]
        )
        print(f"  {len(project.migrations)} migrations in {project.run.seconds:.1f} s")
        return project

    def raw_upgrade(self, project) -> None:
        """The raw statements of the upgrade on another copy, under the same watch."""
        from bench import monitor, upgrade

        self.step("Whole upgrade as raw statements (sqlmigrate + substitutions), same watch")
        with self.copy("bench_raw") as name, self.alias(name) as alias, self.watched(name) as seen:
            began = time.time()
            applied = (
                {label for label, status, _ in project.migrations if status == "OK"}
                if project
                else None
            )
            raw = upgrade.raw_upgrade(alias, self.server.conninfo(name), applied)
            ended = time.time()
        print(f"  {len(raw.migrations)} migrations, statements took {raw.seconds:.1f} s")
        self.record_lag("raw_upgrade", seen, began, ended)
        self.results["upgrade"] = upgrade_section(project, raw, self.logged) | {
            "project_slow_statements": self.slow(UPGRADED, upgrade.UPGRADE_APP),
            "raw_slow_statements": self.slow("bench_raw", upgrade.RAW_APP),
        }
        self.results["backfill"] = backfill_section(self.project_backfills, raw)
        self.results["locks"] |= {
            "raw_longest_access_exclusive": monitor.longest_holds(
                seen.locks, upgrade.RAW_APP, began, ended
            ),
            "writer_during_raw_upgrade": monitor.latency(seen.writes, began, ended),
        }

    def unthrottled_upgrade(self, throttled) -> None:
        """The project upgrade again, on a fresh copy, with the replica-lag throttle off."""
        from bench import upgrade
        from database.online import batches

        self.step("Whole upgrade as the project runs it, replica-lag throttle off (--standby)")
        bound, _ = batches.replica_lag_settings()
        section = self.results.setdefault("standby", {})
        section |= {"bound_bytes": bound, "bound_mb": round(bound / 2**20, 2)}
        if throttled is None:
            section["not_measured"] = "the throttled upgrade (migrate) failed"
            return
        off = {"MIGRATE_MAX_REPLICA_LAG_BYTES": "0"}
        with self.copy("bench_unthrottled") as name, self.watched(name) as seen:
            pg15.wait_for_replay(self.server, self.standby)
            began = time.time()
            unthrottled = upgrade.project_upgrade(self.server.url(name), env=off)
            ended = time.time()
        self.record_lag("unthrottled_project_upgrade", seen, began, ended)
        waits = [float(seconds) for seconds in WAITED.findall(throttled.run.stdout)]
        section |= {
            "throttled_seconds": round(throttled.run.seconds, 2),
            "unthrottled_seconds": round(unthrottled.run.seconds, 2),
            "rate_ratio": round(unthrottled.run.seconds / max(throttled.run.seconds, 1e-9), 3),
            "throttle_waits": len(waits),
            "throttle_waited_seconds": round(sum(waits), 2),
            "largest_differences": largest_differences(throttled, unthrottled),
        }
        print(
            f"  {unthrottled.run.seconds:.1f} s unthrottled vs {throttled.run.seconds:.1f} s "
            f"throttled ({section['throttle_waits']} waits, "
            f"{section['throttle_waited_seconds']} s waited)"
        )

    def integrity(self, name: str) -> None:
        from bench import integrity

        self.step("check_integrity vs the raw queries")
        if not integrity.available():
            self.results["integrity"] = {
                "not_measured": "the check_integrity command does not exist yet"
            }
            return
        # The raw queries run before and after the project's command, and the faster run
        # counts: the first reader of freshly rewritten tables pays for their hint bits and
        # cold pages (the same raw queries took 10.2 s in one run at 5M rows, 18.8 s first
        # in another).
        first_raw = integrity.raw_integrity(self.server.conninfo(name))
        skip = integrity.checks_without_raw_equivalent()
        try:
            full = integrity.project_integrity(self.server.url(name))
            alike = integrity.project_integrity(self.server.url(name), skip) if skip else full
            second_raw = integrity.raw_integrity(self.server.conninfo(name))
            raw = min(first_raw, second_raw, key=lambda run: run.seconds)
        except integrity.IntegrityFailed as error:
            self.results["integrity"] = {
                "not_measured": f"check_integrity failed: {error}",
                "raw_seconds": round(first_raw.seconds, 2),
            }
            return
        self.results["integrity"] = integrity_section(full, alike, skip, raw)
        self.results["integrity"]["raw_runs_seconds"] = [
            round(run.seconds, 2) for run in (first_raw, second_raw)
        ]

    def admin(self, name: str) -> None:
        from bench import process

        self.step("Admin changelist latency on content_logs")
        script = str(Path(__file__).with_name("admin_pages.py"))
        run = process.python(script, database_url=self.server.url(name))
        if run.returncode != 0:
            section = {"not_measured": "the admin probe failed: " + run.stderr[-1500:]}
        else:
            section = json.loads(run.stdout.strip().splitlines()[-1])
        self.results["admin"] = section

    def slow(self, name: str, application: str) -> list[dict[str, Any]]:
        """The ten slowest statements the server logged for ``name`` and ``application``."""
        found = sorted(self.server.slow_statements(name, application), key=lambda s: -s.ms)
        return [{"ms": round(s.ms), "statement": s.text[:200]} for s in found[:10]]


# -- sections and targets -----------------------------------------------------------------


def upgrade_section(project, raw, logged: list) -> dict[str, Any]:
    """Whole upgrade: the project's migrate vs the sum of the raw statements."""
    section: dict[str, Any] = {
        "raw_seconds": round(raw.seconds, 2),
        "raw_statements": sum(len(m.statements) for m in raw.migrations),
        "raw_uncovered": raw.uncovered,
        "raw_failed": raw.failed,
        "raw_seeds_left_out": sum(m.seeds_left_out for m in raw.migrations),
        "method": "sqlmigrate statements per migration; batched backfills replaced by one "
        "UPDATE … WHERE column IS NULL, a pass over several columns by one such UPDATE per "
        "column (the naive upgrade); RunPython by hand-written SQL (seeds left out)",
    }
    if project is None:
        section["not_measured"] = "the project's migrate failed"
        return section
    applied = {label: seconds for label, status, seconds in project.migrations if status == "OK"}
    section |= {
        "project_seconds": round(project.run.seconds, 2),
        "project_migrations_seconds": round(sum(applied.values()), 2),
        "project_statements_seconds": round(sum(s.ms for s in logged) / 1000, 2),
        "ratio": round(project.run.seconds / max(raw.seconds, 1e-9), 2),
        "project_max_rss_mb": round(project.run.max_rss_mb, 1),
        "per_migration": {
            label: {"project_s": round(seconds, 3), "raw_s": round(raw.per_migration[label], 3)}
            for label, seconds in applied.items()
            if label in raw.per_migration
        },
    }
    return section


def backfill_section(project: dict, raw) -> dict[str, Any]:
    """Per backfill: the project's batches (first start to last end) vs one UPDATE."""
    # The project's passes (the naive per-column UPDATEs of a multi-column pass have no
    # project counterpart: they are in the raw upgrade's total only).
    names = sorted(set(EXPECTED_BACKFILLS) | set(project))
    section: dict[str, Any] = {}
    for name in names:
        done = project.get(name)
        single = raw.backfills.get(name)
        if done is None or single is None:
            section[name] = {"not_measured": f"no migration backfills {name} yet"}
            continue
        if done.rows == 0:
            section[name] = {"rows": 0, "not_measured": "no row to write (no ratio)"}
            continue
        section[name] = {
            "rows": done.rows,
            "project_batches": done.statements,
            "project_rows_per_s": round(done.rows_per_second),
            "project_seconds": round(done.seconds, 2),
            "project_seconds_in_statements": round(done.busy, 2),
            "raw_rows_per_s": round(single.rows_per_second),
            "raw_seconds": round(single.seconds, 2),
            "ratio": round(done.rows_per_second / max(single.rows_per_second, 1e-9), 3),
        }
    return section


def all_targets(results: dict[str, Any], big: list[str]) -> list[report.Target]:
    integrity = results.get("integrity", {})
    return [
        *([upgrade_target(results["upgrade"])] if "upgrade" in results else []),
        *backfill_targets(results.get("backfill", {}), big),
        *(lock_targets(results["locks"]) if "locks" in results else []),
        integrity_target(integrity.get("ratio"), integrity.get("not_measured", "")),
        integrity_memory_target(integrity),
        *admin_targets(results.get("admin", {})),
        *standby_targets(results.get("standby")),
    ]


def largest_differences(throttled, unthrottled, count: int = 5) -> dict[str, dict[str, float]]:
    """The migrations whose time differs most between the throttled and unthrottled runs (the
    machine is shared: a difference without waits is noise, not the throttle)."""
    off = {label: seconds for label, _, seconds in unthrottled.migrations}
    both = {
        label: {"throttled_s": round(seconds, 2), "unthrottled_s": round(off[label], 2)}
        for label, _, seconds in throttled.migrations
        if label in off
    }
    ranked = sorted(both, key=lambda label: -abs(both[label]["throttled_s"] - off[label]))
    return {label: both[label] for label in ranked[:count]}


def standby_targets(section: dict[str, Any] | None) -> list[report.Target]:
    """With --standby: the lag stays under the throttle's bound for the whole throttled
    upgrade, and the throttle keeps at least ``THROTTLED_RATE`` of the unthrottled rate."""
    if section is None:
        return []
    bound = section.get("bound_mb")
    why = section.get("not_measured", "")
    lag = section.get("project_upgrade", {}).get("max_mb")
    return [
        report.below(
            "standby lag, throttled upgrade (max)",
            f"< {bound} MB (the bound)",
            lag if bound is not None else None,
            bound or 0,
            " MB",
            why or "no lag sample",
        ),
        report.at_least(
            "throttled rate vs unthrottled",
            f">= {THROTTLED_RATE}x unthrottled",
            section.get("rate_ratio"),
            THROTTLED_RATE,
            "x",
            why,
        ),
    ]


def backfill_targets(section: dict[str, Any], big: list[str]) -> list[report.Target]:
    """One target per pass over a big table (on small tables fixed costs dominate): its rows
    per second vs one UPDATE of all the columns it writes."""
    goal = f">= {PASS_RATIO}x one UPDATE of its columns"
    on_big = {n: f for n, f in section.items() if n.split(".")[0] in big and f.get("rows", 1)}
    return [
        report.at_least(
            f"pass {name}",
            goal,
            figures.get("ratio"),
            PASS_RATIO,
            "x",
            figures.get("not_measured", ""),
        )
        for name, figures in on_big.items()
    ]


def upgrade_target(section: dict[str, Any]) -> report.Target:
    return report.at_most(
        "whole upgrade vs the naive upgrade's raw statements",
        f"<= {UPGRADE_RATIO}x",
        section.get("ratio"),
        UPGRADE_RATIO,
        "x",
        section.get("not_measured", ""),
    )


def locks_section(seen, began: float, ended: float, big: list[str], failed: str) -> dict:
    from bench import monitor, upgrade

    holds = monitor.longest_holds(seen.locks, upgrade.UPGRADE_APP, began, ended)
    return {
        "upgrade_seconds": round(ended - began, 2),
        "upgrade_failed": failed,
        "sampler_mean_interval_ms": round(seen.locks.mean_interval_ms, 2),
        "sampler_samples": seen.locks.samples,
        "big_tables": big,
        "longest_access_exclusive": holds,
        "writer_waits": monitor.longest_waits(seen.locks, monitor.WRITER_APP),
        "writer_idle": monitor.latency(seen.writes, 0, began),
        "writer_during_upgrade": monitor.latency(seen.writes, began, ended),
    }


def lock_targets(section: dict[str, Any]) -> list[report.Target]:
    # Any table: the platform reads the tables the upgrade creates as soon as they are
    # committed. (A table is invisible, so blocks nobody, inside the transaction creating it.)
    holds = section["longest_access_exclusive"]
    longest = max(holds, key=lambda table: holds[table]["at_most_seconds"], default=None)
    during = section["writer_during_upgrade"]
    why = "" if during.get("p99_ms") is not None else "no successful write during the upgrade"
    return [
        report.at_most(
            f"ACCESS EXCLUSIVE on any table ({longest})",
            f"<= {LOCK_SECONDS * 1000:.0f} ms held",
            holds[longest]["at_most_seconds"] * 1000 if longest else 0.0,
            LOCK_SECONDS * 1000,
            " ms",
        ),
        report.at_most(
            "writer p99 during upgrade",
            f"<= {WRITER_P99_MS:.0f} ms",
            during.get("p99_ms"),
            WRITER_P99_MS,
            " ms",
            why,
        ),
        report.at_most(
            "writer max during upgrade",
            f"<= {WRITER_MAX_MS:.0f} ms",
            during.get("max_ms"),
            WRITER_MAX_MS,
            " ms",
            why,
        ),
    ]


def integrity_section(full, alike, skipped: list[str], raw) -> dict[str, Any]:
    """The whole command, and the like-for-like run (``--skip`` the checks without a raw
    equivalent) that the target compares with the raw queries."""
    return {
        "project_seconds": round(full.run.seconds, 2),
        "project_startup_seconds": round(full.startup_seconds, 2),
        "project_exit_code": full.run.returncode,
        "project_max_rss_mb": round(full.run.max_rss_mb, 1),
        "project_output_format": full.output_format,
        "project_failed_attempts": full.problems,
        "project_findings_per_check": full.findings,
        "like_for_like_skips": skipped,
        "like_for_like_seconds": round(alike.run.seconds, 2),
        "like_for_like_max_rss_mb": round(alike.run.max_rss_mb, 1),
        "raw_seconds": round(raw.seconds, 2),
        "raw_per_check_seconds": {k: round(v, 3) for k, v in raw.per_check.items()},
        "raw_counts": raw.counts,
        "ratio": round(alike.run.seconds / max(raw.seconds, 1e-9), 2),
        "ratio_without_startup": round(
            (alike.run.seconds - alike.startup_seconds) / max(raw.seconds, 1e-9), 2
        ),
        "ratio_whole_command": round(full.run.seconds / max(raw.seconds, 1e-9), 2),
    }


def integrity_target(ratio: float | None, why: str) -> report.Target:
    return report.at_most(
        "check_integrity (like for like) vs raw",
        f"<= {INTEGRITY_RATIO}x",
        ratio,
        INTEGRITY_RATIO,
        "x",
        why,
    )


def integrity_memory_target(section: dict[str, Any]) -> report.Target:
    """The higher peak RSS of the two check_integrity runs."""
    peaks = [section.get(k) for k in ("project_max_rss_mb", "like_for_like_max_rss_mb")]
    peak = max((p for p in peaks if p is not None), default=None)
    return report.at_most(
        "check_integrity peak RSS",
        f"<= {INTEGRITY_RSS_MB:.0f} MB",
        peak,
        INTEGRITY_RSS_MB,
        " MB",
        section.get("not_measured", ""),
    )


def admin_targets(section: dict[str, Any]) -> list[report.Target]:
    """One per page the probe times: the first page, a filtered page, a search."""
    why = section["not_measured"] if isinstance(section.get("not_measured"), str) else ""
    rows = section.get("rows")
    pages = section.get("pages") or {"first page": {}}
    return [
        report.below(
            f"admin {name}" + (f" ({rows:,} rows)" if rows else ""),
            f"< {ADMIN_MS:.0f} ms",
            page.get("median_ms"),
            ADMIN_MS,
            " ms",
            why or page.get("error", ""),
        )
        for name, page in pages.items()
    ]


# -- output ---------------------------------------------------------------------------------


def print_summary(results: dict[str, Any], targets: list[report.Target]) -> None:
    scale = results["scale"]
    built = f"built in {results['generate_seconds']} s" if "generate_seconds" in results else ""
    report.print_rows(
        f"Scale: {scale['users']:,} users, {scale['total_rows']:,} rows, "
        f"{scale['database_mb']:,} MB ({built or 'reused ' + scale.get('reused', '')})",
        [(t, f"{n:,}") for t, n in scale["rows"].items()],
        ("table", "rows"),
    )
    if "upgrade" in results:
        print_backfill(results.get("backfill", {}))
        print_upgrade(results["upgrade"])
        print_locks(results.get("locks", {}))
    print_integrity(results.get("integrity", {}))
    print_admin(results.get("admin", {}))
    print_standby(results.get("standby"))
    report.print_targets(targets)


def print_backfill(section: dict[str, Any]) -> None:
    header = (
        "pass (table.columns)", "rows", "batches", "project s (in statements)",
        "one UPDATE s", "project rows/s", "one UPDATE rows/s", "ratio",
    )  # fmt: skip
    report.print_rows("1. batched passes of the upgrade", backfill_rows(section), header)


def backfill_rows(section: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for name, f in section.items():
        if "ratio" not in f:
            why = f"not measured: {f['not_measured']}"
            rows.append((name, f"{f.get('rows', '')}", "", "", "", "", "", why))
            continue
        rows.append(
            (
                name,
                f"{f['rows']:,}",
                f"{f['project_batches']:,}",
                f"{f['project_seconds']:.1f} ({f['project_seconds_in_statements']:.1f})",
                f"{f['raw_seconds']:.1f}",
                f"{f['project_rows_per_s']:,}",
                f"{f['raw_rows_per_s']:,}",
                f"{f['ratio']:.2f}x",
            )
        )
    return rows


def print_upgrade(section: dict[str, Any]) -> None:
    rows = [
        (label, f"{f['project_s']:.2f}", f"{f['raw_s']:.2f}")
        for label, f in section.get("per_migration", {}).items()
    ]
    rows.append(
        (
            "whole upgrade (migrate process)",
            _s(section.get("project_seconds")),
            _s(section.get("raw_seconds")),
        )
    )
    report.print_rows("4. whole upgrade", rows, ("migration", "project s", "raw s"))
    print(f"  ratio {section.get('ratio', 'not measured')}x; method: {section.get('method')}")
    for missing in section.get("raw_uncovered", []):
        print(f"  raw side not covered: {missing}")
    for failed in section.get("raw_failed", []):
        print(f"  raw side failed, left out: {failed}")
    for side in ("project", "raw"):
        for slow in section.get(f"{side}_slow_statements", [])[:5]:
            print(f"  {side} slow statement {slow['ms']:>7,} ms  {slow['statement'][:90]}")


def print_locks(section: dict[str, Any]) -> None:
    holds = section.get("longest_access_exclusive", {})
    raw = section.get("raw_longest_access_exclusive", {})
    big = section.get("big_tables", [])
    rows = [
        (
            table,
            "big" if table in big else "",
            f"{holds[table]['at_most_seconds']:.3f}" if table in holds else "-",
            f"{raw[table]['at_most_seconds']:.3f}" if table in raw else "-",
            holds[table]["statement"][:60] if table in holds else raw[table]["statement"][:60],
        )
        for table in sorted(set(holds) | set(raw))
    ]
    title = (
        "2. locks: longest ACCESS EXCLUSIVE held, at most (pg_locks sampled every "
        f"{section.get('sampler_mean_interval_ms', 0):.1f} ms)"
    )
    header = ("table", "", "project s", "raw s", "statement (project)")
    report.print_rows(title, rows, header)
    for phase in ("writer_idle", "writer_during_upgrade", "writer_during_raw_upgrade"):
        print(f"  {phase}: {section.get(phase)}")
    if section.get("writer_waits"):
        print(f"  writer waited for locks (longest): {section['writer_waits']}")


def print_integrity(section: dict[str, Any]) -> None:
    print("\n== 3. check_integrity")
    if "not_measured" in section:
        print(f"  not measured: {section['not_measured']}")
        return
    for attempt in section["project_failed_attempts"]:
        print(f"  check_integrity failed first: {attempt}")
    skips = " ".join(f"--skip {name}" for name in section["like_for_like_skips"]) or "(none)"
    print(
        f"  whole command (--format {section['project_output_format']}): "
        f"{section['project_seconds']} s, peak {section['project_max_rss_mb']} MB, exit "
        f"{section['project_exit_code']} ({section['ratio_whole_command']}x the raw queries)\n"
        f"  like for like ({skips}): {section['like_for_like_seconds']} s, peak "
        f"{section['like_for_like_max_rss_mb']} MB; raw queries {section['raw_seconds']} s; "
        f"ratio {section['ratio']}x ({section['ratio_without_startup']}x without the "
        f"{section['project_startup_seconds']} s start-up)"
    )


def print_admin(section: dict[str, Any]) -> None:
    print("\n== 5. admin changelist")
    if isinstance(section.get("not_measured"), str):
        print(f"  not measured: {section['not_measured']}")
        return
    for name, page in section.get("pages", {}).items():
        print(f"  {name}: {page}")
    for name, why in section.get("not_measured", {}).items():
        print(f"  {name}: {why}")


def print_standby(section: dict[str, Any] | None) -> None:
    if section is None:
        return
    rows = [
        (
            phase,
            f"{lag.get('max_mb', '-')}",
            f"{lag.get('p95_mb', '-')}",
            f"{lag.get('max_seconds', '-')}",
            f"{lag.get('p95_seconds', '-')}",
        )
        for phase in ("project_upgrade", "unthrottled_project_upgrade", "raw_upgrade")
        if (lag := section.get(phase))
    ]
    header = ("upgrade", "max MB", "p95 MB", "max replay_lag s", "p95 replay_lag s")
    report.print_rows(
        f"6. standby replay lag (throttle bound {section.get('bound_mb')} MB)", rows, header
    )
    print(
        f"  project upgrade {section.get('throttled_seconds')} s throttled "
        f"({section.get('throttle_waits')} waits, {section.get('throttle_waited_seconds')} s "
        f"waited), {section.get('unthrottled_seconds')} s "
        f"unthrottled: rate {section.get('rate_ratio')}x unthrottled"
    )
    for label, times in section.get("largest_differences", {}).items():
        print(f"  {label}: {times['throttled_s']} s throttled, {times['unthrottled_s']} s not")


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000, help="scale (default 2000)")
    parser.add_argument("--port", type=int, default=pg15.DEFAULT_PORT, help="private port")
    parser.add_argument(
        "--standby",
        action="store_true",
        help="attach a streaming standby (next port) and measure its lag and the throttle",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="run the server in DIR and leave it there, stopped, with the template and the "
        f"upgraded copy ({UPGRADED}) for --reuse",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help=f"with --keep DIR: measure only check_integrity and the admin again, on the "
        f"{UPGRADED} an earlier --keep run left in DIR (its scale; --users is ignored)",
    )
    parser.add_argument(
        "--compare-with",
        type=Path,
        metavar="FILE",
        help="an earlier results file: print how each figure grew from it to this run, and "
        "add that to the results ('growth')",
    )
    args = parser.parse_args(argv)
    users = reused_users(parser, args) if args.reuse else args.users
    started = time.monotonic()
    # migrate encrypts secrets in place (D12): a throw-away key, never a development key.
    os.environ.setdefault("TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    with pg15.private_server(args.port, args.keep) as server:
        os.environ["DATABASE_URL"] = server.url()
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        import django

        django.setup()
        bench = Bench(
            server, users, args.port + 1 if args.standby else None, keep=args.keep is not None
        )
        results = bench.rerun() if args.reuse else bench.run()
        if args.keep and not args.reuse:
            (args.keep / KEPT_SCALE).write_text(json.dumps({"users": users}) + "\n")
        command = f"python bench/run.py --users {users}" + (" --reuse" if args.reuse else "")
        command += " --standby" if args.standby and not args.reuse else ""
        results |= {
            "command": command,
            "methods": METHODS,
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "postgresql": server.version,
            "machine": report.machine(),
            "targets": [t.as_dict() for t in bench.targets],
        }
    results["run_seconds"] = round(time.monotonic() - started, 1)
    print_summary(results, bench.targets)
    if args.compare_with:
        results["growth"] = report.growth(report.read(args.compare_with), results)
        report.print_growth(results["growth"])
    paths = report.write(results, latest=not args.reuse)
    print(f"\nRun took {results['run_seconds']:.0f} s; results in {', '.join(map(str, paths))}")


def reused_users(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """The scale of the run that left ``--keep DIR``; a usage error without one."""
    kept = args.keep / KEPT_SCALE if args.keep else None
    if kept is None or not kept.exists():
        parser.error("--reuse needs --keep DIR naming the folder of an earlier --keep run")
    return json.loads(kept.read_text())["users"]


if __name__ == "__main__":
    main()
