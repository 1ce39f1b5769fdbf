"""Synthetic journeys: many children's events across partners, as encoded Avro messages.

Each child gets a plausible sequence over a few years: demographics, termly SEN
census, a request for assessment and often a plan with annual reviews, therapy
referrals and appointments, sometimes a social care case or a placement. Events
come out in the order partners would publish them (by date), with valid schemas,
synthetic pseudonyms and deterministic ids, so the same seed gives the same bytes.
Used by `hub bench stream`; not calibrated to an area (that is `hub synth`'s job).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from schemas.catalogue import Catalogue, default_catalogue
from schemas.codec import encode

NEEDS = ("ASD", "SEMH", "SLCN", "MLD", "SPLD", "PD", "HI", "VI", "SLD", "PMLD", "MSI", "OTH")
SOURCE_OF = {
    "PersonDetailsRecorded": "education",
    "SenSupportRecorded": "education",
    "AssessmentRequested": "education",
    "EhcPlanIssued": "education",
    "AnnualReviewHeld": "education",
    "PlacementStarted": "education",
    "TherapyReferralReceived": "health",
    "TherapyFirstAppointmentHeld": "health",
    "SocialCareCaseOpened": "socialcare",
    "SocialCareCaseClosed": "socialcare",
}


@dataclass(frozen=True)
class JourneyMessage:
    """One encoded event, with the topic suffix it belongs on and its partition key."""

    source: str
    key: bytes
    value: bytes
    event_id: str


def _pseudonym(seed: int, kind: str, person: int) -> str:
    return hashlib.sha256(f"synthetic|{seed}|{kind}|{person}".encode()).hexdigest()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def person_events(r: random.Random, start: dt.date) -> list[tuple[str, dt.date, dict[str, Any]]]:
    """One child's events: (type, date, event-specific fields)."""
    born = start - dt.timedelta(days=r.randint(3 * 365, 16 * 365))
    events: list[tuple[str, dt.date, dict[str, Any]]] = [
        (
            "PersonDetailsRecorded",
            start,
            {
                "month_of_birth": born.strftime("%Y-%m"),
                "sex": r.choice(["FEMALE", "MALE"]),
                "ethnicity_group": r.choice(["WHITE", "WHITE", "WHITE", "ASIAN", "MIXED", "BLACK"]),
                "lsoa_code": f"E0102{r.randint(5000, 5999)}",
            },
        )
    ]
    need = r.choice(NEEDS)
    for term in range(r.randint(1, 6)):
        day = start + dt.timedelta(days=120 * term + 14)
        events.append(
            (
                "SenSupportRecorded",
                day,
                {
                    "census_term": f"{day.year}-T{term % 3 + 1}",
                    "sen_status": "K",
                    "primary_need": need,
                    "secondary_need": None,
                    "phase": None,
                },
            )
        )
    if r.random() < 0.35:
        requested = start + dt.timedelta(days=r.randint(30, 400))
        issued = requested + dt.timedelta(days=r.randint(90, 200))
        events.append(
            ("AssessmentRequested", requested, {"request_date": requested, "requester": None})
        )
        events.append(
            (
                "EhcPlanIssued",
                issued,
                {
                    "request_date": requested,
                    "issue_date": issued,
                    "permitted_exception": r.random() < 0.08,
                    "primary_need": need,
                },
            )
        )
        for year in range(1, r.randint(1, 3) + 1):
            review = issued + dt.timedelta(days=365 * year + r.randint(-20, 40))
            events.append(
                (
                    "AnnualReviewHeld",
                    review,
                    {
                        "review_date": review,
                        "due_date": issued + dt.timedelta(days=365 * year),
                        "outcome": "MAINTAIN",
                        "young_person_involved": r.random() < 0.7,
                    },
                )
            )
    if r.random() < 0.3:
        referred = start + dt.timedelta(days=r.randint(0, 500))
        therapy = r.choice(["SALT", "OT", "PHYSIO"])
        events.append(
            (
                "TherapyReferralReceived",
                referred,
                {"therapy_type": therapy, "referral_date": referred, "referral_source": "GP"},
            )
        )
        seen = referred + dt.timedelta(days=r.randint(10, 90))
        events.append(
            (
                "TherapyFirstAppointmentHeld",
                seen,
                {
                    "therapy_type": therapy,
                    "referral_date": referred,
                    "appointment_date": seen,
                    "appointment_purpose": "ASSESSMENT",
                },
            )
        )
    if r.random() < 0.1:
        opened = start + dt.timedelta(days=r.randint(0, 600))
        case_type = r.choice(["EARLY_HELP", "CHILD_IN_NEED", "LOOKED_AFTER"])
        events.append(
            (
                "SocialCareCaseOpened",
                opened,
                {
                    "case_type": case_type,
                    "opened_date": opened,
                    "send_status_recorded": r.random() < 0.8,
                    "send_status": "SEN_SUPPORT",
                },
            )
        )
        if r.random() < 0.5:
            closed = opened + dt.timedelta(days=r.randint(30, 300))
            events.append(
                (
                    "SocialCareCaseClosed",
                    closed,
                    {"case_type": case_type, "opened_date": opened, "closed_date": closed},
                )
            )
    return events


def journeys(
    events: int, *, seed: int = 1, catalogue: Catalogue | None = None
) -> Iterator[JourneyMessage]:
    """About `events` encoded events (whole journeys), in publication (date) order per child."""
    catalogue = catalogue or default_catalogue()
    r = random.Random(seed)
    produced = 0
    person = 0
    recorded = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    while produced < events:
        person += 1
        nhs = _pseudonym(seed, "nhs", person)
        upn = _pseudonym(seed, "upn", person) if r.random() < 0.9 else None
        start = dt.date(2022, 9, 1) + dt.timedelta(days=r.randint(0, 700))
        for kind, day, fields in sorted(person_events(r, start), key=lambda e: e[1]):
            if produced >= events:
                return
            event_id = str(
                uuid.UUID(bytes=hashlib.md5(f"{seed}|{person}|{produced}".encode()).digest())
            )
            record = {
                "event_id": event_id,
                "event_type": kind,
                "schema_version": 1,
                "occurred_at": _midnight(day),
                "recorded_at": recorded,
                "source_system": SOURCE_OF[kind],
                "contract_id": "leics-send-sharing-2026",
                "area_code": "E10000018",
                "extract_id": None,
                "subject": {"nhs_pseudonym": nhs, "upn_pseudonym": upn, "key_id": "key-1"},
                **fields,
            }
            yield JourneyMessage(
                SOURCE_OF[kind], nhs.encode(), encode(catalogue.latest(kind), record), event_id
            )
            produced += 1
