"""Six years of plan history with person details dated today: the hub's rules, in memory, give
the JSNA a plain computation from the rows gives, at past month ends (issue 10, point 2).

The rows go through the SDK's converters (as `hub produce` sends them) and the hub's
projection, in the first-load order (details last) and reversed, in batches; the JSNA by
age band, sex, need and locality at three past month ends must equal
`truth.jsna_cells_from_rows`. The integration test does the same through the stack.
"""

from __future__ import annotations

import datetime as dt

import pytest

from producers.identity import Pseudonymiser
from producers.synthetic.area import Extracts
from producers.synthetic.extract_events import converter_for, encode_extract
from producers.synthetic.plan_history import HISTORY_EXTRACTS, history_area, history_profile
from producers.synthetic.truth import PERSON_DIMENSIONS, jsna_cells_from_rows
from schemas.catalogue import default_catalogue
from schemas.codec import decode
from schemas.envelope import Event, event_from_record
from streams.jsna import cells_from_changes
from streams.projection import InMemoryStore, ProjectionSettings, project

# Before any plan or census (social care and requests only), then 5, 3 and 1 years back.
AS_AT = (dt.date(2020, 12, 31), dt.date(2021, 12, 31), dt.date(2023, 12, 31), dt.date(2025, 12, 31))


def _events_by_extract(rows: dict[tuple[str, str], list[dict[str, str]]]) -> list[list[Event]]:
    catalogue = default_catalogue()
    pseudonymiser = Pseudonymiser(b"unit-test-key".ljust(32, b"-"), "key-1")
    recorded_at = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    batches = []
    for source, extract in HISTORY_EXTRACTS:  # the first-load order: details last
        converter = converter_for(source, extract, catalogue)
        text = _csv(rows[(source, extract)])
        values, refusals = encode_extract(
            text, source, converter, pseudonymiser, catalogue, recorded_at
        )
        assert refusals == [], (extract, refusals[:3])
        batch = []
        for _, value in values:
            decoded = decode(catalogue, value)
            batch.append(event_from_record(decoded.record, decoded.schema.fingerprint))
        batches.append(batch)
    return batches


def _csv(rows: list[dict[str, str]]) -> str:
    return Extracts({("s", "e"): rows}).csv_text(("s", "e"))


@pytest.mark.parametrize("order", ["details_last", "details_first"])
def test_the_hubs_jsna_at_past_month_ends_is_the_plain_one_from_the_rows(order: str) -> None:
    profile = history_profile()
    area = history_area(profile, seed=5, scale=0.5)
    assert profile.start == dt.date(2020, 9, 1) and profile.end == dt.date(2026, 8, 31)
    details = area.extracts.rows[("education", "person_details")]
    assert {row["recorded_date"] for row in details} == {profile.end.isoformat()}

    batches = _events_by_extract(area.extracts.rows)
    if order == "details_first":
        batches.reverse()
    settings = ProjectionSettings(
        first_month=dt.date(2019, 1, 1), last_month=dt.date(2026, 12, 1), locality_of=area.reference
    )
    store = InMemoryStore()
    for batch in batches:
        for start in range(0, len(batch), 50):  # the worker's batches are small too
            project(store, store.append(batch[start : start + 50]), settings)
    cells = cells_from_changes(store.cells, settings.month_ends())

    statuses_seen: set[str] = set()
    for as_at in AS_AT:
        hub = {
            (status, dimension, value): n
            for (day, status, dimension, value), n in cells.items()
            if day == as_at and dimension in PERSON_DIMENSIONS and n
        }
        expected = jsna_cells_from_rows(area.extracts.rows, area.reference, as_at)
        statuses_seen.update(status for status, _, _ in expected)
        assert hub == expected, as_at
    assert statuses_seen == {"EHC_PLAN", "SEN_SUPPORT", "NONE", "UNKNOWN"}
