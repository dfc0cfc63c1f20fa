"""``lint_migrations`` refuses unsafe migrations: each rule catches its plant, the project's
online recipes pass, and so do the project's own migrations (with their reviewed exceptions).

The plants are the migrations of ``tests/lint_plant``, an app installed only here, through a
settings module in a subprocess; the lint prints them on a scratch database of the real server
and runs the real squawk.
"""

import re

import pytest

from database import scratch
from tests.conftest import run_manage

PLANTED = {
    ("0002_index", "#1 AddIndex", "index-not-concurrent"),
    ("0002_index", "#1 AddIndex", "lock-timeout"),
    ("0003_type", "#1 AlterField", "type-change"),
    ("0003_type", "#1 AlterField", "lock-timeout"),
    ("0004_volatile_default", "#1 AddField", "volatile-default"),
    ("0004_volatile_default", "#1 AddField", "lock-timeout"),
    ("0005_not_null", "#1 AlterField", "not-null-without-check"),
    ("0005_not_null", "#1 AlterField", "lock-timeout"),
    ("0006_constraints", "#1 AddField", "constraint-not-valid"),
    ("0006_constraints", "#1 AddField", "lock-timeout"),
    ("0006_constraints", "#2 AddConstraint", "constraint-not-valid"),
    ("0006_constraints", "#2 AddConstraint", "lock-timeout"),
    ("0007_drops", "#1 RemoveField", "drop-without-archive"),
    ("0007_drops", "#1 RemoveField", "lock-timeout"),
    ("0007_drops", "#2 DeleteModel", "drop-without-archive"),
    ("0007_drops", "#2 DeleteModel", "lock-timeout"),
    ("0008_lock_timeout", "#1 RunSQL", "lock-timeout"),
    ("0009_unlintable", "#1 RunPython", "unlintable"),
    ("0009_unlintable", "#2 RunSQL", "unlintable"),
    ("0010_concurrent_in_transaction", "#1 CreateIndex", "concurrent-in-transaction"),
    ("0012_raw_statements", "#1 RunDDL", "type-change"),
    ("0012_raw_statements", "#2 RunDDL", "drop-without-archive"),
}
FINDING = re.compile(r"^lint_plant\.(\w+): (#[\d.]+ \w+): ([a-z-]+): (.+)$")


@pytest.fixture
def lint(server, tmp_path):
    """Run ``manage.py lint_migrations`` with the planted app installed."""
    (tmp_path / "lint_plant_settings.py").write_text(
        "from config.settings import *  # noqa: F403\n"
        'INSTALLED_APPS = [*INSTALLED_APPS, "tests.lint_plant"]  # noqa: F405\n'
    )
    env = {"DJANGO_SETTINGS_MODULE": "lint_plant_settings", "PYTHONPATH": str(tmp_path)}
    url = scratch_url(server)
    return lambda *args: run_manage("lint_migrations", *args, database_url=url, env=env)


def scratch_url(server) -> str:
    return scratch.database_url(server, "postgres")


def findings(output: str) -> set[tuple[str, str, str]]:
    """(migration, operation, rule) of each finding printed (stale exceptions left out)."""
    return {
        match.groups()[:3]
        for match in map(FINDING.match, output.splitlines())
        if match and not match.group(4).startswith("a reviewed exception")
    }


def test_each_rule_catches_its_plant_and_the_online_recipes_pass(lint, tmp_path):
    exceptions = tmp_path / "exceptions.toml"
    exceptions.write_text(
        "[[exception]]\n"
        'migration = "lint_plant.0008_lock_timeout"\noperation = "#1 RunSQL"\n'
        'rule = "lock-timeout"\nreason = "Reviewed: the test excuses it."\n'
        "[[exception]]\n"
        'migration = "lint_plant.0002_index"\noperation = "#1 AddIndex"\n'
        'rule = "type-change"\nreason = "Matches nothing: stale."\n'
    )
    result = lint("lint_plant", "--exceptions", str(exceptions))
    assert result.returncode == 1, result.stderr
    excused = ("0008_lock_timeout", "#1 RunSQL", "lock-timeout")
    assert findings(result.stdout) == PLANTED - {excused}
    assert (
        "lint_plant.0002_index: #1 AddIndex: type-change: a reviewed exception that matches no "
        "finding any more" in result.stdout
    )
    assert "21 unsafe operation(s), 1 stale exception(s)" in result.stderr
    assert "Traceback" not in result.stderr
    # Each finding says why, and what to use instead.
    lines = {
        m.group(1, 3): m.group(4) for m in map(FINDING.match, result.stdout.splitlines()) if m
    }
    assert 'CREATE INDEX "lintplant_item_count_idx"' in lines["0002_index", "index-not-concurrent"]
    assert "OnlineAlterField" in lines["0003_type", "type-change"]
    assert "gen_random_uuid" in lines["0004_volatile_default", "volatile-default"].lower()
    assert "OnlineAlterField" in lines["0005_not_null", "not-null-without-check"]
    assert "ArchiveRows" in lines["0007_drops", "drop-without-archive"]
    # The migration that creates the tables, and the same changes made online, pass.
    assert not {
        f for f in findings(result.stdout) if f[0] in ("0001_initial", "0011_online_recipes")
    }


def test_the_projects_migrations_pass(server):
    result = run_manage("lint_migrations", database_url=scratch_url(server))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no unsafe operation" in result.stdout
    assert re.search(
        r"\d+ migration\(s\) linted, \d+ finding\(s\) excused by review", result.stdout
    )


def test_a_malformed_exception_is_a_usage_error(lint, tmp_path):
    exceptions = tmp_path / "exceptions.toml"
    exceptions.write_text(
        '[[exception]]\nmigration = "lint_plant.0002_index"\noperation = "#1 AddIndex"\n'
        'rule = "index-not-concurrent"\n'
    )
    result = lint("lint_plant", "--exceptions", str(exceptions))
    assert result.returncode == 3
    assert "lacks reason" in result.stderr
    assert "Traceback" not in result.stderr
    unknown = lint("no_such_app")
    assert unknown.returncode == 3
    assert "No installed app is called no_such_app" in unknown.stderr
