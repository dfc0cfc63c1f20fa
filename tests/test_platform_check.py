"""check_integrity's ``platform_models`` check: the live database against the platform's models."""

import json

import pytest
from django.test import override_settings

from database.integrity import platform
from database.integrity.runner import run_checks
from database.schema import platform_contract


def platform_findings(alias: str):
    return run_checks(alias, only=["platform_models"]).findings


def kind(finding) -> str:
    return finding.message.split(":", 1)[0]


def by_severity(findings, label: str) -> set[tuple]:
    return {(f.table, f.column, kind(f)) for f in findings if f.severity.label == label}


def test_production_before_the_upgrade_misses_what_the_platform_maps(production_db, alias_of):
    contract = platform_contract.load()
    production = platform.production_schema()

    findings = platform_findings(alias_of(production_db))

    errors = by_severity(findings, "error")
    missing_tables = {t.name for t in contract if t.name not in production}
    assert {(table, None, "missing table") for table in missing_tables} <= errors
    missing_columns = {
        (t.name, c.name, "missing column")
        for t in contract
        if t.name in production
        for c in t.columns
        if c.name not in production[t.name]
    }
    assert missing_columns  # the seed's "missing public_id" has its platform twin here
    assert missing_columns <= errors
    assert len(missing_tables) == 35
    # Every type production disagrees on, each with what it does to the platform.
    mistyped = {
        f"{f.table}.{f.column}": f.message
        for f in findings
        if kind(f) in ("type", "key type", "date-time") and f.severity.label == "error"
    }
    assert set(mistyped) == {
        *(f"content_logs.{c}" for c in ("created_at", "published_at", "updated_at")),
        *(f"notifications.{c}" for c in ("created_at", "expires_at", "read_at")),
        *(f"notifications.{c}" for c in ("content_id", "goal_id", "workflow_id")),
        *(
            f"users.{c}"
            for c in (
                "created_at",
                "updated_at",
                "email_verification_sent_at",
                "password_reset_sent_at",
                "subscription_end_date",
            )
        ),
        "users.two_factor_backup_codes",
    }
    assert "fail to insert" in mistyped["notifications.goal_id"]
    assert "not the dicts and lists" in mistyped["users.two_factor_backup_codes"]
    messages = {(f.table, f.column): f.message for f in findings}
    # A type production disagrees on, with what it does to the platform.
    assert "timezone-aware" in messages["users", "created_at"] or (
        "naive" in messages["users", "created_at"]
    )
    assert all("Fix:" in f.message or "Deliberate:" in f.message for f in findings)


def test_an_upgraded_database_differs_only_where_a_decision_says_so(fresh_db, alias_of):
    findings = platform_findings(alias_of(fresh_db))

    assert [f.message for f in findings if f.severity.label != "info"] == []
    decided = by_severity(findings, "info")
    assert ("registration_keys", None, "missing table") in decided
    assert ("notifications", "id", "key type") in decided
    assert ("admin_users", "role", "type") in decided
    assert ("notifications", "title", "length") in decided
    assert all("Deliberate:" in f.message for f in findings)


def test_a_changed_contract_is_reported_exactly(fresh_db, alias_of, tmp_path):
    alias = alias_of(fresh_db)
    before = {(f.table, f.column, kind(f), f.severity.label) for f in platform_findings(alias)}
    models = json.loads(platform_contract.default_path().read_text())
    columns = {column["name"]: column for column in models["admin_sessions"]["columns"]}
    columns["created_at"]["type"] = "TIMESTAMP WITH TIME ZONE"  # now timezone-aware
    columns["created_at"]["timezone_aware"] = True
    models["users"]["columns"].append({"name": "nickname", "nullable": True, "type": "VARCHAR"})
    columns = {column["name"]: column for column in models["content_drafts"]["columns"]}
    assert columns["content_hash"]["type"] == "VARCHAR(64)"
    columns["content_hash"]["type"] = "VARCHAR(128)"  # the database's 64 is now too narrow
    changed = tmp_path / "platform_models.json"
    changed.write_text(json.dumps(models))

    with override_settings(PLATFORM_CONTRACT=str(changed)):
        after = {(f.table, f.column, kind(f), f.severity.label) for f in platform_findings(alias)}

    assert after - before == {
        ("admin_sessions", "created_at", "date-time", "error"),
        ("users", "nickname", "missing column", "error"),
        ("content_drafts", "content_hash", "length", "warning"),
    }
    assert before - after == set()


@override_settings(PLATFORM_CONTRACT="")
def test_the_check_is_off_without_a_contract(production_db, alias_of):
    assert platform_findings(alias_of(production_db)) == []


@pytest.mark.parametrize(
    ("model", "live", "alike"),
    [
        ("JSON", "jsonb", True),
        ("INTEGER", "bigint", True),
        ("VARCHAR", "text", True),
        ("VARCHAR(255)", "character varying(255)", True),
        ("VARCHAR(255)", "character varying(100)", False),
        ("VARCHAR", "character varying(100)", False),
        ("UUID", "character varying", False),
        ("TIMESTAMP WITHOUT TIME ZONE", "timestamp with time zone", False),
    ],
)
def test_what_the_driver_reads_and_writes_alike(model, live, alike):
    assert platform._alike(model, platform.LiveColumn(live, False, False)) is alike
