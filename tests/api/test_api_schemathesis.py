"""Property-based test of the whole API from its OpenAPI document (schemathesis, fixed seed):
no 5xx, and every response matches the documented status codes, content type and schema.

Each operation is one test item, driven by Hypothesis directly (schemathesis' pytest plugin adds
coverage phases that take minutes here). Runs as the admin (the role that may call everything)
against the running SQLite server, and, with fewer examples, as a clinician against the
PostgreSQL server, which connects as a database role that owns no table. Logout is left out:
it would end the session the rest of the run uses. Import gets fewer examples: a whole
generated patient record takes seconds."""

from __future__ import annotations

import json
import tempfile

import httpx
import pytest
import schemathesis
from apitest import Server
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as oa

from nenguide.api import Settings, create_app

SEED = 20261123
MAX_EXAMPLES = 8
FEWER = {"POST /api/v1/patients/import": 2}
PG_EXAMPLES = 3
CHECKS = [
    checks.not_a_server_error,
    oa.status_code_conformance,
    oa.content_type_conformance,
    oa.response_schema_conformance,
]


def _openapi_document() -> dict[str, object]:
    # The document the server publishes at /openapi.json is built from the same app code; it is
    # built here at collection time because the parametrization needs it before fixtures run
    # (test_openapi_document_is_the_served_one checks that both are the same).
    with tempfile.TemporaryDirectory() as tmp:
        return create_app(Settings(database_url=f"sqlite:///{tmp}/x.db")).openapi()


DOCUMENT = _openapi_document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT).exclude(path="/api/v1/auth/logout")
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def test_openapi_document_is_the_served_one(server: Server) -> None:
    assert httpx.get(f"{server.base_url}/openapi.json").json() == json.loads(json.dumps(DOCUMENT))
    assert len(OPERATIONS) >= 38


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_operation_conforms_to_its_schema(
    operation: schemathesis.APIOperation, server: Server
) -> None:
    _run(operation, server, "admin", FEWER.get(operation.label, MAX_EXAMPLES))


@pytest.mark.postgres
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_operation_conforms_on_postgres_as_a_clinician(
    operation: schemathesis.APIOperation, pg_server: Server
) -> None:
    """The same on PostgreSQL, where the server connects as a database role that owns no
    table, and as a clinician (403 for what the role may not do is documented too)."""
    _run(operation, pg_server, "clinician", PG_EXAMPLES)


def _run(operation: schemathesis.APIOperation, server: Server, role: str, examples: int) -> None:
    headers = {"Authorization": f"Bearer {server.tokens[role]}"}
    # These servers do not configure the EHR's JWK Set, so the CDS Hooks routes answer their
    # documented 503 cds_hooks_not_configured (test_api_cds_jwt): status, content type and schema
    # are still checked; only "no 5xx" is not.
    cds = operation.path.startswith("/cds-services")
    checks_for = [c for c in CHECKS if not (cds and c is checks.not_a_server_error)]

    @seed(SEED)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=server.base_url, headers=headers, checks=checks_for)

    run()
