# Two commands do everything on a fresh Debian machine:
#   make run    install, migrate, load the catalogue, start Redis, the server, the worker and beat
#   make test   the same set-up, then checks and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test setup deps redis redis-binary chromium migrate catalogue bench clean

run: setup catalogue
	@$(PY) manage.py ensure_admin
	@scripts/run-all.sh

test: deps redis-binary chromium
	$(PY) manage.py makemigrations --check --dry-run --settings=tests.settings
	$(PY) manage.py check --settings=tests.settings
	$(PY) -m pytest

setup: deps redis migrate

deps: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Installs redis-server with apt when it is missing (tests start their own on a free port).
redis-binary:
	@command -v redis-server >/dev/null || scripts/apt-install.sh redis-server

# Pages are tested in Debian's headless Chromium (driven by Playwright, which downloads nothing).
chromium:
	@command -v chromium >/dev/null || scripts/apt-install.sh chromium

# Starts a local Redis on 127.0.0.1 unless something already answers at REDIS_URL.
redis: redis-binary deps
	@scripts/ensure-redis.sh

migrate: deps
	@$(PY) manage.py migrate --noinput -v 0

catalogue: migrate
	@$(PY) manage.py load_providers

bench: deps redis-binary
	$(PY) -m bench

clean:
	rm -rf $(VENV) staticfiles
