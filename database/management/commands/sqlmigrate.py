"""Django's ``sqlmigrate``, with operational failures in one paragraph (``database.errors``)."""

from django.core.management.commands import sqlmigrate

from database.errors import ReportsFailures


class Command(ReportsFailures, sqlmigrate.Command):
    def writes(self, options) -> bool:
        return False
