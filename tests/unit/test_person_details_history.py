"""Person details recorded late still describe the past: a first load's JSNA by age, sex and
locality at past month ends is known, not UNKNOWN (issue 10, point 1).

A council's first load sends years of plans and, last, a person-details extract recorded
today. A month of birth is timeless, so it applies to every date of the history; sex,
ethnicity group and LSOA can change, so each applies from its record's date and, where
nothing earlier is known, to the time before it too; a later record changes them from its
own date only.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from schemas.envelope import Event
from streams.cohort import state_at, timeline
from streams.jsna import Cell, cells_from_changes, changes
from streams.projection import InMemoryStore, ProjectionSettings, project
from tests.support.events import event

D = dt.date
LOCALITIES = {"E01000001": "Charnwood", "E01000002": "Melton"}
SETTINGS = ProjectionSettings(
    first_month=D(2020, 1, 1), last_month=D(2026, 11, 1), locality_of=LOCALITIES
)


def details(day: dt.date, **fields: str) -> Event:
    return event("PersonDetailsRecorded", day, fields)


PLAN = event("EhcPlanIssued", D(2020, 9, 14), {"primary_need": "ASD"})
CEASED = event("EhcPlanCeased", D(2024, 7, 1), {})


def cells_at(events: list[Event], day: dt.date) -> dict[tuple[str, str, str], int]:
    """The person's JSNA cells as at the month end `day`, by (status, dimension, value)."""
    ends = SETTINGS.month_ends()
    counted = cells_from_changes(changes(timeline(events), ends, LOCALITIES), ends)
    return {(s, dim, value): n for (at, s, dim, value), n in counted.items() if at == day and n}


def test_details_recorded_today_give_ages_sex_and_locality_to_every_past_month_end() -> None:
    today = details(D(2026, 12, 1), month_of_birth="2012-05", sex="FEMALE", lsoa_code="E01000002")
    cells = cells_at([PLAN, CEASED, today], D(2021, 3, 31))
    assert cells[("EHC_PLAN", "age_band", "5-10")] == 1  # aged 8 in March 2021
    assert cells[("EHC_PLAN", "sex", "FEMALE")] == 1
    assert cells[("EHC_PLAN", "locality", "Melton")] == 1
    assert not any(value == "UNKNOWN" for (_, dim, value) in cells if dim != "ethnicity_group")


def test_a_later_record_changes_a_changeable_detail_from_its_own_date_only() -> None:
    moved = [
        details(D(2022, 2, 10), month_of_birth="2012-05", lsoa_code="E01000001"),
        details(D(2023, 6, 5), lsoa_code="E01000002"),
    ]
    history = [PLAN, CEASED, *moved]
    assert cells_at(history, D(2021, 1, 31))[("EHC_PLAN", "locality", "Charnwood")] == 1
    assert cells_at(history, D(2023, 5, 31))[("EHC_PLAN", "locality", "Charnwood")] == 1
    assert cells_at(history, D(2023, 6, 30))[("EHC_PLAN", "locality", "Melton")] == 1
    spans = timeline(history)
    before, after = state_at(spans, D(2020, 10, 1)), state_at(spans, D(2024, 1, 1))
    assert before is not None and before.lsoa_code == "E01000001"
    assert after is not None and after.lsoa_code == "E01000002"


def test_a_corrected_month_of_birth_applies_to_the_whole_history() -> None:
    history = [
        PLAN,
        details(D(2021, 1, 4), month_of_birth="2004-05"),
        details(D(2025, 3, 3), month_of_birth="2012-05"),  # the first was mistyped
    ]
    spans = timeline(history)
    assert {span.state.month_of_birth for span in spans} == {"2012-05"}
    assert cells_at(history, D(2021, 3, 31))[("EHC_PLAN", "age_band", "5-10")] == 1


@pytest.mark.parametrize("seed", range(40))
def test_details_before_between_or_after_the_rest_give_what_the_whole_set_gives(
    seed: int,
) -> None:
    """Delivered in any order and any batches, the register and cells are those of the
    batch reference, wherever the details records fall in the delivery."""
    r = random.Random(seed)
    records = [
        details(
            D(2021 + r.randint(0, 5), r.randint(1, 12), 1),
            month_of_birth="2012-05",
            sex=r.choice(["FEMALE", "MALE"]),
            lsoa_code=r.choice(list(LOCALITIES)),
        )
        for _ in range(r.randint(1, 3))
    ]
    rest = [PLAN, CEASED, event("SenSupportRecorded", D(2025, 1, 16), {"sen_status": "K"})]
    placement = r.choice(["before", "between", "after"])
    ordered = {
        "before": [*records, *rest],
        "between": [rest[0], *records, *rest[1:]],
        "after": [*rest, *records],
    }[placement]
    store = InMemoryStore()
    batch = r.randint(1, 3)
    for start in range(0, len(ordered), batch):
        project(store, store.append(ordered[start : start + batch]), SETTINGS)
    spans = timeline([*rest, *records])
    expected: Counter[Cell] = changes(spans, SETTINGS.month_ends(), LOCALITIES)
    assert list(store.people.values()) == [spans]
    assert store.cells == Counter({cell: n for cell, n in expected.items() if n})
