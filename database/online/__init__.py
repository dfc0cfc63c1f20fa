"""Online schema changes: the operations migrations are written with, their DDL and batches, and
the linter that refuses unsafe migrations."""
