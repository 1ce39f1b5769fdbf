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

# A family survey statement counts as agreed when the answer is "agree" or "strongly
# agree"; an unanswered statement is left out of the denominator (seeds 000 and 002).
AGREEMENT = frozenset({"AGREE", "STRONGLY_AGREE"})


def ehc_plan_on_time(request: dt.date, issued: dt.date) -> bool:
    """Whether a plan issued on `issued` met the 20-week limit from the request."""
    return (issued - request).days <= EHC_PLAN_DAYS


def therapy_seen_in_time(referred: dt.date, seen: dt.date) -> bool:
    """Whether a first therapy appointment on `seen` was within 6 weeks of referral."""
    return (seen - referred).days <= THERAPY_DAYS


def agreed(answer: str) -> bool:
    """Whether a survey answer agrees with the statement it answers."""
    return answer.upper() in AGREEMENT
