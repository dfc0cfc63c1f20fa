"""Integrity checks of a live database (``manage.py check_integrity``).

``run_checks(alias)`` runs the checks of ``checks.CHECKS`` read-only and returns a
``Report`` of ``Finding``s; ``render`` turns a report into text, JSON or a markdown schema
analysis. What the domain expects beyond the database's own constraints is declared on the
models (see ``declarations``).
"""
