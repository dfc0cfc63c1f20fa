"""organizations domain models (tables added by forward migrations)."""
