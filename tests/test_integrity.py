"""``check_integrity`` against real PostgreSQL: fresh, adopted, pre-adoption and broken databases.

Databases are clones of two session templates (a freshly migrated one, and production
adopted by ``conftest.adopted_template``), so no test migrates from scratch.
"""

import base64
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from database.integrity import render, schema
from database.integrity.checks import CHECKS
from database.integrity.findings import Severity, TableRows
from database.integrity.runner import run_checks
from database.schema import scratch
from database.schema.baseline import BASELINE_MIGRATIONS
from database.schema.catalog import diff_catalogs, read_catalog
from tests.conftest import ScratchDatabase, run_manage

# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fresh_findings(migrated_template, server, django_db_blocker) -> set[tuple]:
    """What a freshly migrated database reports (read once; the template is never changed)."""
    with (
        django_db_blocker.unblock(),
        scratch.database_alias(connections.settings["default"], migrated_template) as alias,
    ):
        return keys(run_checks(alias).findings)


def keys(findings) -> set[tuple]:
    """What names a finding: its check and where (table, column, object)."""
    return {(f.check, f.table, f.column or f.object) for f in findings}


def check(database: ScratchDatabase, *args: str):
    return database.manage("check_integrity", *args, timeout=120)


# -- a freshly migrated database ----------------------------------------------------------


def deliberate(finding: dict) -> bool:
    """A difference from the platform's models that a decision covers (an info finding)."""
    return finding["check"] == "platform_models" and finding["severity"] == "info"


def test_a_freshly_migrated_database_has_no_findings_and_exits_0(fresh_db):
    result = check(fresh_db, "--format", "json")

    findings = json.loads(result.stdout)["findings"]
    assert [finding for finding in findings if not deliberate(finding)] == []
    assert findings and all("Deliberate:" in finding["message"] for finding in findings)
    assert result.returncode == 0


def test_the_schema_snapshot_matches_a_fresh_build(migrated_template, server):
    with scratch.connect(server, migrated_template) as conn, conn.cursor() as cursor:
        built = read_catalog(cursor)
        # Without pgvector (Debian's PostgreSQL 15) the optional tables are not built.
        expected = schema.available_part(schema.load_snapshot(), cursor)

    differences = diff_catalogs(expected, built)

    assert differences == [], (
        "database/integrity/schema.json is stale: run 'python manage.py schema_snapshot'.\n"
        + "\n".join(map(str, differences))
    )


def test_healthy_checks_exit_0_and_print_no_progress_when_not_a_terminal(fresh_db):
    result = check(fresh_db, "--skip", "platform_models")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 finding(s)" in result.stdout
    assert result.stderr == ""


# -- production with its sample data ---------------------------------------------------------

# The planted defects of contract/legacy/sample_data.sql: what names each, and a query that
# says whether the defect is still in the data (forward migrations may archive some).
PLANTED = {
    "P1a": (
        ("reference_orphans", "social_responses", "interaction_id"),
        "SELECT EXISTS (SELECT FROM social_responses WHERE interaction_id IN (1, 2, 7))",
    ),
    "P1b": (
        ("reference_orphans", "social_responses", "template_id"),
        "SELECT EXISTS (SELECT FROM social_responses WHERE template_id = 3)",
    ),
    "P1c": (
        ("reference_orphans", "social_responses", "approved_by"),
        "SELECT EXISTS (SELECT FROM social_responses WHERE approved_by = 12)",
    ),
    "P1d content": (
        ("reference_orphans", "notifications", "content_id"),
        "SELECT EXISTS (SELECT FROM notifications WHERE content_id::text = '999')",
    ),
    "P1d goal": (
        ("reference_orphans", "notifications", "goal_id"),
        "SELECT EXISTS (SELECT FROM notifications WHERE goal_id::text = '3')",
    ),
    "P1e": (
        ("conflicting_values", "registration_keys", "current_uses"),
        "SELECT EXISTS (SELECT FROM registration_keys WHERE id = 'RcdevO2glp2n9x8fkAoFzA')",
    ),
    "P2": (
        ("sequences_behind", "content_logs", "id"),
        "SELECT last_value < 6 FROM content_logs_id_seq",
    ),
    "P3a": (
        ("required_values", "users", "created_at"),
        "SELECT EXISTS (SELECT FROM users WHERE created_at IS NULL)",
    ),
    "P3b": (
        ("required_values", "content_logs", "scheduled_for"),
        "SELECT EXISTS (SELECT FROM content_logs WHERE status = 'scheduled' "
        "AND scheduled_for IS NULL)",
    ),
    "P4a": (
        ("unique_values", "users", "email"),
        "SELECT EXISTS (SELECT FROM users GROUP BY lower(email) HAVING count(*) > 1)",
    ),
    "P4b": (
        ("unique_values", "user_settings", "user_id"),
        "SELECT EXISTS (SELECT FROM user_settings GROUP BY user_id HAVING count(*) > 1)",
    ),
    "P5": (
        ("conflicting_values", "users", "subscription_status"),
        "SELECT EXISTS (SELECT FROM users WHERE tier = 'premium' "
        "AND subscription_status = 'free')",
    ),
    # User 1's 2FA secret is plaintext, where TwoFactorService reads a Fernet token: the
    # upgrade leaves it (D17), the report names the platform change it needs.
    "2FA": (
        ("secrets", "users", "two_factor_secret"),
        "SELECT EXISTS (SELECT FROM users WHERE two_factor_secret NOT LIKE 'gAAAAA%')",
    ),
    # Not planted on purpose, but TARGET_SCHEMA.md D13 wants it listed: user 5's reset token
    # was sent on 2025-09-01 and expired hours later.
    "D13": (
        ("expired_tokens", "users", "password_reset_token"),
        "SELECT EXISTS (SELECT FROM users WHERE password_reset_token IS NOT NULL)",
    ),
}


def planted_defects(database: ScratchDatabase) -> dict[str, tuple]:
    """The planted defects still present in ``database`` and still declared, by label."""
    declared = {model._meta.db_table for model in apps.get_models()}
    present = {}
    for label, (key, probe) in PLANTED.items():
        _, table, column = key
        exists = database.execute(
            "SELECT EXISTS (SELECT FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s AND column_name = %s)",
            [table, column],
        )[0][0]
        # A retired table (registration_keys) has no model left to declare what it expects.
        if exists and table in declared and database.execute(probe)[0][0]:
            present[label] = key
    return present


def test_adopted_sample_data_reports_exactly_its_planted_defects(
    adopted_db, alias_of, fresh_findings
):
    present = planted_defects(adopted_db)

    found = keys(run_checks(alias_of(adopted_db)).findings)

    # The ones no forward migration archives or repairs are always there.
    assert {"P1a", "P1b", "P1c", "P1d content", "P3a", "P3b", "P4a", "P5"} <= set(present)
    # Repaired by database.0003 (the sequence) and archived by accounts.0011 (the goal id).
    assert not {"P2", "P1d goal"} & set(present)
    assert found - fresh_findings == set(present.values())


def test_adopted_sample_data_exits_1_and_names_each_defect_in_json(adopted_db):
    present = planted_defects(adopted_db)

    result = check(adopted_db, "--format", "json")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    findings = json.loads(result.stdout)["findings"]
    named = {(f["check"], f["table"], f["column"]) for f in findings}
    assert set(present.values()) <= named


def test_production_before_adoption_reports_its_defects_and_unapplied_migrations(
    production_db, alias_of
):
    report = run_checks(alias_of(production_db))

    found = keys(report.findings)
    assert set(planted_defects(production_db).values()) <= found
    assert {"P1a", "P1b", "P1c", "P1d content", "P1d goal", "P2", "P3a", "P3b", "P4a", "P4b"} <= (
        set(planted_defects(production_db))
    )
    # Not adopted yet: compared with the baseline, which it matches.
    assert "baseline" in report.schema_basis
    assert not [f for f in report.findings if f.check == "drift"]
    unapplied = {f.object for f in report.findings if f.check == "unapplied_migrations"}
    assert {"accounts", "content", "research", "social"} <= unapplied
    goal = next(f for f in report.findings if f.column == "goal_id")
    assert "does not exist" in goal.message


def test_baseline_only_state_is_compared_with_the_baseline_and_drift_is_named(
    production_db, alias_of
):
    for app, name in BASELINE_MIGRATIONS:
        result = production_db.manage("migrate", "--fake-initial", app, name, "--no-input")
        assert result.returncode == 0, result.stderr
    production_db.execute("ALTER TABLE users ADD COLUMN nickname varchar")

    report = run_checks(alias_of(production_db))

    assert "baseline" in report.schema_basis
    drift = {(f.table, f.column, f.severity.label) for f in report.findings if f.check == "drift"}
    assert drift == {("users", "nickname", "error")}
    assert set(planted_defects(production_db).values()) <= keys(report.findings)


def test_a_partly_migrated_database_reports_unapplied_migrations_and_skips_drift(
    production_db, alias_of
):
    result = production_db.manage("migrate", "--fake-initial", "accounts", "--no-input")
    assert result.returncode == 0, result.stderr

    report = run_checks(alias_of(production_db), only=["unapplied_migrations", "drift"])

    (skipped,) = [f for f in report.findings if f.check == "drift"]
    assert skipped.severity.label == "info"
    assert "not compared" in skipped.message
    assert {f.object for f in report.findings if f.check == "unapplied_migrations"} >= {
        "content",
        "social",
    }


# -- defects injected into a fresh database ------------------------------------------------

USER = (
    "INSERT INTO users (id, email, username, created_at) VALUES (1, 'a@example.com', 'a', now());"
)
KNOWLEDGE = (
    USER + "INSERT INTO knowledge_base_entries (user_id, question, answer, usage_count) "
    "VALUES (1, 'q', 'a', 77);"
)

INJECTED = {
    "orphan behind a foreign key, triggers bypassed": (
        "SET session_replication_role = replica; "
        "INSERT INTO notifications (user_id, title, message) VALUES (424242, 'orphan', '');",
        {("fk_orphans", "notifications", "user_id")},
    ),
    "orphans behind a NOT VALID foreign key": (
        KNOWLEDGE + "ALTER TABLE knowledge_base_entries ADD CONSTRAINT kbe_usage_fkey "
        "FOREIGN KEY (usage_count) REFERENCES memories (id) NOT VALID;"
        "CREATE INDEX kbe_usage ON knowledge_base_entries (usage_count);",
        {
            ("fk_orphans", "knowledge_base_entries", "usage_count"),
            ("unvalidated_constraints", "knowledge_base_entries", "kbe_usage_fkey"),
            ("drift", "knowledge_base_entries", "kbe_usage_fkey"),
            ("drift", "knowledge_base_entries", "kbe_usage"),
            ("sequences_behind", "users", "id"),
        },
    ),
    "sequence behind max(id)": (
        USER,
        {("sequences_behind", "users", "id")},
    ),
    "identity sequence behind max(id)": (
        "INSERT INTO content_categories (id, name, slug) VALUES (5000, 'x', 'integrity-probe');",
        {("sequences_behind", "content_categories", "id")},
    ),
    "sequence near int4 exhaustion": (
        "SELECT setval('users_id_seq', 2000000000);",
        {("key_capacity", "users", "id")},
    ),
    "redundant index (prefix)": (
        "CREATE INDEX users_tier_only ON users (tier);",
        {("redundant_indexes", "users", "tier"), ("drift", "users", "users_tier_only")},
    ),
    "duplicate of a unique constraint": (
        "CREATE UNIQUE INDEX users_email_again ON users (email);",
        {("redundant_indexes", "users", "email"), ("drift", "users", "users_email_again")},
    ),
    "another operator class is not redundant": (
        "CREATE INDEX users_email_pattern ON users (email varchar_pattern_ops);",
        {("drift", "users", "users_email_pattern")},
    ),
    "unindexed foreign key": (
        "CREATE TABLE integrity_probe (id serial PRIMARY KEY, "
        "user_id integer REFERENCES users (id));",
        {
            ("unindexed_foreign_keys", "integrity_probe", "user_id"),
            ("drift", "integrity_probe", None),
        },
    ),
    "a composite index leading with the key is enough": (
        "CREATE TABLE integrity_probe (id serial PRIMARY KEY, "
        "user_id integer REFERENCES users (id), day date);"
        "CREATE INDEX integrity_probe_user_day ON integrity_probe (user_id, day);",
        {("drift", "integrity_probe", None)},
    ),
    "extra column": (
        "ALTER TABLE users ADD COLUMN nickname varchar;",
        # The platform does not map it either (info: it neither reads nor writes it).
        {("drift", "users", "nickname"), ("platform_models", "users", "nickname")},
    ),
    "CHECK constraint NOT VALID with a violating row": (
        KNOWLEDGE + "ALTER TABLE knowledge_base_entries ADD CONSTRAINT kbe_usage_small "
        "CHECK (usage_count < 10) NOT VALID;",
        {
            ("unvalidated_constraints", "knowledge_base_entries", "kbe_usage_small"),
            ("drift", "knowledge_base_entries", "kbe_usage_small"),
            ("sequences_behind", "users", "id"),
        },
    ),
}


@pytest.mark.parametrize(("statements", "expected"), INJECTED.values(), ids=list(INJECTED))
def test_an_injected_defect_is_named_and_nothing_else(
    fresh_db, alias_of, fresh_findings, statements, expected
):
    fresh_db.execute(statements)

    found = keys(run_checks(alias_of(fresh_db)).findings)

    assert found - fresh_findings == expected


def test_tables_needing_an_extension_the_server_lacks_are_not_expected(fresh_db, alias_of):
    fresh_db.execute(
        "DROP TABLE IF EXISTS content_embeddings, memory_embeddings; "
        "DROP EXTENSION IF EXISTS vector"
    )

    report = run_checks(alias_of(fresh_db), skip=["platform_models"])

    assert report.findings == []
    assert "content_embeddings" not in report.expected_tables


def test_an_invalid_index_left_by_a_failed_concurrent_build_is_named(
    fresh_db, alias_of, fresh_findings
):
    fresh_db.execute(
        "INSERT INTO admin_users (username, email, hashed_password, role, created_at) "
        "VALUES ('a', 'a@example.com', 'x', 'ADMIN', now()), "
        "('b', 'b@example.com', 'x', 'ADMIN', now())"
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        fresh_db.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY admin_users_one_per_role ON admin_users (role)"
        )

    report = run_checks(alias_of(fresh_db))

    assert keys(report.findings) - fresh_findings == {
        ("invalid_indexes", "admin_users", "role"),
        ("drift", "admin_users", "admin_users_one_per_role"),
    }
    (invalid,) = [f for f in report.findings if f.check == "invalid_indexes"]
    assert invalid.severity.label == "error"
    assert invalid.object == "admin_users_one_per_role"


def test_secrets_are_classified_by_platform_format_and_plaintext_names_its_platform_change(
    fresh_db, alias_of, fresh_findings
):
    from cryptography.fernet import Fernet

    from database.secrets import crypto
    from tests.test_crypto_formats import token_manager_blob, two_factor_token

    other_key = Fernet(Fernet.generate_key()).encrypt(b"token")
    wrong_key = crypto.Envelope(1, "default", base64.b64encode(other_key).decode()).as_json()
    retired = crypto.Envelope(1, "retired", base64.b64encode(other_key).decode()).as_json()
    blob = token_manager_blob({"access_token": "TM-TOKEN"})
    fresh_db.execute(USER)
    fresh_db.execute(
        "INSERT INTO users (id, email, username, created_at, two_factor_secret) VALUES "
        "(2, 'b@example.com', 'b', now(), 'PLAINTEXT-TOTP'), (3, 'c@example.com', 'c', now(), %s)",
        [two_factor_token()],
    )
    fresh_db.execute(
        "INSERT INTO social_platform_connections "
        "(id, user_id, platform, platform_user_id, platform_username, access_token) VALUES "
        "(1, 1, 'a', 'x', 'x', %s), (2, 1, 'b', 'x', 'x', 'PLAINTEXT-TOKEN'), "
        "(3, 1, 'c', 'x', 'x', %s), (4, 1, 'd', 'x', 'x', %s), (5, 1, 'e', 'x', 'x', ''), "
        "(6, 1, 'f', 'x', 'x', %s), (7, 1, 'g', 'x', 'x', %s), (8, 1, 'h', 'x', 'x', %s)",
        [crypto.encrypt("token"), retired, wrong_key, blob, blob[:-8], two_factor_token()],
    )
    fresh_db.execute(
        "INSERT INTO user_settings (user_id, connected_accounts) VALUES (1, %s), (2, %s), (3, %s)",
        [
            json.dumps({"twitter": {"access_token": "PLAIN-TW", "refresh_token": "PLAIN-R"}}),
            json.dumps(crypto.encrypt_to_dict('{"twitter": "token"}')),
            "{}",
        ],
    )

    report = run_checks(alias_of(fresh_db), only=["secrets"])

    found = {(f.table, f.column, f.severity.label, f.count, f.sample) for f in report.findings}
    assert found == {
        ("users", "two_factor_secret", "warning", 1, ("2",)),
        ("social_platform_connections", "access_token", "warning", 1, ("2",)),
        ("social_platform_connections", "access_token", "error", 1, ("retired",)),
        ("social_platform_connections", "access_token", "error", 1, ("4",)),
        # a truncated token-manager blob: its shape, but it does not decode as one
        ("social_platform_connections", "access_token", "error", 1, ("7",)),
        # a bare Fernet token: not a format either reader of the column reads
        ("social_platform_connections", "access_token", "error", 1, ("8",)),
        ("user_settings", "connected_accounts", "warning", 1, ("1",)),
        # the platform reads connected_accounts as a plain dict: an envelope breaks it
        ("user_settings", "connected_accounts", "error", 1, ("2",)),
    }
    messages = {(f.table, f.column, f.sample): f.message for f in report.findings}
    assert "TwoFactorService must encrypt" in messages["users", "two_factor_secret", ("2",)]
    assert "store_user_tokens" in messages["user_settings", "connected_accounts", ("1",)]
    assert "D6" in messages["user_settings", "connected_accounts", ("1",)]
    assert "Fernet token" in messages["social_platform_connections", "access_token", ("8",)]
    text = json.dumps([f.as_dict() for f in report.findings])
    assert [s for s in ("PLAINTEXT", "PLAIN-TW", "TM-TOKEN", blob[:20]) if s in text] == []


def test_raw_lookup_tokens_are_reported_with_the_hashing_the_platform_needs(fresh_db, alias_of):
    fresh_db.execute(USER)
    ((organization,),) = fresh_db.execute(
        "INSERT INTO organizations (id, name, slug, owner_id) VALUES ('org-1', 'O', 'o', 1) "
        "RETURNING id"
    )
    fresh_db.execute(
        "INSERT INTO organization_invitations (organization_id, email, token, invited_by_id, "
        "expires_at) VALUES (%s, 'x@example.com', 'RAW-INVITE-TOKEN', 1, now())",
        [organization],
    )

    report = run_checks(alias_of(fresh_db), only=["secrets"])

    (finding,) = report.findings
    assert (finding.table, finding.column, finding.severity.label, finding.count) == (
        "organization_invitations",
        "token",
        "warning",
        1,
    )
    assert "sha256" in finding.message and "D18" in finding.message
    assert "RAW-INVITE-TOKEN" not in json.dumps(finding.as_dict())


# -- output ---------------------------------------------------------------------------------

FINDING_FIELDS = {"check", "severity", "table", "column", "object", "count", "message", "sample"}


def test_json_output_has_the_documented_shape(adopted_db):
    result = check(adopted_db, "--format", "json", "--fail-on", "error")

    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert set(document) == {"database", "server_version", "findings", "summary"}
    assert document["database"] == adopted_db.name
    assert document["server_version"][:2].isdigit()
    for finding in document["findings"]:
        assert set(finding) == FINDING_FIELDS
        assert finding["check"] in CHECKS
        assert finding["severity"] in {"error", "warning", "info"}
        assert finding["message"]
        assert isinstance(finding["sample"], list) and len(finding["sample"]) <= 5
        assert all(isinstance(value, str) for value in finding["sample"])
        assert finding["count"] is None or isinstance(finding["count"], int)
        for field in ("table", "column", "object"):
            assert finding[field] is None or isinstance(finding[field], str)
    summary = document["summary"]
    assert summary["total"] == len(document["findings"])
    assert summary["error"] + summary["warning"] + summary["info"] == summary["total"]
    assert summary["fail_on"] == "error"
    assert summary["failed"] is True
    assert summary["checks"] == list(CHECKS)


def test_markdown_report_has_every_section(adopted_db):
    result = check(adopted_db, "--format", "markdown")

    assert result.returncode == 1
    report = result.stdout
    assert report.startswith(f"# Schema analysis: {adopted_db.name}")
    for section in [
        "## Tables found",
        "## Missing tables",
        "## Schema inconsistencies",
        "## Foreign-key issues",
        "## Integrity findings",
        "## Risk assessment",
        "## Action items",
    ]:
        assert section in report
    for risk in ("**High**", "**Medium**", "**Low**"):
        assert risk in report
    assert "`social_responses.interaction_id`" in report
    # What was compared, then real row figures (the sample's small tables are counted), and
    # no column that says the same on every row.
    assert "- Checks run: all 16 checks\n" in report
    assert "- Schema: every migration is applied: compared with the migrated schema" in report
    assert "- Platform's models: compared with platform_models.json\n" in report
    assert "| table | rows |\n" in report
    assert "| `users` | 5 |" in report and "| `social_responses` | 3 |" in report
    assert "| yes |" not in report and "estimated rows" not in report
    assert "Every table found is in the schema compared with." in report
    # What the upgrade archived.
    assert "## Archive" in report
    assert (
        "| `public.registration_keys` | 2 | `id, key, description, max_uses, current_uses, "
        "expires_at, email_domain_restriction, is_active, created_at, created_by WHERE true` "
        "| `archive.registration_keys` | `accounts.0007_retire_registration_keys` |"
    ) in report


def test_only_and_skip_select_checks(adopted_db, alias_of):
    alias = alias_of(adopted_db)

    only = run_checks(alias, only=["required_values", "unique_values"])
    skipped = run_checks(alias, skip=["reference_orphans"])

    assert {f.check for f in only.findings} == {"required_values", "unique_values"}
    assert only.checks == ["required_values", "unique_values"]
    assert "reference_orphans" not in {f.check for f in skipped.findings}


def test_a_table_locked_past_the_timeout_is_reported_not_checked(adopted_db, alias_of):
    alias = alias_of(adopted_db)
    with adopted_db.connect() as locker:
        locker.execute("LOCK TABLE social_responses IN ACCESS EXCLUSIVE MODE")

        report = run_checks(alias, only=["reference_orphans", "required_values"], timeout=0.3)

    not_checked = [f for f in report.findings if f.message.startswith("Not checked")]
    assert {f.table for f in not_checked} == {"social_responses"}
    assert all("did not finish within 0.3s" in f.message for f in not_checked)
    # The other tables were still checked.
    assert ("reference_orphans", "notifications", "content_id") in keys(report.findings)
    assert ("required_values", "users", "created_at") in keys(report.findings)


def test_checks_write_nothing_even_on_a_database_that_refuses_writes(production_db):
    production_db.execute(
        f'ALTER DATABASE "{production_db.name}" SET default_transaction_read_only = on'
    )

    result = check(production_db, "--format", "json")

    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["findings"]


# -- exit codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "url"),
    [
        ("unreachable server", "postgres://postgres@127.0.0.1:9/postgres"),
        ("missing database", "no_such_database"),
        ("wrong user", "nobody_here"),
    ],
)
def test_a_database_it_cannot_use_exits_2_with_one_paragraph(production_db, case, url):
    if url == "no_such_database":
        url = production_db.url.replace(production_db.name, url)
    elif url == "nobody_here":
        url = production_db.url.replace("postgres@", "nobody_here@", 1)

    result = run_manage("check_integrity", database_url=url, timeout=120)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Cannot use database" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_user_without_permission_exits_2(production_db, server):
    role = f"integrity_reader_{production_db.name}"
    production_db.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        url = production_db.url.replace("postgres@", f"{role}@", 1)

        result = run_manage("check_integrity", database_url=url, timeout=120)

        assert result.returncode == 2, result.stdout + result.stderr
        assert "permission denied" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        with scratch.connect(server, "postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{production_db.name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.parametrize(
    "flags",
    [
        ["--format", "xml"],
        ["--only", "no_such_check"],
        ["--fail-on", "sometimes"],
        ["--statement-timeout", "-1"],
        ["--no-such-flag"],
        ["--database", "no_such_alias"],
    ],
)
def test_a_bad_flag_exits_3_without_touching_the_database(flags):
    result = run_manage("check_integrity", *flags, database_url="postgres://x@127.0.0.1:9/x")

    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_bad_flag_through_call_command_is_a_usage_error():
    with pytest.raises(CommandError) as raised:
        call_command("check_integrity", "--format", "xml")

    assert raised.value.returncode == 3


def test_contradictory_only_and_skip_is_a_usage_error_in_one_paragraph():
    result = run_manage(
        "check_integrity",
        "--only",
        "drift",
        "--skip",
        "drift",
        database_url="postgres://x@127.0.0.1:9/x",
    )

    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    paragraph = result.stderr.strip()
    assert "\n" not in paragraph and "Traceback" not in paragraph
    assert "--only and --skip both name drift" in paragraph


def test_skipping_every_check_is_a_usage_error():
    skips = [flag for name in CHECKS for flag in ("--skip", name)]

    result = run_manage("check_integrity", *skips, database_url="postgres://x@127.0.0.1:9/x")

    assert result.returncode == 3, result.stderr
    assert "nothing would be checked" in result.stderr
    assert "\n" not in result.stderr.strip()


# -- what a terminal shows ------------------------------------------------------------------

DIM = "\x1b[2m"
RED = "\x1b[31"  # Django's ERROR style: bold red ("\x1b[31;1m")


def run_with_terminal_stderr(database: ScratchDatabase, *args: str) -> tuple[int, str, str]:
    """``check_integrity`` with stderr on a pseudo-terminal and stdout on a pipe."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "DATABASE_URL": database.url, "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "check_integrity", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:  # read the terminal as it is written, or a full pty would block the command
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the command closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    stdout = process.stdout.read().decode()
    process.wait(timeout=120)
    os.close(controller)
    return process.returncode, stdout, shown.decode()


def test_progress_on_a_terminal_is_dim_on_stderr_and_distinct_from_findings(adopted_db):
    code, stdout, terminal = run_with_terminal_stderr(adopted_db, "--only", "fk_orphans")

    assert code == 0, stdout + terminal
    assert f"{DIM}[1/1] fk_orphans: " in terminal
    assert RED not in terminal  # not styled like a finding
    assert terminal.endswith("\r\x1b[K")  # and cleared at the end
    assert "[1/1]" not in stdout and "\x1b" not in stdout
    assert "0 finding(s)" in stdout


def test_no_color_keeps_progress_on_a_terminal_but_plain(adopted_db):
    code, stdout, terminal = run_with_terminal_stderr(
        adopted_db, "--only", "fk_orphans", "--no-color"
    )

    assert code == 0, stdout + terminal
    assert "[1/1] fk_orphans: " in terminal
    assert DIM not in terminal and RED not in terminal


# -- what the header says was compared -------------------------------------------------------


def test_the_header_says_the_schema_was_not_compared_when_drift_did_not_run(adopted_db):
    result = check(adopted_db, "--only", "fk_orphans")

    assert result.returncode == 0, result.stdout + result.stderr
    header = result.stdout.splitlines()[:2]
    assert header[0].endswith("ran 1 of 16 checks (fk_orphans).")
    assert header[1] == (
        "Schema: not compared (drift did not run). "
        "Platform's models: not compared (platform_models did not run)."
    )


def test_the_header_names_what_was_compared_when_drift_and_platform_models_ran(adopted_db):
    result = check(adopted_db, "--skip", "secrets", "--fail-on", "error")

    header = result.stdout.splitlines()[:2]
    assert header[0].endswith("ran 15 of 16 checks (not run: secrets).")
    assert header[1] == (
        "Schema: every migration is applied: compared with the migrated schema (schema.json). "
        "Platform's models: compared with platform_models.json."
    )


def test_markdown_counts_small_tables_and_marks_estimates_of_big_ones(fresh_db, alias_of):
    fresh_db.execute("CREATE TABLE big AS SELECT generate_series(1, 12000) AS id")
    fresh_db.execute("ANALYZE big")
    fresh_db.execute("INSERT INTO users (email, username) VALUES ('a@example.com', 'a')")

    report = run_checks(alias_of(fresh_db), only=["invalid_indexes"], count_rows=True)
    markdown = render.as_markdown(report, Severity.WARNING)

    assert report.tables["big"] == TableRows(12000, exact=False)
    assert report.tables["users"] == TableRows(1, exact=True)  # never analysed: counted
    assert "| `big` | ≈ 12,000 (estimate) |" in markdown
    assert "| `users` | 1 |" in markdown
    assert "≈ marks the planner's estimate" in markdown
    # drift did not run: nothing claims the tables were compared with the schema.
    assert "- Schema: not compared (`drift` did not run)" in markdown
    assert "## Missing tables (0)\n\nNot compared: `drift` did not run." in markdown
    # The migrations looked for rows to archive and found none.
    assert re.search(r"`archive.manifest` records \d+ archiving run\(s\): 0 archived", markdown)


def test_a_replica_alias_comes_from_the_environment(fresh_db, adopted_db):
    result = run_manage(
        "check_integrity",
        "--database",
        "replica",
        "--only",
        "sequences_behind",
        "--format",
        "json",
        database_url=fresh_db.url,
        env={"DATABASE_REPLICA_URL": adopted_db.url},
    )

    document = json.loads(result.stdout)
    assert document["database"] == adopted_db.name
    assert document["summary"]["checks"] == ["sequences_behind"]
    assert result.returncode == 0, result.stderr


# -- the registry ---------------------------------------------------------------------------


def test_checks_run_in_the_order_the_readme_documents_them():
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme[readme.index("## Checking the database") :]
    documented = re.findall(r"^\| `(\w+)` \| [^|]*(?:error|warning|info)", section, re.M)

    assert documented == list(CHECKS)


def test_the_checks_import_no_management_command():
    import database.integrity as package

    root = Path(package.__file__).parent
    sources = {path.name: path.read_text() for path in root.rglob("*.py")}

    assert len(sources) > 10
    assert [name for name, text in sources.items() if "management.commands" in text] == []


def test_duplicate_groups_list_every_id_of_pairs_and_larger_groups(fresh_db, alias_of):
    fresh_db.execute(
        "INSERT INTO users (id, email, username, created_at) VALUES "
        "(1, 'a@example.com', 'u1', now()), (2, 'A@example.com', 'u2', now()), "
        "(3, 'a@EXAMPLE.com', 'u3', now()), (4, 'b@example.com', 'u4', now()), "
        "(5, 'B@example.com', 'u5', now()), (6, 'c@example.com', 'u6', now())"
    )

    report = run_checks(alias_of(fresh_db), only=["unique_values"])

    (finding,) = [f for f in report.findings if f.column == "email"]
    assert finding.count == 5
    assert finding.sample == ("ids 1, 2, 3", "ids 4, 5")
    assert "(2 group(s))" in finding.message
