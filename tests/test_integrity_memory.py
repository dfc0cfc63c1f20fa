"""``check_integrity`` holds the same rows in memory whatever the size of the data (#14).

Every statement a check runs is measured (``connection.execute_wrapper``): how many rows and
bytes it handed to Python. Growing the data by more rows than any statement returns must
change neither the largest result nor the total, and the bytes by less than one per added
row: catalog reads grow with the schema, data reads return counts and bounded samples, never
the rows themselves (nor an array of them).
"""

from django.db import connections

from database.integrity.runner import run_checks

GROWN = 3_000  # rows added to users, each with several defects


def rows_fetched(alias: str) -> tuple[list[int], int, dict[str, int]]:
    """Rows each statement of a full run returned, the bytes of all their values, and the
    findings' counts by check."""
    fetched: list[int] = []
    sizes: list[int] = []

    def count(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        returned = context["cursor"].cursor.pgresult  # what the server sent, all in memory
        rows = returned.ntuples if returned is not None else 0
        fetched.append(rows)
        sizes.extend(
            len(returned.get_value(row, column) or b"")
            for row in range(rows)
            for column in range(returned.nfields)
        )
        return result

    with connections[alias].execute_wrapper(count):
        report = run_checks(alias)
    counted: dict[str, int] = {}
    for finding in report.findings:
        counted[finding.check] = counted.get(finding.check, 0) + (finding.count or 0)
    return fetched, sum(sizes), counted


def grow(database) -> None:
    """GROWN users with a NULL created_at, a case-duplicate email, a plaintext 2FA secret, an
    expired reset token and a premium tier on the free plan."""
    database.execute(
        "INSERT INTO users (id, email, username, created_at, two_factor_secret, "
        "password_reset_token, tier, subscription_status) "
        "SELECT 1000000 + g, CASE WHEN g %% 2 = 0 THEN 'Grown' ELSE 'grown' END || g / 2 "
        "|| '@example.com', 'grown' || g, NULL, 'PLAINTEXT-TOTP-' || g, 'token-' || g, "
        "'premium', 'free' FROM pg_catalog.generate_series(1, %s) g",
        [GROWN],
    )


def test_no_statement_returns_more_rows_when_the_data_grows(adopted_db, alias_of):
    alias = alias_of(adopted_db)
    before, bytes_before, found_before = rows_fetched(alias)

    grow(adopted_db)
    after, bytes_after, found_after = rows_fetched(alias)

    # The defects grew with the data (the first and last grown email have no twin) ...
    for check in ("required_values", "unique_values", "expired_tokens", "secrets"):
        assert found_after[check] >= found_before.get(check, 0) + GROWN - 2, check
    # ... the rows handed to Python did not.
    assert max(after) < GROWN
    assert max(after) == max(before)
    assert sum(after) == sum(before)
    assert bytes_after - bytes_before < GROWN, (bytes_before, bytes_after)
