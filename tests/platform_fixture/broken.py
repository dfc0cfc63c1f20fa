"""A module that fails on import, as the platform's settings do without their environment."""

raise RuntimeError("DATABASE_URL is not set")
