"""Schemathesis against the API's own OpenAPI document, signed in as each role in turn.

Generated requests (valid and not) must never meet a 500, and every answer must match
what the document promises: status, content type and body schema (a download's media
type is one its operation declares). The examples per operation are bounded so the whole
run stays well under a minute; the cross-tab and the downloads get a run of their own,
over a register of people to count, so that they are not left a handful of examples.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from streams.worker.unit_of_work import apply_batch
from tests.support.api import bearer, issue, signed_in
from tests.support.events import plan_event
from tests.unit.test_cohort_projection import SETTINGS, random_history
from warehouse.api import create_app, models
from warehouse.connection import connect
from warehouse.reference import load_reference

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
    def every_answer_is_as_documented(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    every_answer_is_as_documented()


# The cross-tab and the downloads, for the role that may call each.
THEIRS = {
    "public_health": r"^/(jsna/crosstab|exports/jsna)",
    "commissioner": r"^/exports/scorecard",
}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("role", sorted(THEIRS))
def test_the_cross_tab_and_the_downloads_answer_as_documented(
    role: str, mode: GenerationMode, warehouse_dsn: str, api_dsn: str
) -> None:
    history = random_history(seed=5, people=40, events=400, days=420)
    with connect(warehouse_dsn) as conn:
        # the localities the projection counts by, loaded as reference data (a cross-tab
        # reads them there, and must add up to the one-way cells)
        load_reference(conn, sorted(SETTINGS.locality_of.items()), [], "test")
        apply_batch(conn, history, projection=SETTINGS)
    headers = bearer(issue(warehouse_dsn, role))
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(api_dsn), headers=headers)

    @given(case=schema.include(path_regex=THEIRS[role]).as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def every_answer_is_as_documented(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    every_answer_is_as_documented()


# The published documents are sent as JSON encoded once (warehouse/publication_cache.py),
# which FastAPI sends as they are, unvalidated: each must be what FastAPI would have sent.
SENT_AS_ENCODED: list[tuple[str, str, dict[str, str], type[BaseModel]]] = [
    ("commissioner", "/scorecard", {}, models.Scorecard),
    ("public_health", "/jsna", {"as_at": "2026-03-31"}, models.Jsna),
    (
        "public_health",
        "/jsna/crosstab",
        {"by": "primary_need,age_band", "as_at": "2026-03-31"},
        models.CrossTab,
    ),
]


def test_a_document_sent_as_encoded_is_what_its_model_would_send(
    warehouse_dsn: str, api_dsn: str
) -> None:
    history = random_history(seed=5, people=40, events=400, days=420)
    with connect(warehouse_dsn) as conn:
        apply_batch(conn, history, projection=SETTINGS)
    for role, path, params, model in SENT_AS_ENCODED:
        client = signed_in(warehouse_dsn, api_dsn, role)
        first, again = (client.get(path, params=params) for _ in range(2))
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "application/json"
        assert again.content == first.content  # the bytes kept
        sent = first.json()
        validated = model.model_validate(sent).model_dump(mode="json", by_alias=True)
        # the same keys and values, an integer still an integer: `1 == 1.0`, but not as text
        assert json.dumps(sent, sort_keys=True) == json.dumps(validated, sort_keys=True)
