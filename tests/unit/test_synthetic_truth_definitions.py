"""The hub's timeliness rules equal the ground truth's own definitions, day by day.

The synthetic areas rarely put a wait right at a limit (late plans are whole weeks late),
so an off-by-one in the hub would pass the area truth tests. Here every wait from 0 to
300 days (to a plan, a first therapy appointment, advice, a social communication
assessment) goes through the SDK's converters into events and the hub's KPI rules, and each
KPI's figures must equal what `producers/synthetic/definitions.py` says from the law.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from producers.identity import Pseudonymiser
from producers.synthetic.area import Extracts
from producers.synthetic.definitions import (
    ADVICE_DAYS,
    advice_in_time,
    ehc_plan_on_time,
    social_communication_in_time,
    therapy_seen_in_time,
)
from producers.synthetic.extract_events import converter_for, encode_extract
from producers.synthetic.nhs_numbers import synthetic_nhs_number
from schemas.catalogue import default_catalogue
from schemas.codec import decode
from schemas.envelope import event_from_record
from streams.measures import sum_contributions

WAITS = range(301)
ISSUED = dt.date(2026, 6, 30)
THERAPIES = {"SLT": "salt", "OT": "ot", "PT": "physio"}
ADVICE = ("HLTH", "SC", "EP")


def _extracts() -> Extracts:
    extracts = Extracts()
    r = random.Random(0)
    for wait in WAITS:
        extracts.add(
            "education",
            "ehc_plans_issued",
            {
                "plan_reference": f"PLAN-{wait:03d}",
                "nhs_number": synthetic_nhs_number(r),
                "request_date": (ISSUED - dt.timedelta(days=wait)).isoformat(),
                "issue_date": ISSUED.isoformat(),
                "permitted_exception": "Y" if wait % 3 == 0 else "N",
                "primary_need": "ASD",
            },
        )
        service = list(THERAPIES)[wait % 3]
        extracts.add(
            "health",
            "therapy_first_appointments",
            {
                "REFERRAL_ID": f"R-{wait:03d}",
                "NHS_NUMBER": synthetic_nhs_number(r),
                "SERVICE": service,
                "REFERRAL_DATE": (ISSUED - dt.timedelta(days=wait)).isoformat(),
                "APPOINTMENT_DATE": ISSUED.isoformat(),
                "APPOINTMENT_PURPOSE": "ASSESSMENT",
            },
        )
        asked = ISSUED - dt.timedelta(days=wait)
        extracts.add(
            "education",
            "advice_returns",
            {
                "request_id": f"REQ-{wait:03d}",
                "advice_type": ADVICE[wait % 3],
                "request_date": (asked - dt.timedelta(days=7)).isoformat(),
                "advice_requested_date": asked.isoformat(),
                "due_date": (asked + dt.timedelta(days=ADVICE_DAYS)).isoformat(),  # as recorded
                "nhs_number": synthetic_nhs_number(r),
                "returned_date": ISSUED.isoformat(),
                "coproduced": "Y",
            },
        )
        extracts.add(
            "health",
            "neurodevelopmental_completions",
            {
                "REFERRAL_ID": f"ND-{wait:03d}",
                "REFERRAL_DATE": asked.isoformat(),
                "NHS_NUMBER": synthetic_nhs_number(r),
                "PATHWAY": "SOCIAL_COMMUNICATION_AUTISM",
                "COMPLETED_DATE": ISSUED.isoformat(),
            },
        )
    return extracts


def _hub_figures(extracts: Extracts) -> Counter[tuple[str, str]]:
    catalogue = default_catalogue()
    pseudonymiser = Pseudonymiser(b"unit-test-key".ljust(32, b"-"), "key-1")
    recorded_at = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    events = []
    for source, extract in sorted(extracts.rows):
        converter = converter_for(source, extract, catalogue)
        values, refusals = encode_extract(
            extracts.csv_text((source, extract)),
            source,
            converter,
            pseudonymiser,
            catalogue,
            recorded_at,
        )
        assert refusals == []
        for _, value in values:
            decoded = decode(catalogue, value)
            events.append(event_from_record(decoded.record, decoded.schema.fingerprint))
    figures: Counter[tuple[str, str]] = Counter()
    for delta in sum_contributions(events):
        figures[(delta.kpi_id, "numerator")] += delta.numerator
        figures[(delta.kpi_id, "denominator")] += delta.denominator
    return figures


def test_the_hubs_timeliness_rules_are_the_laws_and_targets_at_every_wait() -> None:
    expected: Counter[tuple[str, str]] = Counter()
    for wait in WAITS:
        request = ISSUED - dt.timedelta(days=wait)
        on_time = ehc_plan_on_time(request, ISSUED)
        expected[("ehcp_20_weeks_incl_exceptions", "numerator")] += on_time
        expected[("ehcp_20_weeks_incl_exceptions", "denominator")] += 1
        if wait % 3:  # no permitted exception
            expected[("ehcp_20_weeks_excl_exceptions", "numerator")] += on_time
            expected[("ehcp_20_weeks_excl_exceptions", "denominator")] += 1
        therapy = f"therapy_{list(THERAPIES.values())[wait % 3]}_seen_within_6_weeks"
        expected[(therapy, "numerator")] += therapy_seen_in_time(request, ISSUED)
        expected[(therapy, "denominator")] += 1
        in_time = advice_in_time(request, ISSUED)
        expected[("statutory_advice_on_time", "numerator")] += in_time
        expected[("statutory_advice_on_time", "denominator")] += 1
        if wait % 3 == 0:  # health advice
            expected[("health_advice_on_time", "numerator")] += in_time
            expected[("health_advice_on_time", "denominator")] += 1
        expected[("advice_coproduced", "numerator")] += 1
        expected[("advice_coproduced", "denominator")] += 1
        expected[("social_communication_wait_12w", "numerator")] += social_communication_in_time(
            request, ISSUED
        )
        expected[("social_communication_wait_12w", "denominator")] += 1
    on_time_plans = expected[("ehcp_20_weeks_incl_exceptions", "numerator")]
    seen_in_time = sum(
        n for (kpi_id, part), n in expected.items() if "therapy" in kpi_id and part == "numerator"
    )
    assert (on_time_plans, seen_in_time) == (141, 43)  # waits of 0-140 and 0-42 days
    advice_back = expected[("statutory_advice_on_time", "numerator")]
    assessed = expected[("social_communication_wait_12w", "numerator")]
    assert (advice_back, assessed) == (43, 85)  # waits of 0-42 and 0-84 days

    measured = _hub_figures(_extracts())
    for key, value in sorted(expected.items()):
        assert measured[key] == value, key
