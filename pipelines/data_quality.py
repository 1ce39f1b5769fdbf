"""Data quality of the event store, checked with a Great Expectations suite.

The suite runs on issued EHC plans read from the event store into pandas:
every plan names its child by a pseudonym, no request date comes after its issue
date, and no `event_id` appears twice. Only counts leave this module: the
offending values (pseudonyms, ids) are never stored or logged.

Great Expectations runs in an ephemeral context with analytics off; information
governance does not allow it to phone home.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg

os.environ["GX_ANALYTICS_ENABLED"] = "False"

SUITE_NAME = "event_store_ehc_plans"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, as counts only."""

    expectation: str
    columns: str
    element_count: int
    unexpected_count: int
    passed: bool


def load_plans(conn: psycopg.Connection) -> pd.DataFrame:
    """Issued plans from the event store, one row per stored event."""
    rows = conn.execute(
        """
        SELECT event_id::text, coalesce(nhs_pseudonym, upn_pseudonym),
               (payload ->> 'request_date')::date, (payload ->> 'issue_date')::date
        FROM events WHERE event_type = 'EhcPlanIssued' AND erased_at IS NULL
        """
    ).fetchall()
    return plans_frame(rows)


def plans_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["event_id", "pseudonym", "request_date", "issue_date"])
    for column in ("request_date", "issue_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def validate_plans(plans: pd.DataFrame) -> list[ExpectationOutcome]:
    """Run the suite on `plans` and return each expectation's counts."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.core.expect_column_pair_values_a_to_be_greater_than_b import (  # noqa: E501
        ExpectColumnPairValuesAToBeGreaterThanB,
    )
    from great_expectations.expectations.core.expect_column_values_to_be_unique import (
        ExpectColumnValuesToBeUnique,
    )
    from great_expectations.expectations.core.expect_column_values_to_not_be_null import (
        ExpectColumnValuesToNotBeNull,
    )

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("event_store").add_dataframe_asset("ehc_plans")
    batch = asset.add_batch_definition_whole_dataframe("all_plans")
    suite = context.suites.add(gx.ExpectationSuite(name=SUITE_NAME))
    suite.add_expectation(ExpectColumnValuesToNotBeNull(column="pseudonym"))
    suite.add_expectation(
        ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="issue_date", column_B="request_date", or_equal=True
        )
    )
    suite.add_expectation(ExpectColumnValuesToBeUnique(column="event_id"))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=SUITE_NAME, data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": plans}, result_format="BASIC")
    return [_outcome(item) for item in result.results]


def _outcome(item: Any) -> ExpectationOutcome:
    config = item.expectation_config
    kwargs = config.kwargs
    columns = kwargs.get("column") or f"{kwargs.get('column_A')},{kwargs.get('column_B')}"
    counts = item.result or {}
    return ExpectationOutcome(
        expectation=str(config.type),
        columns=str(columns),
        element_count=int(counts.get("element_count", 0) or 0),
        unexpected_count=int(counts.get("unexpected_count", 0) or 0),
        passed=bool(item.success),
    )
