"""Secondary suppression proved by the attack itself (`streams.secondary_suppression.secured`).

The heuristic of `protect` looks at one sum at a time; the attacker's linear programme
looks at all of them at once. A month's JSNA table is protected by the heuristic and then
attacked, with more cells suppressed until no suppressed count can be narrowed to fewer
than 8 values: these stories and random small tables check that what `month_table`
publishes passes the audit, and that a count which cannot be protected is said so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.disclosure import SUPPRESSED, Key, Rule, Shown, Sum, exact, protect
from streams.disclosure_audit import AuditReport, audit
from streams.publication import CellKey, MonthTable, month_table
from streams.secondary_suppression import secured

RULE = Rule()
DAY = dt.date(2025, 3, 31)


def attack(table: MonthTable, shown: Mapping[Key, Shown] | None = None) -> AuditReport:
    """The audit of a month's table as published, or as `shown` instead."""
    ledger = table.ledger()
    return audit(
        RULE,
        ledger.shown if shown is None else shown,
        sorted(ledger.sums, key=repr),
        sorted(ledger.at_most, key=repr),
    )


def _ehc_plans() -> dict[CellKey, int]:
    """The demo area's failing shape: 28 children with a plan, broken down three ways.

    By sex 11 and 17 (shown 10 and 15) the total can only be 28 or 29 (shown 30: 28 to
    32); the 25 white children (shown 25: 23 to 27) then leave 1 to 6 for the two other
    groups together, and the 24 placed in area the same for the two other placements and
    for the sum over statuses the scorecard reads (children placed out of area). Each
    sum on its own leaves 8 values, which is all the heuristic checks."""
    cells = {("EHC_PLAN", "all", "all"): 28}
    cells |= {("EHC_PLAN", "sex", "FEMALE"): 11, ("EHC_PLAN", "sex", "MALE"): 17}
    cells |= {
        ("EHC_PLAN", "ethnicity_group", "ASIAN"): 1,
        ("EHC_PLAN", "ethnicity_group", "BLACK"): 2,
        ("EHC_PLAN", "ethnicity_group", "WHITE"): 25,
    }
    cells |= {
        ("EHC_PLAN", "placement_area", "IN_AREA"): 24,
        ("EHC_PLAN", "placement_area", "NONE"): 2,
        ("EHC_PLAN", "placement_area", "OUT_OF_AREA"): 2,
    }
    cells |= {("EHC_PLAN", "flag", "looked_after"): 9, ("EHC_PLAN", "flag", "child_in_need"): 3}
    return cells


def test_breakdowns_of_one_total_narrow_what_the_heuristic_leaves_and_the_proof_fixes_it() -> None:
    table = month_table(DAY, _ehc_plans(), RULE)
    heuristic = protect(table.true, list(table.sums), RULE)
    before = attack(table, heuristic.shown)
    narrowed = {tuple(i.key)[2:] for i in before.failures if isinstance(i.key, tuple)}
    assert ("EHC_PLAN", "placement_area", "OUT_OF_AREA") in narrowed
    assert ("EHC_PLAN+SEN_SUPPORT", "placement_area", "OUT_OF_AREA") in narrowed
    assert ("EHC_PLAN", "ethnicity_group", "ASIAN") in narrowed
    assert all(i.values < 8 for i in before.failures)

    after = attack(table)
    assert after.passed, after.failures
    assert table.protected.exposed == set()
    for interval in after.intervals:  # the truth is always inside
        assert interval.low - 1e-6 <= table.true[interval.key] <= interval.high + 1e-6
    # what the proof added is secondary (8 or more), never a shown count changed otherwise
    added = table.protected.secondary - heuristic.secondary
    assert added and all(table.true[key] >= 8 for key in added)
    for key, shown in table.protected.shown.items():
        assert shown == heuristic.shown[key] or (key in added and shown == SUPPRESSED)


def test_a_handful_of_children_is_protected_by_the_sum_over_statuses_going_too() -> None:
    # 7 with a plan, in five localities (so at least 5), and 1 on SEN support: all c, but
    # their sum shown 10 (8 to 12) would leave SEN support 1 to 7 and plans 5 to 11
    localities = {"L1": 2, "L2": 2, "L3": 1, "L4": 1, "L5": 1}
    cells = {("EHC_PLAN", "all", "all"): 7}
    cells |= {("EHC_PLAN", "locality", place): n for place, n in localities.items()}
    cells |= {("SEN_SUPPORT", "all", "all"): 1, ("SEN_SUPPORT", "locality", "L1"): 1}
    table = month_table(DAY, cells, RULE)
    heuristic = protect(table.true, list(table.sums), RULE)
    assert not attack(table, heuristic.shown).passed
    report = attack(table)
    assert report.passed, report.failures
    assert table.shown(("EHC_PLAN", "SEN_SUPPORT"), "all", "all") == SUPPRESSED


def test_a_count_no_cell_can_protect_is_exposed_and_the_audit_fails_honestly() -> None:
    # the total and one part are published elsewhere, exactly: the other part is pinned
    counts: dict[Key, int] = {"all": 30, "a": 3, "b": 27}
    sums = [Sum("all", ("a", "b"))]
    fixed: dict[Key, Shown] = {"all": exact(30), "b": exact(27)}
    protected = secured(counts, protect(counts, sums, RULE, fixed), sums, RULE, fixed=fixed)
    assert protected.exposed == {"a"}
    assert not audit(RULE, protected.shown, sums).passed


def test_without_secondary_suppression_nothing_is_added_and_the_table_leaks() -> None:
    table = month_table(DAY, _ehc_plans(), Rule(secondary_suppression=False))
    assert table.protected.secondary == set()
    assert not attack(table).passed


STATUSES = ("EHC_PLAN", "SEN_SUPPORT", "UNKNOWN")
BREAKDOWNS = {
    "sex": ("FEMALE", "MALE"),
    "ethnicity_group": ("ASIAN", "BLACK", "MIXED", "WHITE"),
    "placement_area": ("IN_AREA", "NONE", "OUT_OF_AREA"),
}
FLAGS = ("looked_after", "child_in_need")


@st.composite
def month_tables(draw: st.DrawFn) -> dict[CellKey, int]:
    """JSNA cells of one month: 2 or 3 statuses of 0 to 30 people, each broken down 2 or 3
    ways (every person in one value of each), with flags at most the status's total."""
    statuses = draw(st.lists(st.sampled_from(STATUSES), min_size=2, max_size=3, unique=True))
    dimensions = draw(
        st.lists(st.sampled_from(sorted(BREAKDOWNS)), min_size=2, max_size=3, unique=True)
    )
    cells: dict[CellKey, int] = {}
    for status in statuses:
        total = draw(st.integers(0, 30))
        if not total:
            continue
        cells[(status, "all", "all")] = total
        for dimension in dimensions:
            values = BREAKDOWNS[dimension]
            left = total
            for value in values[:-1]:
                share = draw(st.integers(0, left))
                cells[(status, dimension, value)] = share
                left -= share
            cells[(status, dimension, values[-1])] = left
        for flag in FLAGS:
            cells[(status, "flag", flag)] = draw(st.integers(0, total))
    return cells


@settings(max_examples=50, deadline=None)
@given(month_tables())
def test_every_small_month_table_passes_the_attack_once_protected(
    cells: dict[CellKey, int],
) -> None:
    table = month_table(DAY, cells, RULE)
    report = attack(table)
    assert report.passed, report.failures
    assert table.protected.exposed == set()
    for interval in report.intervals:
        assert interval.low - 1e-6 <= table.true[interval.key] <= interval.high + 1e-6
    for key in table.protected.secondary:
        assert table.true[key] >= RULE.suppress_below  # primary cells are never counted twice
