"""The read-mostly admin: the base classes every app's admin uses, the inspector group and the
database-wide views."""

from database.admin import base  # noqa: F401  (registers on autodiscover)
