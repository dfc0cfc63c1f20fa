# Two commands set up and run everything on a fresh machine (see README.md).
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo stop test lint

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Without DATABASE_URL the demo database is the embedded server's own database, so every later
# command uses it as written; the rehearsal copy holds only the contract's fictional sample
# secrets, so the public development encryption key is allowed for it (production needs
# TOKEN_ENCRYPTION_KEY).
demo: $(BIN)/.installed
	DJANGO_DEVELOPMENT_KEYS=1 $(BIN)/python manage.py rehearse_adoption

# Stops the embedded PostgreSQL server (.pgdata/) as the OS user it runs as.
stop:
	$(BIN)/python -m config.embedded stop

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py lint_migrations

test: lint
	$(BIN)/python -m pytest
