"""The OpenAPI schema against the running gateway: schemathesis loads /api/schema/ from a real
uvicorn server (both planes, real sockets, real Redis, providers answered by the fake upstream)
and calls every operation in it, failing on a 500, a status or content type the schema does not
list, an answer that breaks its schema, or a documented header that is wrong or missing.

Writes run too (create, update and delete in the catalogue, rotate, recover, clear-failures), as
a staff user with a DRF token, so they reach the views instead of stopping at the permission
check. The server runs on a copy of the test database: whatever it deletes or creates there is
thrown away with the copy, and the Redis state it changes is flushed before the next test.

Bounded and repeatable: a fixed seed, derandomized generation, EXAMPLES_PER_OPERATION examples
per operation in the fuzzing phase (valid and invalid), the coverage phase's boundary values, no
example database on disk, no stateful phase.
"""

import sqlite3

import pytest
import schemathesis
from django.db import connection
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from tests import postgres_server
from tests.live_server import database_url

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance"]
EXAMPLES_PER_OPERATION = 6
SEED = 20261202
# The provider record has two dozen fields: its writes get the coverage phase's valid boundary
# values and the fuzzing phase's invalid bodies (a full invalid sweep of them alone takes a minute).
POSITIVE_COVERAGE_ONLY = ["POST /api/providers", "PATCH /api/providers/{slug}"]


def _copy_database(target: str) -> None:
    """The test database as committed so far, copied to the file `target` (sqlite's online backup)."""
    source = sqlite3.connect(connection.settings_dict["NAME"])
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


def _config(base_url: str, token: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "base-url": base_url,
        "seed": SEED,
        "headers": {"Authorization": f"Token {token}"},
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        "operations": [{"include-name": POSITIVE_COVERAGE_ONLY,
                        "phases": {"coverage": {"generation": {"mode": "positive"}}}}],
        # 502 and 503 are documented answers (a provider failed, none could answer); 500 never is.
        "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "503"]}},
        "request-timeout": 30,
    })


@pytest.fixture
def api_schema(catalogue, staff_user, tmp_path, live_servers):
    """The schema as the server serves it, bound to that server and a staff token."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff_user).key
    if connection.vendor == "postgresql":
        # The PostgreSQL pass: a database copied from the test database (its template) on the same cluster.
        connection.close()  # a template must have no one connected
        copy = f"{connection.settings_dict['NAME']}_throwaway"
        postgres_server.copy_database(connection.settings_dict, copy)
        server = live_servers(env={"DATABASE_URL": database_url(copy)})
    else:
        database = tmp_path / "throwaway.sqlite3"
        _copy_database(str(database))
        server = live_servers(env={"DATABASE_URL": f"sqlite:///{database}"})
    yield schemathesis.openapi.from_url(server.url + "/api/schema/?format=json", config=_config(server.url, token))
    if connection.vendor == "postgresql":
        server.stop()
        postgres_server.drop_database(connection.settings_dict, copy)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case):
    case.call_and_validate(checks=[getattr(st_checks, name) for name in CHECKS])
