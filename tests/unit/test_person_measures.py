"""Exclusions and absence counted by the pupil's SEND status on the day, from the register."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schemas.envelope import Event
from streams.cohort import timeline
from streams.person_measures import academic_year, person_contributions
from tests.unit.test_cohort_projection import event

D = dt.date


def census(day: dt.date, status: str) -> Event:
    payload = {"census_term": "2024-SPR", "sen_status": status, "primary_need": "SEMH"}
    return event("SenSupportRecorded", day, {**payload, "secondary_need": None, "phase": None})


def exclusion(day: dt.date, kind: str = "FIXED_TERM") -> Event:
    payload: dict[str, Any] = {"exclusion_kind": kind, "start_date": day.isoformat()}
    return event("ExclusionRecorded", day, {**payload, "sessions": None, "school_urn": None})


def attendance(day: dt.date, missed: int, possible: int = 100) -> Event:
    payload = {"term": "2024-AUTUMN", "sessions_possible": possible, "sessions_missed": missed}
    extra = {"sessions_unauthorised": None, "phase": None}
    return event("AttendanceRecorded", day, {**payload, **extra})


def measures(events: list[Event]) -> set[tuple[str, dt.date, int, int]]:
    return {
        (d.kpi_id, d.period, d.numerator, d.denominator)
        for d in person_contributions(events, timeline(events))
    }


@pytest.mark.parametrize(
    ("day", "year"), [(D(2024, 8, 31), 2023), (D(2024, 9, 1), 2024), (D(2025, 1, 5), 2024)]
)
def test_the_academic_year_starts_in_september(day: dt.date, year: int) -> None:
    assert academic_year(day) == year


def test_a_permanent_exclusion_counts_as_send_only_if_the_pupil_had_send_on_the_day() -> None:
    before = [exclusion(D(2024, 3, 1), "PERMANENT"), census(D(2024, 4, 1), "K")]
    after = [census(D(2024, 2, 1), "K"), exclusion(D(2024, 3, 1), "PERMANENT")]
    assert measures(before) == {("permanent_exclusions_send", D(2024, 3, 1), 0, 1)}
    assert measures(after) == {("permanent_exclusions_send", D(2024, 3, 1), 1, 1)}


def test_the_third_fixed_term_exclusion_of_an_academic_year_makes_a_repeat() -> None:
    two_years = [
        census(D(2023, 1, 1), "E"),
        exclusion(D(2024, 6, 1)),
        exclusion(D(2024, 7, 1)),  # two in 2023/24: not a repeat
        exclusion(D(2024, 9, 10)),
        exclusion(D(2024, 10, 2)),
        exclusion(D(2024, 11, 20)),  # the third in 2024/25
        exclusion(D(2025, 2, 1)),  # a fourth adds nothing
    ]
    assert measures(two_years) == {("repeat_fixed_term_exclusions", D(2024, 11, 1), 1, 1)}


def test_absence_goes_to_the_status_the_pupil_had_when_attendance_was_recorded() -> None:
    events = [
        census(D(2024, 1, 1), "N"),
        attendance(D(2024, 4, 1), missed=4),
        census(D(2024, 5, 1), "K"),
        attendance(D(2024, 7, 20), missed=9),
        attendance(D(2024, 7, 21), missed=1),
    ]
    assert measures(events) == {
        ("absence_rate_none", D(2024, 4, 1), 4, 100),
        ("absence_rate_sen_support", D(2024, 7, 1), 9, 100),
        ("absence_rate_sen_support", D(2024, 7, 1), 1, 100),
    }


def test_absence_of_a_pupil_the_register_does_not_yet_know_counts_nowhere() -> None:
    assert measures([attendance(D(2024, 4, 1), missed=4)]) == set()


def test_people_without_exclusions_or_attendance_add_nothing() -> None:
    assert measures([census(D(2024, 1, 1), "K")]) == set()
