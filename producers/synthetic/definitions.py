"""The definitions the synthetic ground truth is computed from, written from their sources.

The truth is an oracle for the hub, so it must not borrow the hub's rules (`streams/`):
each rule here is restated from the regulation or the local target it comes from, and a
test that the hub's figures equal the truth then checks the hub against the law, not
against itself.
"""

from __future__ import annotations

import datetime as dt

# The Special Educational Needs and Disability Regulations 2014 (SI 2014/1530), regulation
# 13(2): the final EHC plan must be issued within 20 weeks of the local authority receiving
# the request for an EHC needs assessment. A plan issued on day 140 after the request is
# on time; day 141 is late. Regulation 13(3) lists permitted exceptions (school holidays,
# exceptional personal circumstances) that make lateness lawful; the scorecard reports
# the share with exception cases included and with them removed.
EHC_PLAN_WEEKS = 20
EHC_PLAN_DAYS = EHC_PLAN_WEEKS * 7

# Therapy (speech and language, occupational, physiotherapy) first appointment within
# 6 weeks of referral: a local commissioning target, not a statutory one (seed 001,
# County Durham's written statement of action, target 90 %).
THERAPY_WEEKS = 6
THERAPY_DAYS = THERAPY_WEEKS * 7

# Advice for an EHC needs assessment (health, social care, educational psychology) must be
# given within 6 weeks of the local authority's request: the SEND Regulations 2014,
# regulation 8. Day 42 after the request is in time; day 43 is late.
ADVICE_WEEKS = 6
ADVICE_DAYS = ADVICE_WEEKS * 7

# A social communication (autism) assessment completed within 12 weeks of referral: a local
# target (seeds 001 and 003), measured here to the assessment's completion.
SOCIAL_COMMUNICATION_WEEKS = 12
SOCIAL_COMMUNICATION_DAYS = SOCIAL_COMMUNICATION_WEEKS * 7

# The overall absence rate (DfE pupil absence statistics): half-day sessions missed divided
# by the sessions possible. Seed 003 reports it by SEN status: an EHC plan, SEN support, no
# SEN, each pupil counted under the status they held when the term's attendance was taken.
# Permanent and repeated fixed-term exclusions count a pupil "with SEND" when they held an
# EHC plan or SEN support on the day the exclusion started (seeds 001, 003, 004); repeated
# means a third fixed-term exclusion in one academic year, September to August (inferred,
# domain.md section 4, "3 a year"), counted on the day of the third.
WITH_SEND = frozenset({"EHC_PLAN", "SEN_SUPPORT"})
REPEAT_FIXED_TERM = 3

# A family survey statement counts as agreed when the answer is "agree" or "strongly
# agree"; an unanswered statement is left out of the denominator (seeds 000 and 002).
AGREEMENT = frozenset({"AGREE", "STRONGLY_AGREE"})


def ehc_plan_on_time(request: dt.date, issued: dt.date) -> bool:
    """Whether a plan issued on `issued` met the 20-week limit from the request."""
    return (issued - request).days <= EHC_PLAN_DAYS


def therapy_seen_in_time(referred: dt.date, seen: dt.date) -> bool:
    """Whether a first therapy appointment on `seen` was within 6 weeks of referral."""
    return (seen - referred).days <= THERAPY_DAYS


def advice_in_time(requested: dt.date, returned: dt.date) -> bool:
    """Whether advice returned on `returned` met the 6 weeks from the request."""
    return (returned - requested).days <= ADVICE_DAYS


def social_communication_in_time(referred: dt.date, completed: dt.date) -> bool:
    """Whether a social communication assessment was completed within 12 weeks of referral."""
    return (completed - referred).days <= SOCIAL_COMMUNICATION_DAYS


def academic_year(day: dt.date) -> int:
    """The year the academic year (1 September to 31 August) holding `day` began in."""
    return day.year if day.month >= 9 else day.year - 1


def agreed(answer: str) -> bool:
    """Whether a survey answer agrees with the statement it answers."""
    return answer.upper() in AGREEMENT
