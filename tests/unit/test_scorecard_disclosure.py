"""A KPI's year on the scorecard: shown rounded beside a small month, and the month still safe.

A flow KPI's headline is a total over months, and small areas have months of 1 to 7. The
scorecard protects each KPI's months together with its totals over the publication periods
(the 12 months to the latest month, to the last complete month and the month before, and
the 12 before each: `publication_periods`), so a year can be shown while its small months
stay `c`. Each story publishes hand-made months through the hub's own functions and then
solves the attacker's linear programme over everything published (`streams/disclosure_audit`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from streams.disclosure import SUPPRESSED, Rule, Status
from streams.disclosure_audit import AtMost, AuditReport, audit
from streams.publication import Ledger, Publication, month_table
from streams.scorecard_engine import ScorecardInputs, evaluate
from streams.scorecard_publication import (
    measure_series,
    needed_months,
    publication_periods,
    publish_scorecard,
    span_key,
)

ON, OFF = Rule(), Rule(secondary_suppression=False)
D = dt.date
AS_AT = D(2025, 8, 31)  # a month end: the last complete month is August 2025
INTERNSHIPS = "supported_internships"  # a count KPI: its own numerator, no denominator
# Supported internships started, September 2024 to July 2025: 148 in all, every month 8 or
# more; then 3 in August. The year to July is 148, the year to August 151: both shown 150.
BEFORE_AUGUST = [12, 15, 9, 11, 14, 10, 13, 16, 12, 10, 26]


def _month(text: str) -> dt.date:
    return D.fromisoformat(f"{text}-01")


def internships(august: int = 3) -> ScorecardInputs:
    months = [D(2024, 9 + n, 1) if n < 4 else D(2025, n - 3, 1) for n in range(11)]
    measures = {(INTERNSHIPS, m): (n, 0) for m, n in zip(months, BEFORE_AUGUST, strict=True)}
    measures[(INTERNSHIPS, D(2025, 8, 1))] = (august, 0)
    return ScorecardInputs(measures, {}, {})


def scorecard(
    inputs: ScorecardInputs,
    rule: Rule,
    period_to: dt.date,
    period_from: dt.date | None = None,
) -> Publication:
    """The scorecard as `published_scorecard` builds it, for the data held as at AS_AT (with
    nobody in the JSNA tables its stock KPIs read)."""
    results = evaluate(inputs, period_from, period_to, AS_AT)
    tables = {end: month_table(end, {}, rule) for end in needed_months(results)}
    periods = publication_periods(AS_AT)
    return publish_scorecard(
        inputs, results, tables, AS_AT, rule, periods, yearly_headline=period_from is None
    )


def kpi(publication: Publication, kpi_id: str) -> dict[str, Any]:
    kpis: list[dict[str, Any]] = publication.document["kpis"]
    return next(k for k in kpis if k["id"] == kpi_id)


def attack(ledger: Ledger, rule: Rule) -> AuditReport:
    return audit(
        rule,
        ledger.shown,
        sorted(ledger.sums, key=repr),
        sorted(ledger.at_most, key=repr),
        sorted(ledger.inconsistent, key=repr),
    )


def published_as_the_audit_does(inputs: ScorecardInputs, rule: Rule) -> Ledger:
    """Everything `hub disclosure audit` puts together: the scorecards to the last complete
    month and to the month before, and the default scorecard."""
    ledger = Ledger()
    for last in (D(2025, 8, 1), D(2025, 7, 1)):
        ledger.merge(scorecard(inputs, rule, last).ledger)
    return ledger


AUGUST = ("measure", INTERNSHIPS, "numerator", "2025-08")
YEAR_TO_AUGUST = ("span", "measure", INTERNSHIPS, "numerator", "2024-09", "2025-08")
YEAR_TO_JULY = ("span", "measure", INTERNSHIPS, "numerator", "2024-08", "2025-07")


def test_the_old_rule_hid_a_year_with_one_small_month_in_it() -> None:
    # what the scorecard did before: a total over months went with any suppressed month
    months = [ON.count(n) for n in [*BEFORE_AUGUST, 3]]
    assert ON.total(151, months) == SUPPRESSED


def test_a_year_with_a_month_of_three_is_shown_rounded_and_the_month_stays_c() -> None:
    published = scorecard(internships(), ON, D(2025, 8, 1))
    figures = kpi(published, INTERNSHIPS)
    assert (figures["period_from"], figures["period_to"]) == ("2024-09", "2025-08")
    assert figures["value"] == {"value": 150, "symbol": None, "status": "rounded"}
    august = next(m for m in figures["trend"] if m["period"] == "2025-08")
    assert august["numerator"]["symbol"] == "c"
    assert published.ledger.shown[YEAR_TO_AUGUST].value == 150
    report = attack(published.ledger, ON)
    assert report.passed, report.failures
    assert next(i for i in report.intervals if i.key == AUGUST).values >= 8


def test_the_year_to_the_month_before_is_what_gives_way_so_the_month_cannot_be_worked_out() -> None:
    # 151 - 148 = 3: the years to August and to July, both shown, would pin August to 1-4
    ledger = published_as_the_audit_does(internships(), ON)
    assert ledger.shown[YEAR_TO_AUGUST].value == 150
    assert ledger.shown[YEAR_TO_JULY] == SUPPRESSED
    assert YEAR_TO_JULY in ledger.secondary and not ledger.inconsistent
    report = attack(ledger, ON)
    assert report.passed, report.failures
    august = next(i for i in report.intervals if i.key == AUGUST)
    assert august.low <= 3 <= august.high


def test_without_secondary_suppression_the_two_years_give_the_month_away() -> None:
    ledger = published_as_the_audit_does(internships(), OFF)
    assert ledger.shown[YEAR_TO_AUGUST].value == ledger.shown[YEAR_TO_JULY].value == 150
    report = attack(ledger, OFF)
    august = next(i for i in report.intervals if i.key == AUGUST)
    assert august.values < 8 and august.low <= 3 <= august.high  # 1 to 4
    assert not report.passed


@pytest.mark.parametrize("august", [1, 3, 7])
def test_every_scorecard_shows_the_months_and_the_periods_alike(august: int) -> None:
    inputs = internships(august)
    ledger = published_as_the_audit_does(inputs, ON)
    ledger.merge(scorecard(inputs, ON, D(2025, 8, 1), period_from=D(2025, 1, 1)).ledger)
    ledger.merge(scorecard(inputs, ON, D(2025, 6, 1), period_from=D(2025, 3, 1)).ledger)
    assert not ledger.inconsistent
    report = attack(ledger, ON)
    assert report.passed, report.failures


def test_a_span_outside_the_periods_is_c_with_a_small_month_or_if_it_narrows_one() -> None:
    inputs = internships()
    # January to August holds August's 3: suppressed with it
    with_august = kpi(scorecard(inputs, ON, D(2025, 8, 1), period_from=D(2025, 1, 1)), INTERNSHIPS)
    assert with_august["numerator"]["symbol"] == "c"
    # September to July holds no small month, but the year to August minus it is August
    rest = scorecard(inputs, ON, D(2025, 7, 1), period_from=D(2024, 9, 1))
    assert kpi(rest, INTERNSHIPS)["numerator"]["symbol"] == "c"
    assert rest.ledger.shown[span_key(INTERNSHIPS, "numerator", D(2024, 9, 1), D(2025, 7, 1))] == (
        SUPPRESSED
    )
    # December to March (48) holds no suppressed month and, beside the periods, leaves
    # August (3) and November (9, suppressed beside it) as unknown as before: shown
    early = kpi(scorecard(inputs, ON, D(2025, 3, 1), period_from=D(2024, 12, 1)), INTERNSHIPS)
    assert early["numerator"] == {"value": 50, "symbol": None, "status": "rounded"}


def test_a_share_protects_its_numerator_and_denominator_and_keeps_part_within_whole() -> None:
    kpi_id = "ehcp_20_weeks_excl_exceptions"
    months = [_month(f"2024-{m:02d}") for m in range(9, 13)] + [
        _month(f"2025-{m:02d}") for m in range(1, 9)
    ]
    # plans issued on time of all plans issued: a month of 2 of 3 beside months of 9 of 12
    figures = [(9, 12)] * 11 + [(2, 3)]
    inputs = ScorecardInputs({(kpi_id, m): f for m, f in zip(months, figures, strict=True)}, {}, {})
    ledger = published_as_the_audit_does(inputs, ON)
    published = kpi(scorecard(inputs, ON, D(2025, 8, 1)), kpi_id)
    assert published["numerator"]["value"] == 100 and published["denominator"]["value"] == 135
    assert published["percentage"]["status"] == Status.DERIVED
    part, whole = (
        ("measure", kpi_id, column, "2025-08") for column in ("numerator", "denominator")
    )
    assert AtMost(part, whole) in ledger.at_most
    assert ledger.shown[part] == ledger.shown[whole] == SUPPRESSED
    report = attack(ledger, ON)
    assert report.passed, report.failures
    series = measure_series(kpi_id, inputs.measures, publication_periods(AS_AT), ON)
    assert AtMost(part, whole) in series.at_most  # protected knowing part within whole too
    assert audit(ON, series.protected.shown, series.sums, series.at_most).passed
