"""The SEND cohort register's rules: one person's events in, their state over time out.

A person's history is a pure function of the *set* of their events: events are
put in a total order (date, then a fixed rank per type, then event id) and folded
one by one. So a late, duplicated or out-of-order event changes nothing but the
result the full set implies, and the live register, a replay and a batch
reference all agree by construction. Person details are read for the whole history
first (`_best_known_details`): a month of birth holds on every date, and the first
known sex, ethnicity group and LSOA also describe the time before they were recorded.

Age band is not stored: it depends on the as-at date as well as the month of
birth, so `age_band` computes it on demand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.envelope import Event

AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-4", 0, 4),
    ("5-10", 5, 10),
    ("11-15", 11, 15),
    ("16-19", 16, 19),
    ("20-25", 20, 25),
)
EHC_PLAN, SEN_SUPPORT, NO_SEN, UNKNOWN = "EHC_PLAN", "SEN_SUPPORT", "NONE", "UNKNOWN"
CASE_FLAGS = {
    "LOOKED_AFTER": "looked_after",
    "CHILD_IN_NEED": "child_in_need",
    "CHILD_PROTECTION": "child_protection",
    "EARLY_HELP": "early_help",
    "YOUTH_OFFENDING": "youth_offending",
}
FLAGS = (*CASE_FLAGS.values(), "elective_home_education", "missing_education", "neet")
# Person details that can change over time (month of birth cannot: see `timeline`).
CHANGEABLE_DETAILS = ("sex", "ethnicity_group", "lsoa_code")

# Within one day, openings are applied before closings, so a same-day open and close
# leave the case closed whatever order the partner sent them in.
TYPE_RANK = {
    "PersonDetailsRecorded": 0,
    "SenSupportRecorded": 1,
    "EhcPlanIssued": 2,
    "PlacementStarted": 3,
    "SocialCareCaseOpened": 4,
    "ElectiveHomeEducationRegistered": 5,
    "ChildMissingEducationRegistered": 6,
    "TherapyReferralReceived": 7,
    "NeurodevelopmentalAssessmentRequested": 8,
    "SendFlagSet": 9,
    "Post16DestinationRecorded": 10,
    "TherapyFirstAppointmentHeld": 20,
    "NeurodevelopmentalAssessmentCompleted": 21,
    "ChildMissingEducationClosed": 22,
    "ElectiveHomeEducationEnded": 23,
    "SocialCareCaseClosed": 24,
    "PlacementEnded": 25,
    "EhcPlanCeased": 26,
}


@dataclass(frozen=True)
class PersonState:
    """What the register knows about one person at a point in time."""

    send_status: str = UNKNOWN
    primary_need: str | None = None
    month_of_birth: str | None = None
    sex: str | None = None
    ethnicity_group: str | None = None
    lsoa_code: str | None = None
    setting_type: str | None = None
    in_area: bool | None = None
    plan_open: bool = False
    census_status: str | None = None
    open_cases: tuple[tuple[str, str], ...] = ()
    elective_home_education: bool = False
    missing_education: bool = False
    neet: bool = False
    send_flag_on_health_record: bool = False
    open_therapy_waits: tuple[tuple[str, str], ...] = ()
    open_nd_assessments: tuple[tuple[str, str], ...] = ()

    def flags(self) -> dict[str, bool]:
        """Every flag in `FLAGS` order, set or not."""
        on = set(self.flags_on())
        return {flag: flag in on for flag in FLAGS}

    def flags_on(self) -> list[str]:
        """The flags that are set, in `FLAGS` order (the JSNA asks for every span)."""
        on = []
        if self.open_cases:
            open_types = {case_type for case_type, _ in self.open_cases}
            on = [flag for kind, flag in CASE_FLAGS.items() if kind in open_types]
        if self.elective_home_education:
            on.append("elective_home_education")
        if self.missing_education:
            on.append("missing_education")
        if self.neet:
            on.append("neet")
        return on

    def as_dict(self) -> dict[str, Any]:
        return {
            "send_status": self.send_status,
            "primary_need": self.primary_need,
            "month_of_birth": self.month_of_birth,
            "sex": self.sex,
            "ethnicity_group": self.ethnicity_group,
            "lsoa_code": self.lsoa_code,
            "setting_type": self.setting_type,
            "in_area": self.in_area,
            "flags": self.flags(),
            "send_flag_on_health_record": self.send_flag_on_health_record,
            "open_therapy_waits": [list(w) for w in self.open_therapy_waits],
            "open_nd_assessments": [list(a) for a in self.open_nd_assessments],
        }


@dataclass(frozen=True)
class Span:
    """A state that held from `valid_from` (inclusive) to `valid_to` (exclusive, None = now)."""

    valid_from: dt.date
    valid_to: dt.date | None
    state: PersonState
    caused_by: tuple[str, ...] = field(default=())


def order_key(event: Event) -> tuple[dt.date, int, str]:
    return (event_date(event), TYPE_RANK.get(event.event_type, 50), str(event.event_id))


def event_date(event: Event) -> dt.date:
    return event.occurred_at.date()


def _evolve(state: PersonState, **changes: Any) -> PersonState:
    """`dataclasses.replace` without re-running `__init__`, which the register's fold calls
    for nearly every event: PersonState has no defaults to compute and no checks, so
    copying its fields and overriding some is the same thing, several times faster."""
    evolved = object.__new__(PersonState)
    evolved.__dict__.update(state.__dict__, **changes)
    return evolved


def _add(items: tuple[tuple[str, str], ...], item: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({*items, item}))


def _remove(
    items: tuple[tuple[str, str], ...], item: tuple[str, str]
) -> tuple[tuple[str, str], ...]:
    return tuple(i for i in items if i != item)


def _status(state: PersonState) -> PersonState:
    if state.plan_open or state.census_status == "E":
        status = EHC_PLAN
    elif state.census_status == "K":
        status = SEN_SUPPORT
    elif state.census_status == "N":
        status = NO_SEN
    else:
        status = UNKNOWN
    return state if status == state.send_status else _evolve(state, send_status=status)


def apply(state: PersonState, event: Event) -> PersonState:
    """The state after one event (events of types the register does not read change nothing)."""
    p = event.payload
    kind = event.event_type
    if kind == "PersonDetailsRecorded":
        state = _evolve(
            state,
            month_of_birth=p.get("month_of_birth") or state.month_of_birth,
            sex=p.get("sex") or state.sex,
            ethnicity_group=p.get("ethnicity_group") or state.ethnicity_group,
            lsoa_code=p.get("lsoa_code") or state.lsoa_code,
        )
    elif kind == "EhcPlanIssued":
        state = _evolve(
            state, plan_open=True, primary_need=p.get("primary_need") or state.primary_need
        )
    elif kind == "EhcPlanCeased":
        state = _evolve(state, plan_open=False)
    elif kind == "SenSupportRecorded":
        state = _evolve(
            state,
            census_status=p.get("sen_status"),
            primary_need=p.get("primary_need") or state.primary_need,
        )
    elif kind == "PlacementStarted":
        state = _evolve(state, setting_type=p.get("setting_type"), in_area=p.get("in_area"))
    elif kind == "PlacementEnded":
        if state.setting_type == p.get("setting_type"):
            state = _evolve(state, setting_type=None, in_area=None)
    elif kind == "SocialCareCaseOpened":
        state = _evolve(
            state, open_cases=_add(state.open_cases, (p["case_type"], p["opened_date"]))
        )
    elif kind == "SocialCareCaseClosed":
        case = (p["case_type"], p["opened_date"])
        state = _evolve(state, open_cases=_remove(state.open_cases, case))
    elif kind == "ElectiveHomeEducationRegistered":
        state = _evolve(state, elective_home_education=True)
    elif kind == "ElectiveHomeEducationEnded":
        state = _evolve(state, elective_home_education=False)
    elif kind == "ChildMissingEducationRegistered":
        state = _evolve(state, missing_education=True)
    elif kind == "ChildMissingEducationClosed":
        state = _evolve(state, missing_education=False)
    elif kind == "Post16DestinationRecorded":
        state = _evolve(state, neet=p.get("destination") == "NEET")
    elif kind == "SendFlagSet":
        state = _evolve(state, send_flag_on_health_record=True)
    elif kind == "TherapyReferralReceived":
        wait = (p["therapy_type"], p["referral_date"])
        state = _evolve(state, open_therapy_waits=_add(state.open_therapy_waits, wait))
    elif kind == "TherapyFirstAppointmentHeld":
        wait = (p["therapy_type"], p["referral_date"])
        state = _evolve(state, open_therapy_waits=_remove(state.open_therapy_waits, wait))
    elif kind == "NeurodevelopmentalAssessmentRequested":
        assessment = (p["pathway"], p["referral_date"])
        state = _evolve(state, open_nd_assessments=_add(state.open_nd_assessments, assessment))
    elif kind == "NeurodevelopmentalAssessmentCompleted":
        assessment = (p["pathway"], p["referral_date"])
        state = _evolve(state, open_nd_assessments=_remove(state.open_nd_assessments, assessment))
    return _status(state)


def timeline(events: Iterable[Event]) -> list[Span]:
    """The person's states over time, each span naming the events that started it."""
    # the order of `order_key`, with each event id made a string once (it is used thrice)
    unique = {str(e.event_id): e for e in events}
    ordered = sorted(
        (event_date(e), TYPE_RANK.get(e.event_type, 50), event_id, e)
        for event_id, e in unique.items()
    )
    spans: list[Span] = []
    state = _best_known_details(event for *_, event in ordered)
    month_of_birth = state.month_of_birth
    for day, _, event_id, event in ordered:
        new_state = apply(state, event)
        if new_state.month_of_birth != month_of_birth:  # timeless: one value for all time
            new_state = _evolve(new_state, month_of_birth=month_of_birth)
        if spans and spans[-1].valid_from == day:
            last = spans[-1]
            spans[-1] = Span(day, None, new_state, (*last.caused_by, event_id))
        elif not spans or (new_state is not state and new_state != state):
            if spans:
                last = spans[-1]
                spans[-1] = Span(last.valid_from, day, last.state, last.caused_by)
            spans.append(Span(day, None, new_state, (event_id,)))
        state = new_state
    return _merge_unchanged(spans)


def _best_known_details(ordered: Iterable[Event]) -> PersonState:
    """The state a person's history starts from: what their details records say of the
    time before anything was recorded.

    A month of birth is timeless: the one on the latest-dated record (ties by event id)
    holds on every date, whenever it arrived; a correction is a record dated later.
    Sex, ethnicity group and LSOA can change: each starts as the first value recorded
    (the best known value for the time before it, as SEN2 and the school census do) and
    changes from the date of each later record only. So the first span can show a
    detail from a record its `caused_by` does not name.
    """
    first: dict[str, str] = {}
    month_of_birth = None
    for event in ordered:
        if event.event_type != "PersonDetailsRecorded":
            continue
        details = event.payload
        month_of_birth = details.get("month_of_birth") or month_of_birth
        for name in CHANGEABLE_DETAILS:
            if details.get(name) and name not in first:
                first[name] = details[name]
    return PersonState(
        month_of_birth=month_of_birth,
        sex=first.get("sex"),
        ethnicity_group=first.get("ethnicity_group"),
        lsoa_code=first.get("lsoa_code"),
    )


def _merge_unchanged(spans: Sequence[Span]) -> list[Span]:
    """Same-day events can return to the previous state; such spans fold into the one before."""
    merged: list[Span] = []
    for span in spans:
        if merged and merged[-1].state == span.state:
            last = merged[-1]
            merged[-1] = Span(last.valid_from, span.valid_to, last.state, last.caused_by)
        else:
            merged.append(span)
    return merged


def state_at(spans: Sequence[Span], day: dt.date) -> PersonState | None:
    """The state that held on `day`, or None before the person was known."""
    for span in reversed(spans):
        if span.valid_from <= day and (span.valid_to is None or day < span.valid_to):
            return span.state
    return None


def age_band(month_of_birth: str | None, day: dt.date) -> str | None:
    """The SEN2 age band on `day` for someone born in `month_of_birth` (YYYY-MM), or None."""
    if not month_of_birth:
        return None
    year, month = (int(part) for part in month_of_birth.split("-"))
    age = day.year - year - (1 if (day.month, day.day) < (month, 1) else 0)
    for name, low, high in AGE_BANDS:
        if low <= age <= high:
            return name
    return None
