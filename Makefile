# Two commands on a fresh Debian/Ubuntu machine with Python 3.11+ and npm:
#   make run    create the environment, the database with demo data, and serve on 127.0.0.1:8000
#   make test   install what the tests need and run them
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
DB := instance/cekbansos.db

.PHONY: run test install install-dev assets lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# htmx copied into static/, every static file digested (style-<md5>.css) and precompressed
# (.gz, .br) once, here, never per request; writes nothing when all is up to date.
assets: $(VENV)/.installed node_modules/.package-lock.json
	$(FLASK) assets

install: $(VENV)/.installed node_modules/.package-lock.json assets

install-dev: $(VENV)/.installed-dev install

run: install
	@if [ -z "$$DATABASE_URL" ] && [ ! -f $(DB) ]; then \
		$(FLASK) init-db && $(FLASK) seed-demo --people 20000; \
	else \
		$(FLASK) init-db; \
	fi
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules .pytest_cache
