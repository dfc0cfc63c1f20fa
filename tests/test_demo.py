"""``make demo`` and what the README shows after it."""

import io
import sys

from django.core.management.base import OutputWrapper

from database.management.commands.rehearse_adoption import migration_output


def test_progress_lines_never_glue_onto_applying_lines():
    terminal = io.StringIO()
    with migration_output(OutputWrapper(terminal)) as out:
        migrate = OutputWrapper(out)  # as call_command wraps the stdout it is given
        migrate.write("Running migrations:")
        migrate.write("  Applying accounts.0003_seed...", ending="")
        migrate.write(" OK")
        migrate.write("  Applying accounts.0004_public_id...", ending="")
        sys.stdout.write("  users.public_id: 1 batches, 5 rows\n")
        sys.stdout.write("social.SocialPlatformConnection.access_token: batch 1: ")
        sys.stdout.write("2 rows\n")
        migrate.write(" OK")
        migrate.write("  Applying accounts.0005_more...", ending="")
        migrate.write(" FAKED")

    assert terminal.getvalue().splitlines() == [
        "Running migrations:",
        "  Applying accounts.0003_seed... OK",
        "  Applying accounts.0004_public_id...",
        "    users.public_id: 1 batches, 5 rows",
        "    social.SocialPlatformConnection.access_token: batch 1: 2 rows",
        "  Applying accounts.0004_public_id... OK",
        "  Applying accounts.0005_more... FAKED",
    ]
