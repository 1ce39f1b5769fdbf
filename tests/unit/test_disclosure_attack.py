"""The attacker's linear programme against hand-made tables, with and without secondary suppression.

Each story publishes a few tables through the hub's own publication functions, then
solves the attack (`streams/disclosure_audit.py`). With secondary suppression off, the
attack narrows a suppressed count to fewer than 8 values; with it on, it cannot.
"""

from __future__ import annotations

import datetime as dt

import pytest

from streams.disclosure import SUPPRESSED, Rule, Sum, protect
from streams.disclosure_audit import AuditReport, audit
from streams.kpi import KpiResult
from streams.publication import Ledger, month_table
from streams.scorecard import kpi_by_id
from streams.scorecard_engine import ScorecardInputs, evaluate
from streams.scorecard_publication import ScorecardFigures, publish_kpi

ON, OFF = Rule(), Rule(secondary_suppression=False)
D = dt.date


def attack(ledger: Ledger, rule: Rule) -> AuditReport:
    return audit(
        rule, ledger.shown, sorted(ledger.sums, key=repr), sorted(ledger.at_most, key=repr)
    )


def test_an_invented_table_is_recovered_by_subtraction_without_secondary_suppression() -> None:
    counts = {"all": 36, "boys": 33, "girls": 3}  # shown 35, 35 and c
    sums = [Sum("all", ("boys", "girls"))]
    for rule, recovered in ((OFF, True), (ON, False)):
        table = protect(counts, sums, rule)
        report = audit(rule, table.shown, sums)
        girls = next(i for i in report.intervals if i.key == "girls")
        assert (girls.values < 8) is recovered, (rule, girls)
        assert girls.low <= 3 <= girls.high  # the truth is always inside


def _children(boys: int, girls: int, by_age: dict[str, int]) -> dict[tuple[str, str, str], int]:
    """JSNA cells of one month: EHC plans by sex and by age band (overlapping breakdowns)."""
    cells = {("EHC_PLAN", "all", "all"): boys + girls}
    cells |= {("EHC_PLAN", "sex", "MALE"): boys, ("EHC_PLAN", "sex", "FEMALE"): girls}
    cells |= {("EHC_PLAN", "age_band", band): n for band, n in by_age.items()}
    return cells


@pytest.mark.parametrize(("rule", "recovered"), [(OFF, True), (ON, False)])
def test_all_children_minus_boys_gives_girls_unless_secondary_suppression_is_on(
    rule: Rule, recovered: bool
) -> None:
    # 33 boys and 3 girls with a plan; the same 36 by age band: 5-10 and 11-15
    cells = _children(33, 3, {"5-10": 18, "11-15": 18})
    table = month_table(D(2025, 3, 31), cells, rule)
    report = attack(table.ledger(), rule)
    girls = next(i for i in report.intervals if i.key[-1] == "FEMALE")
    assert (girls.values < 8) is recovered
    assert report.passed is not recovered
    assert girls.low <= 3 <= girls.high


@pytest.mark.parametrize(("rule", "recovered"), [(OFF, True), (ON, False)])
def test_a_status_beside_the_sum_over_statuses_gives_the_other_away_unless_protected(
    rule: Rule, recovered: bool
) -> None:
    # The scorecard publishes children with SEND placed out of area (EHC plan + SEN
    # support: 35 shown); the JSNA publishes each status: 33 with a plan (35), and 2 on
    # SEN support, whose own breakdown (78 = 2 + 62 + 14) leaves them 1 to 11 on its own.
    cells = {
        ("EHC_PLAN", "all", "all"): 60,
        ("EHC_PLAN", "placement_area", "OUT_OF_AREA"): 33,
        ("EHC_PLAN", "placement_area", "IN_AREA"): 27,
        ("SEN_SUPPORT", "all", "all"): 78,
        ("SEN_SUPPORT", "placement_area", "OUT_OF_AREA"): 2,
        ("SEN_SUPPORT", "placement_area", "IN_AREA"): 62,
        ("SEN_SUPPORT", "placement_area", "NONE"): 14,
    }
    table = month_table(D(2025, 3, 31), cells, rule)
    report = attack(table.ledger(), rule)
    out_of_area = next(
        i for i in report.intervals if i.key[2:] == ("SEN_SUPPORT", "placement_area", "OUT_OF_AREA")
    )
    assert (out_of_area.values < 8) is recovered, out_of_area
    assert out_of_area.low <= 2 <= out_of_area.high
    both = table.ledger().shown[
        ("jsna", "2025-03-31", "EHC_PLAN+SEN_SUPPORT", "placement_area", "OUT_OF_AREA")
    ]
    assert both.value == 35 or both.symbol == "c"


def _months(figures: dict[str, int]) -> dict[tuple[str, dt.date], tuple[int, int]]:
    """Supported internships started, month by month (a count KPI: no denominator)."""
    return {
        ("supported_internships", D.fromisoformat(f"{month}-01")): (n, 0)
        for month, n in figures.items()
    }


def _published_until(inputs: ScorecardInputs, last: dt.date, rule: Rule) -> Ledger:
    """The scorecard's supported-internships KPI as published up to `last`."""
    results: list[KpiResult] = evaluate(inputs, D(2025, 1, 1), last, last)
    result = next(r for r in results if r.kpi.id == "supported_internships")
    figures = ScorecardFigures(inputs, {}, rule)
    publish_kpi(figures, result)
    return figures.ledger


@pytest.mark.parametrize(("rule", "recovered"), [(OFF, True), (ON, False)])
def test_two_consecutive_months_give_the_last_month_away_unless_the_total_goes_with_it(
    rule: Rule, recovered: bool
) -> None:
    assert kpi_by_id("supported_internships").unit.value == "count"
    # 23 in January, 2 in February: the scorecards to January and to February show 25
    # and 25, so February is 25 - 25 give or take the rounding: at most 4
    inputs = ScorecardInputs(_months({"2025-01": 23, "2025-02": 2}), {}, {})
    ledger = _published_until(inputs, D(2025, 1, 1), rule)
    ledger.merge(_published_until(inputs, D(2025, 2, 1), rule))
    report = attack(ledger, rule)
    february = next(i for i in report.intervals if i.key[-1] == "2025-02")
    assert (february.values < 8) is recovered, february
    assert february.low <= 2 <= february.high
    total = ("span", "measure", "supported_internships", "numerator", "2025-01", "2025-02")
    assert (ledger.shown[total] == SUPPRESSED) is not recovered


def test_a_percentage_beside_its_denominator_tells_nothing_more_than_the_counts() -> None:
    # 3 of 40 plans on time: a percentage of the true counts (7.5 %) beside the
    # denominator (40) would give the 3 away; the published percentage is c.
    inputs = ScorecardInputs({("ehcp_20_weeks_excl_exceptions", D(2025, 1, 1)): (3, 40)}, {}, {})
    result = next(
        r
        for r in evaluate(inputs, D(2025, 1, 1), D(2025, 1, 1), D(2025, 1, 1))
        if r.kpi.id == "ehcp_20_weeks_excl_exceptions"
    )
    assert result.percentage == 7.5  # the figure inside the hub
    published = publish_kpi(ScorecardFigures(inputs, {}, ON), result)
    assert published["denominator"] == {"value": 40, "symbol": None, "status": "rounded"}
    assert published["numerator"]["symbol"] == published["percentage"]["symbol"] == "c"
    assert published["rag"] == "suppressed"
