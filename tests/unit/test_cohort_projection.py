"""The cohort register and JSNA cells: rules, linkage, and exactness under any delivery order.

The property test feeds random histories (shuffled, duplicated, in random batches)
to the incremental projection and compares it with a batch reference computed
straight from the event list.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import Event
from streams.cohort import (
    EHC_PLAN,
    SEN_SUPPORT,
    UNKNOWN,
    PersonState,
    Span,
    age_band,
    state_at,
    timeline,
)
from streams.jsna import Cell, cells_from_changes, changes, dimension_values, month_ends
from streams.linkage import link, people_of, person_id
from streams.person_measures import person_contributions
from streams.projection import InMemoryStore, ProjectionSettings, project

SETTINGS = ProjectionSettings(
    first_month=dt.date(2024, 1, 1),
    last_month=dt.date(2026, 6, 1),
    locality_of={"E01000001": "Charnwood", "E01000002": "Melton"},
)


def event(
    kind: str,
    day: dt.date,
    payload: dict[str, Any],
    *,
    nhs: str | None = None,
    upn: str | None = None,
    event_id: uuid.UUID | None = None,
) -> Event:
    return Event(
        event_id=event_id or uuid.uuid4(),
        event_type=kind,
        schema_version=1,
        schema_fingerprint="00",
        occurred_at=dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC),
        recorded_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
        source_system="education",
        contract_id="c",
        area_code="E10000018",
        extract_id=None,
        nhs_pseudonym=nhs,
        upn_pseudonym=upn,
        payload=payload,
    )


D = dt.date


def test_a_plan_then_cessation_moves_status_and_keeps_the_history_with_its_causes() -> None:
    details = event("PersonDetailsRecorded", D(2024, 1, 5), {"month_of_birth": "2014-03"}, nhs="a")
    census = event("SenSupportRecorded", D(2024, 1, 18), {"sen_status": "K"}, nhs="a")
    plan = event("EhcPlanIssued", D(2024, 9, 2), {"primary_need": "ASD"}, nhs="a")
    ceased = event("EhcPlanCeased", D(2025, 9, 1), {}, nhs="a")
    spans = timeline([ceased, plan, census, details])
    assert [s.state.send_status for s in spans] == [UNKNOWN, SEN_SUPPORT, EHC_PLAN, SEN_SUPPORT]
    assert spans[2].caused_by == (str(plan.event_id),)
    assert spans[2].valid_to == D(2025, 9, 1)
    state = state_at(spans, D(2025, 1, 1))
    assert state is not None and state.primary_need == "ASD"
    assert state_at(spans, D(2023, 12, 31)) is None
    assert age_band("2014-03", D(2025, 1, 1)) == "5-10"
    assert age_band("2014-03", D(2025, 3, 1)) == "11-15"


def test_a_case_opened_and_closed_the_same_day_is_closed_whatever_the_order() -> None:
    opened = event(
        "SocialCareCaseOpened",
        D(2025, 2, 3),
        {"case_type": "CHILD_IN_NEED", "opened_date": "2025-02-03"},
        nhs="a",
    )
    closed = event(
        "SocialCareCaseClosed",
        D(2025, 2, 3),
        {"case_type": "CHILD_IN_NEED", "opened_date": "2025-02-03"},
        nhs="a",
    )
    for order in ([opened, closed], [closed, opened]):
        state = state_at(timeline(order), D(2025, 2, 4))
        assert state is not None and not state.flags()["child_in_need"]


def test_a_child_known_by_upn_joins_up_once_an_event_carries_both() -> None:
    by_upn = event("SenSupportRecorded", D(2024, 1, 18), {"sen_status": "K"}, upn="u")
    by_nhs = event(
        "TherapyReferralReceived",
        D(2024, 3, 1),
        {"therapy_type": "SALT", "referral_date": "2024-03-01"},
        nhs="n",
    )
    store = InMemoryStore()
    for batch in ([by_upn], [by_nhs]):
        project(store, store.append(batch), SETTINGS)
    assert len(store.people) == 2
    both = event(
        "PersonDetailsRecorded", D(2024, 4, 1), {"month_of_birth": "2015-01"}, nhs="n", upn="u"
    )
    outcome = project(store, store.append([both]), SETTINGS)
    assert outcome.people_retired == 1
    [(pid, spans)] = store.people.items()
    assert pid == person_id({"nhs:n", "upn:u"})
    last = spans[-1].state
    assert last.send_status == SEN_SUPPORT and last.open_therapy_waits == (("SALT", "2024-03-01"),)
    assert (
        sum(
            n
            for (day, _, dim, _), n in cells_from_changes(
                store.cells, SETTINGS.month_ends()
            ).items()
            if dim == "all" and day == D(2024, 4, 30)
        )
        == 1
    )


def test_linking_is_transitive_and_order_free() -> None:
    groups = [frozenset({"nhs:1", "upn:a"}), frozenset({"upn:a"}), frozenset({"nhs:2"})]
    first = link({}, groups)
    second = link({}, list(reversed(groups)))
    assert first.people == second.people
    merged = link(first.people, [frozenset({"nhs:2", "upn:a"})])
    assert list(merged.people.values()) == [frozenset({"nhs:1", "nhs:2", "upn:a"})]
    assert len(merged.retired) == 1


def test_month_ends_cover_each_month_once() -> None:
    ends = month_ends(D(2024, 1, 15), D(2024, 3, 2))
    assert ends == [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31)]


# --- property: incremental == batch reference, under any delivery -------------------------

KINDS: list[tuple[str, Any]] = [
    # (event type, payload builder(random, day as ISO)): payloads complete for their schema
    (
        "PersonDetailsRecorded",
        lambda r, d: {
            "month_of_birth": f"{r.randint(2001, 2023)}-{r.randint(1, 12):02d}",
            "sex": r.choice(["FEMALE", "MALE"]),
            "ethnicity_group": r.choice(["WHITE", "ASIAN", None]),
            "lsoa_code": r.choice(["E01000001", "E01000002", "E01000009", None]),
        },
    ),
    (
        "SenSupportRecorded",
        lambda r, d: {
            "census_term": "2024-SPR",
            "sen_status": r.choice(["K", "E", "N"]),
            "primary_need": r.choice(["ASD", "SLCN", None]),
            "secondary_need": None,
            "phase": None,
        },
    ),
    (
        "EhcPlanIssued",
        lambda r, d: {
            "request_date": "2023-12-01",
            "issue_date": d,
            "permitted_exception": r.random() < 0.1,
            "primary_need": r.choice(["ASD", "SEMH"]),
        },
    ),
    (
        "EhcPlanCeased",
        lambda r, d: {
            "cease_date": d,
            "cease_reason": "NEEDS_MET_WITHOUT_PLAN",
            "issue_date": None,
        },
    ),
    (
        "PlacementStarted",
        lambda r, d: {
            "start_date": d,
            "setting_type": r.choice(["MAINSTREAM", "SPECIAL"]),
            "sector": "MAINTAINED",
            "in_area": r.random() < 0.8,
            "residential": None,
        },
    ),
    (
        "PlacementEnded",
        lambda r, d: {
            "start_date": "2023-09-01",
            "end_date": d,
            "setting_type": r.choice(["MAINSTREAM", "SPECIAL"]),
            "sector": "MAINTAINED",
            "in_area": True,
            "end_reason": None,
        },
    ),
    (
        "SocialCareCaseOpened",
        lambda r, d: {
            "case_type": r.choice(["LOOKED_AFTER", "EARLY_HELP"]),
            "opened_date": "2024-05-01",
            "send_status_recorded": r.random() < 0.7,
            "send_status": None,
        },
    ),
    (
        "SocialCareCaseClosed",
        lambda r, d: {
            "case_type": r.choice(["LOOKED_AFTER", "EARLY_HELP"]),
            "opened_date": "2024-05-01",
            "closed_date": d,
        },
    ),
    (
        "TherapyReferralReceived",
        lambda r, d: {"therapy_type": "OT", "referral_date": "2024-06-01", "referral_source": None},
    ),
    (
        "TherapyFirstAppointmentHeld",
        lambda r, d: {
            "therapy_type": "OT",
            "referral_date": "2024-06-01",
            "appointment_date": d,
            "appointment_purpose": "ASSESSMENT",
        },
    ),
    (
        "Post16DestinationRecorded",
        lambda r, d: {
            "recorded_date": d,
            "destination": r.choice(["EET", "NEET"]),
            "activity": None,
        },
    ),
    (
        "ExclusionRecorded",
        lambda r, d: {
            "exclusion_kind": r.choice(["FIXED_TERM", "FIXED_TERM", "PERMANENT"]),
            "start_date": d,
            "sessions": None,
            "school_urn": None,
        },
    ),
    (
        "AttendanceRecorded",
        lambda r, d: {
            "term": "2024-AUTUMN",
            "sessions_possible": 120,
            "sessions_missed": r.randint(0, 30),
            "sessions_unauthorised": None,
            "phase": None,
        },
    ),
    ("ElectiveHomeEducationRegistered", lambda r, d: {"registered_date": d, "reason": None}),
    (
        "ElectiveHomeEducationEnded",
        lambda r, d: {"registered_date": "2024-01-10", "ended_date": d, "end_reason": None},
    ),
]


def random_history(seed: int, people: int, events: int, days: int = 900) -> list[Event]:
    r = random.Random(seed)
    identities = []
    for i in range(people):
        shape = r.choice(["nhs", "upn", "both"])
        identities.append(
            (
                f"n{i}" if shape in ("nhs", "both") else None,
                f"u{i}" if shape in ("upn", "both") else None,
            )
        )
    history = []
    for _ in range(events):
        nhs, upn = r.choice(identities)
        carried = r.choice(["nhs", "upn", "both"])
        kind, payload = r.choice(KINDS)
        day = D(2024, 1, 1) + dt.timedelta(days=r.randrange(0, days))
        history.append(
            event(
                kind,
                day,
                payload(r, day.isoformat()),
                nhs=nhs if (carried != "upn" or upn is None) else None,
                upn=upn if (carried != "nhs" or nhs is None) else None,
                event_id=uuid.UUID(int=r.getrandbits(128)),
            )
        )
    return history


def reference(history: list[Event]) -> tuple[dict[str, Any], Counter[Cell]]:
    """Straight from the event list: link, fold each person, count each month end naively."""
    people = {pid: timeline(events) for pid, events in people_of(history).items()}
    return people, naive_cells(people.values())


def naive_cells(histories: Iterable[list[Span]]) -> Counter[Cell]:
    """Each person's state at each month end, counted cell by cell."""
    cells: Counter[Cell] = Counter()
    for spans in histories:
        for day in SETTINGS.month_ends():
            state = state_at(spans, day)
            values = None if state is None else dimension_values(state, day, SETTINGS.locality_of)
            for dimension, value in values or []:
                assert state is not None
                cells[(day, state.send_status, dimension, value)] += 1
    return Counter({c: n for c, n in cells.items() if n})


def test_the_fast_month_walk_counts_what_the_naive_reference_counts() -> None:
    for seed in range(20):
        history = random_history(seed, people=3, events=25, days=700)
        for spans in (timeline(e) for e in people_of(history).values()):
            naive: Counter[Cell] = Counter()
            for day in SETTINGS.month_ends():
                state = state_at(spans, day)
                for dimension, value in (
                    dimension_values(state, day, SETTINGS.locality_of) if state else None
                ) or []:
                    assert state is not None
                    naive[(day, state.send_status, dimension, value)] += 1
            moves = changes(spans, SETTINGS.month_ends(), SETTINGS.locality_of)
            assert cells_from_changes(moves, SETTINGS.month_ends()) == naive


# The JSNA's vulnerable subgroups that a person's register state flags (domain.md,
# "Subgroups"), written out here rather than read from streams/cohort.py, so adding,
# dropping or renaming a flag is a decision a test must be changed for. The five social
# care and youth justice flags follow the open cases' types; the other three are fields.
FLAGS_BY_CASE_TYPE = {
    "LOOKED_AFTER": "looked_after",
    "CHILD_IN_NEED": "child_in_need",
    "CHILD_PROTECTION": "child_protection",
    "EARLY_HELP": "early_help",
    "YOUTH_OFFENDING": "youth_offending",
}
FLAG_FIELDS = ("elective_home_education", "missing_education", "neet")
EVERY_FLAG = [
    "looked_after",
    "child_in_need",
    "child_protection",
    "early_help",
    "youth_offending",
    "elective_home_education",
    "missing_education",
    "neet",
]


def expected_flags_on(state: PersonState) -> list[str]:
    """The flags a state sets, in the order above, from its fields alone."""
    on = {FLAGS_BY_CASE_TYPE[case_type] for case_type, _ in state.open_cases}
    on |= {name for name in FLAG_FIELDS if getattr(state, name)}
    return [flag for flag in EVERY_FLAG if flag in on]


def test_each_circumstance_sets_its_own_flag_and_nothing_else_does() -> None:
    assert PersonState().flags() == dict.fromkeys(EVERY_FLAG, False)
    assert list(PersonState().flags()) == EVERY_FLAG
    assert PersonState().flags_on() == []
    one_at_a_time = [
        *(
            (PersonState(open_cases=((case_type, "2024-05-01"),)), flag)
            for case_type, flag in FLAGS_BY_CASE_TYPE.items()
        ),
        (PersonState(elective_home_education=True), "elective_home_education"),
        (PersonState(missing_education=True), "missing_education"),
        (PersonState(neet=True), "neet"),
    ]
    for state, flag in one_at_a_time:
        assert state.flags_on() == [flag]
        assert state.flags() == {name: name == flag for name in EVERY_FLAG}
    everything = PersonState(
        open_cases=tuple((case_type, "2024-05-01") for case_type in FLAGS_BY_CASE_TYPE),
        elective_home_education=True,
        missing_education=True,
        neet=True,
    )
    assert everything.flags_on() == EVERY_FLAG
    assert everything.flags() == dict.fromkeys(EVERY_FLAG, True)
    not_flags = PersonState(
        send_status=EHC_PLAN,
        plan_open=True,
        send_flag_on_health_record=True,  # a recording check, not a subgroup
        open_therapy_waits=(("OT", "2024-06-01"),),
        open_nd_assessments=(("ASD", "2024-06-01"),),
    )
    assert not_flags.flags_on() == []


def test_the_flags_the_jsna_counts_are_the_flags_the_register_shows() -> None:
    seen = set()
    for seed in range(30):
        history = random_history(seed, people=3, events=25, days=700)
        for spans in (timeline(e) for e in people_of(history).values()):
            for span in spans:
                expected = expected_flags_on(span.state)
                assert span.state.flags_on() == expected
                assert span.state.flags() == {flag: flag in expected for flag in EVERY_FLAG}
                counted = dimension_values(span.state, span.valid_from, SETTINGS.locality_of)
                flagged = [value for dimension, value in counted or [] if dimension == "flag"]
                assert flagged == (expected if counted is not None else [])
                seen.update(expected)
    assert len(seen) >= 3  # the histories do set flags, several kinds of them


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    people=st.integers(1, 8),
    events=st.integers(1, 60),
    duplicates=st.floats(0, 0.5),
    batch=st.integers(1, 15),
    days=st.sampled_from([3, 40, 900]),  # short spans make same-day ties common
)
def test_any_delivery_order_with_duplicates_gives_the_batch_reference(
    seed: int, people: int, events: int, duplicates: float, batch: int, days: int
) -> None:
    history = random_history(seed, people, events, days)
    r = random.Random(seed + 1)
    delivered = history + [e for e in history if r.random() < duplicates]
    r.shuffle(delivered)
    store = InMemoryStore()
    for start in range(0, len(delivered), batch):
        project(store, store.append(delivered[start : start + batch]), SETTINGS)

    expected_people, expected_cells = reference(history)
    assert store.people == expected_people
    assert cells_from_changes(store.cells, SETTINGS.month_ends()) == expected_cells
    assert store.measures == reference_measures(history)


def reference_measures(history: list[Event]) -> Counter[tuple[str, dt.date, str]]:
    """Exclusion and absence measures straight from each linked person's whole event list."""
    measures: Counter[tuple[str, dt.date, str]] = Counter()
    for events in people_of(history).values():
        for delta in person_contributions(events, timeline(events)):
            measures[(delta.kpi_id, delta.period, "numerator")] += delta.numerator
            measures[(delta.kpi_id, delta.period, "denominator")] += delta.denominator
    return Counter({key: n for key, n in measures.items() if n})
