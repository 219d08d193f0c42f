# Two commands do everything on a fresh Debian machine:
#   make run    install, migrate, load the catalogue, start Redis, the server, the worker and beat
#   make test   the same set-up, then checks and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# make run's manage.py steps get the same secret key the servers use (.secret-key, or SECRET_KEY).
KEYED := scripts/with-secret-key.sh
# Test processes (pytest-xdist): one per core of the 2-core machines the suite is sized for; every
# test starts its own servers on free ports, so workers share nothing but the PostgreSQL cluster.
TEST_WORKERS ?= 2

.PHONY: run test test-postgres setup deps redis redis-binary postgres-binary chromium migrate catalogue bench clean

run: setup catalogue
	@$(KEYED) $(PY) manage.py ensure_admin
	@scripts/run-all.sh

test: deps redis-binary chromium
	$(PY) manage.py makemigrations --check --dry-run --settings=tests.settings
	$(PY) manage.py check --settings=tests.settings
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The database tests again on a real PostgreSQL: the session starts its own throwaway cluster on a
# free loopback port; the selection (every test that uses the database, less Chromium pages) is in
# tests/pg_plugin.py.
test-postgres: deps redis-binary postgres-binary
	$(PY) -m pytest -p tests.pg_plugin -n $(TEST_WORKERS) $(PYTEST_ARGS)

setup: deps redis migrate

deps: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Installs redis-server with apt when it is missing (tests start their own on a free port).
redis-binary:
	@command -v redis-server >/dev/null || scripts/apt-install.sh redis-server

# Installs Debian's PostgreSQL server binaries when missing (the tests run their own cluster; the
# package's own cluster is not needed: `make test-postgres` never connects to it).
postgres-binary:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || scripts/apt-install.sh postgresql

# Pages are tested in Debian's headless Chromium (driven by Playwright, which downloads nothing).
chromium:
	@command -v chromium >/dev/null || scripts/apt-install.sh chromium

# Starts a local Redis on 127.0.0.1 unless something already answers at REDIS_URL.
redis: redis-binary deps
	@scripts/ensure-redis.sh

migrate: deps
	@$(KEYED) $(PY) manage.py migrate --noinput -v 0

catalogue: migrate
	@$(KEYED) $(PY) manage.py load_providers
	@$(KEYED) $(PY) manage.py ensure_alert_rules
	@$(PY) manage.py sync_assets --snapshot

bench: deps redis-binary
	$(PY) -m bench

clean:
	rm -rf $(VENV) staticfiles

# Mutation testing of the core modules (setup.cfg [mutmut] and [mutate]; scores in MUTATION.md).
# make mutate [MODULES="pools/strategies.py ..."]   mutmut per module, then the module constants
# make mutate-changed [BASE=ref]                    only core modules changed (or their tests) against BASE
#                                                   (default: merge-base with origin/main; on main itself the
#                                                   last commit that recorded scores in MUTATION.md; else
#                                                   HEAD~1); fails below a module's recorded score;
#                                                   MUTATE_BUDGET s in all
MUTATE_BUDGET ?= 300
.PHONY: mutate mutate-changed
mutate: deps redis-binary
	$(PY) scripts/mutate.py $(MODULES)
	$(PY) scripts/mutate_constants.py $(MODULES)

mutate-changed: deps redis-binary
	$(PY) scripts/mutate.py --changed $(BASE) --budget $(MUTATE_BUDGET)
	$(PY) scripts/mutate_constants.py --changed $(BASE)
