"""The running legacy application keeps working on the upgraded database (issue 3, item 5).

These tests play the old application's part: plain SQL with explicit column lists written
against the *production* column set (contract/legacy/production_schema.sql), as its
SQLAlchemy models emitted it, on a copy of production adopted with ``migrate --fake-initial``
and brought fully up to date. Nothing here knows what the upgrade added (public ids, jsonb,
timestamptz, new defaults): whatever it added must stay invisible to the old statements.

What "keeps working" means here:
- every statement runs;
- every production column (less the retired ``users.registration_key_id``, D1) is still
  selectable under its name;
- what was written reads back with the same meaning: a naive timestamp (the app wrote UTC,
  R-8) is the same UTC instant whether the column is still naive or now timestamptz; JSON
  text reads back as equal JSON, whether the column is json or jsonb.

The session runs in UTC, as production's server does (R-8: the app wrote ``utcnow``).
psycopg's client-side cursor sends parameters as literals, as psycopg2 did for the old app.
"""

import datetime
import json
import re
import uuid

import psycopg
import pytest
from django.conf import settings
from psycopg.rows import dict_row

from accounts import backup_codes

UTC = datetime.UTC
PRODUCTION_SQL = (settings.CONTRACT_DIR / "legacy" / "production_schema.sql").read_text()
RETIRED_COLUMNS = {("users", "registration_key_id")}  # D1
RETIRED_TABLES = {"registration_keys"}  # D1


def production_columns() -> dict[str, list[str]]:
    """Every production table and its columns, in order, read from the contract's DDL."""
    tables = {}
    for table, body in re.findall(
        r"CREATE TABLE public\.(\w+) \(\n(.*?)\n\);", PRODUCTION_SQL, re.S
    ):
        tables[table] = [line.split()[0] for line in body.splitlines()]
    return tables


PRODUCTION_COLUMNS = production_columns()


def columns_of(table: str) -> str:
    """The column list the old application selects: production's, less what D1 retired."""
    return ", ".join(
        column for column in PRODUCTION_COLUMNS[table] if (table, column) not in RETIRED_COLUMNS
    )


def utc(value: datetime.datetime | None) -> datetime.datetime | None:
    """The UTC instant a value means: naive values were written as UTC (R-8, D10)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_json(value):
    """A JSON value as Python, whether the driver decoded it (json, jsonb) or not (text)."""
    return json.loads(value) if isinstance(value, str) else value


def at(text: str) -> datetime.datetime:
    """A naive UTC literal, as the old application wrote ``datetime.utcnow()``."""
    return datetime.datetime.fromisoformat(text)


class LegacyApp:
    """The old application's connection: one statement per transaction, rows as dicts."""

    def __init__(self, connection: psycopg.Connection):
        self.connection = connection

    def run(self, statement: str, params=()) -> list[dict]:
        with self.connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def one(self, statement: str, params=()) -> dict:
        (row,) = self.run(statement, params)
        return row

    def select(self, table: str, where: str, params=()) -> list[dict]:
        return self.run(f"SELECT {columns_of(table)} FROM {table} WHERE {where}", params)

    def new_user(self, name: str) -> int:
        return self.one(
            "INSERT INTO users (email, username, full_name, hashed_password, is_active, tier, "
            "auth_provider, created_at, is_superuser, email_verified, subscription_status) "
            "VALUES (%s, %s, %s, %s, true, 'free', 'local', %s, false, false, 'free') "
            "RETURNING id",
            [f"{name}@legacy.example", name, name.title(), "$2b$12$" + "h" * 53,
             at("2025-09-03 08:00:00")],
        )["id"]  # fmt: skip


@pytest.fixture
def upgraded(make_database, adopted_template):
    """A fresh copy of production, adopted and fully migrated."""
    return make_database("legacy_app", template=adopted_template)


@pytest.fixture
def app(upgraded):
    with upgraded.connect(
        autocommit=True, row_factory=dict_row, cursor_factory=psycopg.ClientCursor
    ) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        yield LegacyApp(connection)


# ---------------------------------------------------------------------- the column set


def test_every_production_column_is_still_selectable_by_name(app):
    assert len(PRODUCTION_COLUMNS) == 16
    for table in sorted(set(PRODUCTION_COLUMNS) - RETIRED_TABLES):
        rows = app.run(f"SELECT {columns_of(table)} FROM {table} ORDER BY 1")
        assert rows, table  # the sample rows are all still there
        assert list(rows[0]) == [
            c for c in PRODUCTION_COLUMNS[table] if (table, c) not in RETIRED_COLUMNS
        ], table


def test_naive_sample_timestamps_read_back_as_the_same_utc_instants(app):
    user = app.one("SELECT created_at, updated_at FROM users WHERE id = 1")
    admin = app.one("SELECT created_at, last_login FROM admin_users WHERE id = 1")
    log = app.one("SELECT created_at, published_at, scheduled_time FROM content_logs WHERE id = 5")
    notice = app.one("SELECT read_at, created_at FROM notifications WHERE id = 1")
    entry = app.one("SELECT created_at FROM knowledge_base_entries WHERE id = 1")

    assert utc(user["created_at"]) == datetime.datetime(2025, 8, 25, 15, 6, 40, 201000, UTC)
    assert utc(user["updated_at"]) == datetime.datetime(2025, 8, 30, 13, 41, 9, 880000, UTC)
    assert utc(admin["last_login"]) == datetime.datetime(2025, 9, 2, 16, 20, 11, 4000, UTC)
    assert utc(log["created_at"]) == datetime.datetime(2025, 9, 2, 18, 20, tzinfo=UTC)
    assert log["published_at"] is None
    assert utc(log["scheduled_time"]) == datetime.datetime(2025, 9, 3, tzinfo=UTC)
    assert utc(notice["read_at"]) == datetime.datetime(2025, 8, 28, 13, 2, 11, tzinfo=UTC)
    assert utc(entry["created_at"]) == datetime.datetime(2025, 8, 26, 23, 58, 10, tzinfo=UTC)


# ------------------------------------------------------------------------------- accounts


def test_registering_a_user_needs_no_registration_key_and_reads_back(app):
    """The old code dropped the users -> registration_keys link; D1 retires the table."""
    sent_at = datetime.datetime(2025, 9, 3, 9, 30, tzinfo=UTC)  # get_current_time(), aware
    token = "verify-" + uuid.uuid4().hex

    user_id = app.one(
        "INSERT INTO users (email, username, full_name, hashed_password, is_active, "
        "is_superuser, email_verified, email_verification_token, email_verification_sent_at, "
        "tier, subscription_status, auth_provider) "
        "VALUES (%s, %s, %s, %s, true, false, false, %s, %s, 'free', 'free', 'local') "
        "RETURNING id",
        ["ana@legacy.example", "ana", "Ana Lima", "$2b$12$" + "a" * 53, token, sent_at],
    )["id"]

    (by_id,) = app.select("users", "id = %s", [user_id])
    (by_email,) = app.select("users", "email = %s", ["ana@legacy.example"])
    (by_token,) = app.select("users", "email_verification_token = %s", [token])
    assert by_id == by_email == by_token
    assert by_id["username"] == "ana"
    assert by_id["tier"] == "free"
    assert utc(by_id["email_verification_sent_at"]) == sent_at
    assert by_id["is_superuser"] is False
    assert app.one("SELECT to_regclass('public.registration_keys') AS t")["t"] is None


def test_password_reset_update_and_lookup_by_token(app):
    token = "reset-" + uuid.uuid4().hex
    app.run(
        "UPDATE users SET password_reset_token = %s, password_reset_sent_at = %s, "
        "updated_at = '2025-09-03 10:15:00' WHERE id = %s",
        [token, at("2025-09-03 10:14:59.5"), 3],
    )

    (user,) = app.select("users", "password_reset_token = %s", [token])
    assert user["id"] == 3
    assert utc(user["password_reset_sent_at"]) == datetime.datetime(
        2025, 9, 3, 10, 14, 59, 500000, UTC
    )
    assert utc(user["updated_at"]) == datetime.datetime(2025, 9, 3, 10, 15, tzinfo=UTC)
    # The sample's outstanding token is still found by its value (D13: not hashed in place).
    (sample,) = app.select(
        "users", "password_reset_token = %s", ["5XWwOaBkQ9TE-mEHH_WE1hRwsocKEyOKXtVAwivgnUo"]
    )
    assert sample["id"] == 5

    app.run(
        "UPDATE users SET hashed_password = %s, password_reset_token = NULL, "
        "password_reset_sent_at = NULL WHERE id = %s",
        ["$2b$12$" + "n" * 53, 3],
    )
    assert app.select("users", "password_reset_token = %s", [token]) == []


def test_two_factor_backup_codes_are_written_and_checked_as_the_platform_does(app):
    # The platform stores SHA-256 hashes of the codes as JSON and checks a typed code
    # against them (backend/auth/two_factor.py); the column is jsonb now.
    codes = json.dumps([backup_codes.hash_code("AAAA-1111"), backup_codes.hash_code("BBBB-2222")])
    app.run(
        "UPDATE users SET two_factor_enabled = true, two_factor_secret = %s, "
        "two_factor_backup_codes = %s WHERE id = 2",
        ["JBSWY3DPEHPK3PXP", codes],
    )

    user = app.one("SELECT two_factor_enabled, two_factor_backup_codes FROM users WHERE id = 2")
    assert user["two_factor_enabled"] is True
    stored = as_json(user["two_factor_backup_codes"])
    assert backup_codes.matching_hash("bbbb 2222", stored) == stored[1]
    assert backup_codes.matching_hash("CCCC-3333", stored) is None


def test_the_sample_plaintext_backup_codes_now_work_with_the_platform(app):
    user = app.one("SELECT two_factor_backup_codes FROM users WHERE id = 1")
    stored = as_json(user["two_factor_backup_codes"])
    assert "7F33-BC28" not in stored
    assert backup_codes.matching_hash("7f33bc28", stored) == stored[0]


def test_settings_for_a_new_user_take_production_defaults_and_json_updates(app):
    user_id = app.new_user("settings")
    envelope = json.dumps(
        {"enc_version": 1, "enc_kid": "default", "ciphertext": "gAAAAABlegacy-not-real=="}
    )

    app.run(
        "INSERT INTO user_settings (user_id, brand_name, brand_voice, preferred_platforms, "
        "posting_times, timezone, connected_accounts) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [user_id, "Legacy Café", "friendly", '["instagram"]', '{"instagram": "08:00"}',
         "Europe/Lisbon", envelope],
    )  # fmt: skip
    app.run(
        'UPDATE user_settings SET posting_times = \'{"instagram": "09:30", "x": "12:00"}\', '
        "updated_at = %s WHERE user_id = %s",
        [at("2025-09-03 11:00:00"), user_id],
    )

    (row,) = app.select("user_settings", "user_id = %s", [user_id])
    assert row["brand_name"] == "Legacy Café"
    assert as_json(row["preferred_platforms"]) == ["instagram"]
    assert as_json(row["posting_times"]) == {"instagram": "09:30", "x": "12:00"}
    assert as_json(row["connected_accounts"]) == json.loads(envelope)
    # Defaults the old app relied on, as production declares them.
    assert row["content_frequency"] == 3
    assert row["creativity_level"] == 0.7
    assert as_json(row["business_days"]) == [
        "monday", "tuesday", "wednesday", "thursday", "friday"
    ]  # fmt: skip
    assert as_json(row["preferred_image_style"]) == {
        "lighting": "natural", "composition": "rule_of_thirds", "color_temperature": "neutral"
    }  # fmt: skip
    assert row["image_aspect_ratio"] == "1:1"
    assert row["created_at"] is not None
    assert utc(row["updated_at"]) == datetime.datetime(2025, 9, 3, 11, tzinfo=UTC)


def test_admin_user_login_bookkeeping(app):
    admin_id = app.one(
        "INSERT INTO admin_users (username, email, hashed_password, role, is_active, created_at)"
        " VALUES (%s, %s, %s, %s, true, %s) RETURNING id",
        ["ops", "ops@lilymedia.example", "$2b$12$" + "o" * 53, "ADMIN", at("2025-09-03 07:00:00")],
    )["id"]
    app.run(
        "UPDATE admin_users SET last_login = %s WHERE id = %s",
        [at("2025-09-03 07:05:30"), admin_id],
    )

    (admin,) = app.select("admin_users", "username = %s", ["ops"])
    assert admin["id"] == admin_id
    assert admin["role"] == "ADMIN"  # the enum member's name, as SQLAlchemy stored it
    assert utc(admin["created_at"]) == datetime.datetime(2025, 9, 3, 7, tzinfo=UTC)
    assert utc(admin["last_login"]) == datetime.datetime(2025, 9, 3, 7, 5, 30, tzinfo=UTC)


def test_notifications_are_created_read_and_deleted(app):
    notification_id = app.one(
        "INSERT INTO notifications (user_id, title, message, notification_type, priority, "
        "content_id, is_read, is_dismissed, action_url, action_label, notification_metadata, "
        "created_at, expires_at) VALUES (%s, %s, %s, 'success', 'low', %s, false, false, %s, "
        "%s, %s, %s, %s) RETURNING id",
        [1, "Post published", "Your post is live.", 1, "/content/history", "View post",
         '{"platform": "instagram", "content_log_id": 1}', at("2025-09-03 12:00:00"),
         at("2025-09-10 12:00:00")],
    )["id"]  # fmt: skip
    app.run(
        "UPDATE notifications SET is_read = true, read_at = '2025-09-03 12:30:00' WHERE id = %s",
        [notification_id],
    )

    unread = app.select("notifications", "user_id = 1 AND is_read = false ORDER BY created_at")
    (row,) = app.select("notifications", "id = %s", [notification_id])
    assert notification_id not in [n["id"] for n in unread]
    assert row["is_read"] is True
    assert utc(row["read_at"]) == datetime.datetime(2025, 9, 3, 12, 30, tzinfo=UTC)
    assert utc(row["expires_at"]) == datetime.datetime(2025, 9, 10, 12, tzinfo=UTC)
    assert as_json(row["notification_metadata"]) == {
        "platform": "instagram",
        "content_log_id": 1,
    }
    # A soft reference kept as text: the platform's own column type is String.
    assert row["content_id"] == "1"

    app.run("DELETE FROM notifications WHERE id = %s", [notification_id])
    assert app.select("notifications", "id = %s", [notification_id]) == []


# -------------------------------------------------------------------------------- content


def test_the_old_apps_first_content_log_insert_gets_a_fresh_id(app):
    # P2: production's sequence stood at 4 while max(id) = 6; the upgrade moved it past.
    row = app.one(
        "INSERT INTO content_logs (user_id, platform, content, content_type, status) "
        "VALUES (1, 'twitter', 'First post after the upgrade', 'text', 'draft') RETURNING id"
    )
    assert row["id"] == 7


def test_content_logs_are_logged_scheduled_and_updated(app):
    scheduled_for = datetime.datetime(2025, 9, 4, 15, 0, tzinfo=UTC)

    log_id = app.one(
        "INSERT INTO content_logs (user_id, platform, content, content_type, status, "
        "engagement_data, scheduled_for) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [1, "instagram", "Pumpkin bread is back!", "image", "scheduled", "{}", scheduled_for],
    )["id"]
    app.run(
        "UPDATE content_logs SET status = 'published', published_at = '2025-09-04 15:00:07', "
        "platform_post_id = %s, engagement_data = '{\"likes\": 3}', updated_at = %s "
        "WHERE id = %s",
        ["17900000000000001", at("2025-09-04 15:00:08"), log_id],
    )
    app.run(
        "UPDATE content_logs SET engagement_data = %s WHERE id = %s",
        [json.dumps({"likes": 3, "comments": 1, "fetched_at": "2025-09-05T06:00:00Z"}), log_id],
    )

    (row,) = app.select("content_logs", "id = %s", [log_id])
    assert row["status"] == "published"
    assert row["content_type"] == "image"
    assert utc(row["scheduled_for"]) == scheduled_for
    assert utc(row["published_at"]) == datetime.datetime(2025, 9, 4, 15, 0, 7, tzinfo=UTC)
    assert utc(row["updated_at"]) == datetime.datetime(2025, 9, 4, 15, 0, 8, tzinfo=UTC)
    assert as_json(row["engagement_data"]) == {
        "likes": 3,
        "comments": 1,
        "fetched_at": "2025-09-05T06:00:00Z",
    }
    assert row["created_at"] is not None  # production's default
    due = app.select(
        "content_logs", "status = 'scheduled' AND scheduled_for <= %s", [scheduled_for]
    )
    assert [r["id"] for r in due] == [3]  # the sample's Labor Day post, not ours


def test_generated_content_with_its_memory(app):
    memory_id = app.one(
        "INSERT INTO memories (user_id, content, memory_type, vector_id, relevance_score, "
        "memory_metadata, tags) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [3, "Short tips outperform promotions.", "insight", "mem_legacy_0001", 0.8,
         '{"source": "engagement_analysis"}', '["tips"]'],
    )["id"]  # fmt: skip
    content_id = app.one(
        "INSERT INTO content (user_id, title, content, platform, status, engagement_data, "
        "ai_model, prompt_used, generation_params, memory_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [3, "Floss tip", "Floss once a day.", "instagram", "draft", "{}", "gpt-5-mini",
         "A short dental tip.", '{"temperature": 0.6}', memory_id],
    )["id"]  # fmt: skip
    app.run(
        "UPDATE content SET status = 'published', published_at = %s, "
        "engagement_data = '{\"likes\": 12}', performance_score = 0.4 WHERE id = %s",
        [datetime.datetime(2025, 9, 3, 16, tzinfo=UTC), content_id],
    )
    app.run(
        "UPDATE memories SET access_count = access_count + 1, last_accessed = now() WHERE id = %s",
        [memory_id],
    )

    (content,) = app.select("content", "id = %s", [content_id])
    (memory,) = app.select("memories", "user_id = 3 AND vector_id = %s", ["mem_legacy_0001"])
    assert content["memory_id"] == memory["id"] == memory_id
    assert as_json(content["engagement_data"]) == {"likes": 12}
    assert as_json(content["generation_params"]) == {"temperature": 0.6}
    assert utc(content["published_at"]) == datetime.datetime(2025, 9, 3, 16, tzinfo=UTC)
    assert as_json(memory["memory_metadata"]) == {"source": "engagement_analysis"}
    assert as_json(memory["tags"]) == ["tips"]
    assert memory["access_count"] == 1
    assert memory["last_accessed"] is not None


def test_company_knowledge_is_added_and_counted(app):
    knowledge_id = app.one(
        "INSERT INTO company_knowledge (user_id, title, topic, content, summary, keywords, "
        "tags, context_type, platforms, usage_count, effectiveness_score, is_active) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0.0, true) RETURNING id",
        [1, "Parking", "location", "Free parking behind the shop.", "Free parking",
         '["parking", "car"]', '["faq"]', "faq", '["instagram"]'],
    )["id"]  # fmt: skip
    app.run(
        "UPDATE company_knowledge SET usage_count = usage_count + 1, updated_at = now() "
        "WHERE id = %s",
        [knowledge_id],
    )

    active = app.select("company_knowledge", "user_id = 1 AND is_active ORDER BY id")
    (row,) = [r for r in active if r["id"] == knowledge_id]
    assert as_json(row["keywords"]) == ["parking", "car"]
    assert as_json(row["platforms"]) == ["instagram"]
    assert row["usage_count"] == 1
    assert row["embedding_vector"] is None


def test_knowledge_base_entries_are_added_and_found_by_keyword(app):
    entry_id = app.one(
        "INSERT INTO knowledge_base_entries (user_id, category, question, answer, keywords, "
        "usage_count, is_public, is_active) VALUES (%s, %s, %s, %s, %s, 0, true, true) "
        "RETURNING id",
        [1, "ordering", "Do you deliver?", "Within 5 km on Saturdays.", ["delivery", "cake"]],
    )["id"]

    found = app.select("knowledge_base_entries", "keywords @> ARRAY['delivery'] AND is_active")
    assert [row["id"] for row in found] == [entry_id]
    assert found[0]["keywords"] == ["delivery", "cake"]
    assert found[0]["created_at"] is not None


# --------------------------------------------------------------------------------- social


def test_inbox_settings_for_a_user_without_them(app):
    app.run(
        "INSERT INTO inbox_settings (user_id, auto_respond_enabled, sentiment_filter, "
        "business_days, timezone, notification_preferences) VALUES (%s, %s, %s, %s, %s, %s)",
        [2, True, ["positive"], [1, 2, 3], "America/New_York", '{"email": false}'],
    )
    app.run(
        "UPDATE inbox_settings SET business_hours_start = '08:30', "
        "updated_at = '2025-09-03 13:00:00' WHERE user_id = 2"
    )

    (row,) = app.select("inbox_settings", "user_id = 2")
    assert row["sentiment_filter"] == ["positive"]
    assert row["business_days"] == [1, 2, 3]
    assert row["business_hours_start"] == datetime.time(8, 30)
    assert row["business_hours_end"] == datetime.time(17)
    assert as_json(row["notification_preferences"]) == {"email": False}
    assert utc(row["updated_at"]) == datetime.datetime(2025, 9, 3, 13, tzinfo=UTC)


def test_a_platform_connection_is_stored_refreshed_and_read(app):
    """Tokens arrive in the platform's envelope (D12) and come back byte for byte."""

    def envelope(ciphertext: str) -> str:
        return json.dumps({"enc_version": 1, "enc_kid": "default", "ciphertext": ciphertext})

    connection_id = app.one(
        "INSERT INTO social_platform_connections (user_id, platform, platform_user_id, "
        "platform_username, platform_display_name, access_token, refresh_token, "
        "token_expires_at, scope, platform_metadata, connection_status) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [3, "twitter", "1500000000000000001", "greenleafdental", "Greenleaf Dental",
         envelope("gAAAAAB-access-1"), envelope("gAAAAAB-refresh-1"),
         datetime.datetime(2025, 10, 3, tzinfo=UTC), "tweet.read tweet.write",
         '{"verified": false}', "connected"],
    )["id"]  # fmt: skip
    app.run(
        "UPDATE social_platform_connections SET access_token = %s, token_expires_at = %s, "
        "last_refreshed_at = %s, daily_post_count = daily_post_count + 1 WHERE id = %s",
        [envelope("gAAAAAB-access-2"), datetime.datetime(2025, 11, 3, tzinfo=UTC),
         at("2025-09-03 14:00:00"), connection_id],
    )  # fmt: skip

    (row,) = app.select(
        "social_platform_connections", "user_id = %s AND platform = %s", [3, "twitter"]
    )
    assert row["id"] == connection_id
    assert row["access_token"] == envelope("gAAAAAB-access-2")
    assert row["refresh_token"] == envelope("gAAAAAB-refresh-1")
    assert utc(row["token_expires_at"]) == datetime.datetime(2025, 11, 3, tzinfo=UTC)
    assert utc(row["last_refreshed_at"]) == datetime.datetime(2025, 9, 3, 14, tzinfo=UTC)
    assert row["daily_post_count"] == 1
    assert row["token_type"] == "Bearer"
    assert as_json(row["platform_metadata"]) == {"verified": False}


def test_the_inbox_flow_interaction_template_and_response(app):
    interaction_id = app.one(
        "INSERT INTO social_interactions (user_id, connection_id, platform, interaction_type, "
        "external_id, author_platform_id, author_username, content, media_urls, hashtags, "
        "mentions, sentiment, priority_score, status, platform_metadata, platform_created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [1, 1, "instagram", "comment", "18034567890199999", "17841455500000009", "breadfan",
         "Open on Sunday?", "[]", '["#bakery"]', "[]", "neutral", 40.0, "unread",
         '{"like_count": 0}', datetime.datetime(2025, 9, 3, 8, 59, tzinfo=UTC)],
    )["id"]  # fmt: skip
    template_id = app.one(
        "INSERT INTO response_templates (user_id, name, trigger_type, trigger_conditions, "
        "keywords, platforms, response_text, variables, priority) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [1, "Opening hours", "keyword", '{"match": "any"}', '["open", "hours"]',
         '["instagram"]', "Hi {author_name}! Tue-Sat 7-15.", '["author_name"]', 3],
    )["id"]  # fmt: skip
    response_id = app.one(
        "INSERT INTO interaction_responses (interaction_id, user_id, response_text, "
        "media_urls, response_type, template_id, ai_confidence_score, platform, status) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [interaction_id, 1, "Hi breadfan! Tue-Sat 7-15.", "[]", "template", template_id, 0.9,
         "instagram", "draft"],
    )["id"]  # fmt: skip
    app.run(
        "UPDATE interaction_responses SET status = 'sent', sent_at = %s, "
        "platform_response_id = %s WHERE id = %s",
        [datetime.datetime(2025, 9, 3, 9, 5, tzinfo=UTC), "18034567890200001", response_id],
    )
    app.run(
        "UPDATE social_interactions SET status = 'responded', last_updated_at = now() "
        "WHERE id = %s",
        [interaction_id],
    )

    for generated in (interaction_id, template_id, response_id):
        assert str(uuid.UUID(generated)) == generated  # gen_random_uuid()::text, as before
    (interaction,) = app.select("social_interactions", "id = %s", [interaction_id])
    (template,) = app.select("response_templates", "id = %s", [template_id])
    (response,) = app.select("interaction_responses", "interaction_id = %s", [interaction_id])
    assert interaction["status"] == "responded"
    assert as_json(interaction["hashtags"]) == ["#bakery"]
    assert utc(interaction["platform_created_at"]) == datetime.datetime(
        2025, 9, 3, 8, 59, tzinfo=UTC
    )
    assert interaction["received_at"] is not None
    assert as_json(template["trigger_conditions"]) == {"match": "any"}
    assert template["priority"] == 3
    assert response["id"] == response_id
    assert response["template_id"] == template_id
    assert response["status"] == "sent"
    assert utc(response["sent_at"]) == datetime.datetime(2025, 9, 3, 9, 5, tzinfo=UTC)
    queue = app.select(
        "social_interactions", "user_id = 1 AND status = 'unread' ORDER BY priority_score DESC"
    )
    assert interaction_id not in [row["id"] for row in queue]


def test_legacy_social_responses_still_take_rows(app):
    """social_responses is kept as it is (D1); the raw SQL era wrote it like this."""
    response_id = app.one(
        "INSERT INTO social_responses (interaction_id, user_id, response_text, response_type, "
        "ai_generated, ai_confidence, platform_response_data, status, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [8, 1, "Thanks!", "reply", True, 0.8, '{"id": "1803"}', "sent",
         at("2025-09-03 15:00:00")],
    )["id"]  # fmt: skip

    (row,) = app.select("social_responses", "id = %s", [response_id])
    assert as_json(row["platform_response_data"]) == {"id": "1803"}
    assert utc(row["created_at"]) == datetime.datetime(2025, 9, 3, 15, tzinfo=UTC)


# ----------------------------------------------------------------------------- deletions


def test_deleting_a_user_cascades_as_in_production(app):
    """In production, deleting a user removes the rows of the ON DELETE CASCADE tables."""
    user_id = app.new_user("leaving")
    app.run(
        "INSERT INTO content_logs (user_id, platform, content, content_type) "
        "VALUES (%s, 'twitter', 'bye', 'text')",
        [user_id],
    )
    app.run(
        "INSERT INTO notifications (user_id, title, message) VALUES (%s, 'Welcome', 'Hello')",
        [user_id],
    )
    app.run(
        "INSERT INTO social_platform_connections (user_id, platform, platform_user_id, "
        "platform_username, access_token) VALUES (%s, 'twitter', '42', 'leaving', %s)",
        [user_id, json.dumps({"enc_version": 1, "enc_kid": "default", "ciphertext": "x"})],
    )

    app.run("DELETE FROM users WHERE id = %s", [user_id])

    for table in ("users", "content_logs", "notifications", "social_platform_connections"):
        column = "id" if table == "users" else "user_id"
        assert app.run(f"SELECT 1 FROM {table} WHERE {column} = %s", [user_id]) == [], table


def test_the_old_app_can_delete_a_user_who_has_rows_in_the_new_tables(
    make_database, adopted_template
):
    """The platform deletes users in SQL: the new tables' keys cascade in the database."""
    database = make_database("delete_user", template=adopted_template)
    ((user_id,),) = database.execute(
        "INSERT INTO users (email, username) VALUES ('gone@example.com', 'gone') RETURNING id"
    )
    ((goal_id,),) = database.execute(
        "INSERT INTO goals (id, user_id, title, goal_type, target_value, target_date) "
        "VALUES ('goal-gone', %s, 'Grow', 'follower_growth', 100, now()) RETURNING id",
        [user_id],
    )
    database.execute(
        "INSERT INTO milestones (goal_id, title, target_value) VALUES (%s, 'Half', 50)",
        [goal_id],
    )
    database.execute(
        "INSERT INTO content_templates (user_id, name, template_content, platform, "
        "content_type) VALUES (%s, 'T', 'Hello {name}', 'twitter', 'text')",
        [user_id],
    )
    ((organization_id,),) = database.execute(
        "INSERT INTO organizations (name, slug, owner_id) VALUES ('Org', 'org-gone', 1) "
        "RETURNING id"
    )
    database.execute(
        "INSERT INTO teams (organization_id, name, created_by_id) VALUES (%s, 'Team', %s)",
        [organization_id, user_id],
    )

    database.execute("DELETE FROM users WHERE id = %s", [user_id])

    assert database.execute("SELECT count(*) FROM goals WHERE id = %s", [goal_id]) == [(0,)]
    assert database.execute("SELECT count(*) FROM milestones WHERE goal_id = %s", [goal_id]) == [
        (0,)
    ]
    assert database.execute(
        "SELECT count(*) FROM content_templates WHERE user_id = %s", [user_id]
    ) == [(0,)]
    # SET NULL: the team outlives its creator.
    assert database.execute(
        "SELECT created_by_id FROM teams WHERE organization_id = %s", [organization_id]
    ) == [(None,)]
