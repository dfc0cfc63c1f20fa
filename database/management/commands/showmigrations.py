"""Django's ``showmigrations``; operational failures in one paragraph (``database.errors``)."""

from django.core.management.commands import showmigrations

from database.errors import ReportsFailures


class Command(ReportsFailures, showmigrations.Command):
    def writes(self, options) -> bool:
        return False
