"""Schemathesis against the API's own OpenAPI document, signed in as each role in turn.

Generated requests (valid and not) must never meet a 500, and every answer must match
what the document promises: status, content type and body schema. The examples per
operation are bounded so the whole run stays well under a minute.
"""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from streams.worker.unit_of_work import apply_batch
from tests.support.api import bearer, issue
from tests.support.events import plan_event
from warehouse.api import create_app
from warehouse.connection import connect

ROLES = ("partner", "commissioner", "public_health", "ig_auditor", "admin")
EXAMPLES = 60  # per role and mode, over all operations
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("role", ROLES)
def test_no_server_error_and_every_answer_as_documented(
    role: str, mode: GenerationMode, warehouse_dsn: str, api_dsn: str
) -> None:
    with connect(warehouse_dsn) as conn:  # something to show: two plans
        apply_batch(
            conn,
            [
                plan_event(dt.date(2025, 1, 6), dt.date(2025, 5, 1)),
                plan_event(dt.date(2025, 2, 3), dt.date(2025, 8, 1)),
            ],
        )
    headers = bearer(issue(warehouse_dsn, role, "education" if role == "partner" else None))
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(api_dsn), headers=headers)

    @given(case=schema.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def every_answer_is_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    every_answer_is_as_documented()
