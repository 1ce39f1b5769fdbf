"""Disclosure control, one figure at a time and a table at a time (`streams/disclosure.py`)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.loading import shipped_contracts
from streams.disclosure import (
    NOT_AVAILABLE,
    SUPPRESSED,
    Rule,
    Shown,
    Status,
    Sum,
    change_percent,
    difference,
    exact,
    figure_text,
    protect,
    ratio,
)
from streams.disclosure_audit import audit
from streams.secondary_suppression import secured

RULE = Rule()  # England's health and care statistics rule: 1-7 suppressed, rounded to 5


def test_the_shipped_contract_asks_for_englands_rule() -> None:
    assert Rule.of(shipped_contracts().values()) == Rule(8, 5, True)


def test_a_zero_is_shown_small_counts_are_suppressed_and_the_rest_rounded_to_five() -> None:
    shown = {n: RULE.count(n).as_json() for n in (0, 1, 7, 8, 12, 13, 17, 18, 1234)}
    assert shown[0] == {"value": 0, "symbol": None, "status": "exact"}
    assert shown[1] == shown[7] == {"value": None, "symbol": "c", "status": "suppressed"}
    assert shown[8] == shown[12] == {"value": 10, "symbol": None, "status": "rounded"}
    assert [shown[n]["value"] for n in (13, 17, 18, 1234)] == [15, 15, 20, 1235]


@given(st.integers(min_value=0, max_value=100_000))
def test_every_published_count_is_zero_a_symbol_or_a_rounded_count_it_could_have_come_from(
    people: int,
) -> None:
    shown = RULE.count(people)
    if shown.value is None:
        assert shown.symbol == "c" and 1 <= people <= 7
    else:
        assert shown.value == 0 or (shown.value >= 10 and shown.value % 5 == 0)
        assert abs(shown.value - people) <= 2
    low, high = RULE.possible(shown)
    assert low <= people <= high  # the audit's interval always holds the truth
    assert high - low + 1 >= (1 if shown.value is not None else 8)


def test_the_strictest_rule_applies_when_an_output_draws_on_several_contracts() -> None:
    shipped = shipped_contracts()["leics-send-sharing-2026"]
    looser = shipped.model_copy(
        update={
            "disclosure_control": shipped.disclosure_control.model_copy(
                update={"suppress_below": 5, "round_to": 10, "secondary_suppression": False}
            )
        }
    )
    assert Rule.of([shipped, looser]) == Rule(8, 10, True)


def test_rates_come_from_the_protected_counts_and_a_suppressed_denominator_shows_c() -> None:
    # 17 of 38: the protected counts are 15 of 40, so 37.5 %, never the true 44.7 %
    assert ratio(RULE.count(17), RULE.count(38), 100) == Shown(37.5, Status.DERIVED)
    assert ratio(RULE.count(30), RULE.count(5), 100) == SUPPRESSED
    assert ratio(RULE.count(3), RULE.count(40), 100) == SUPPRESSED
    assert ratio(RULE.count(30), NOT_AVAILABLE, 1000).symbol == "x"
    assert ratio(exact(0), exact(0), 100).symbol == "z"  # a share of nobody
    assert ratio(RULE.count(10), exact(5_000_000), 1000, 2).symbol == "low"  # 0.002 -> 0.00
    assert ratio(RULE.count(10), exact(5_000_000), 1000, 2).value is None
    assert ratio(exact(0), exact(500_000), 1000, 2) == Shown(0.0, Status.DERIVED)


@given(st.integers(0, 5_000), st.integers(0, 5_000))
def test_a_rate_is_a_function_of_the_published_counts_alone(numerator: int, extra: int) -> None:
    """Two true pairs published alike give the same rate: the rate tells nothing more."""
    denominator = numerator + extra
    published = (RULE.count(numerator), RULE.count(denominator))
    twin = (
        numerator + (1 if published[0].status is Status.ROUNDED else 0),
        denominator + (1 if published[1].status is Status.ROUNDED else 0),
    )
    if (RULE.count(twin[0]), RULE.count(twin[1])) == published:
        assert ratio(*published, 100) == ratio(RULE.count(twin[0]), RULE.count(twin[1]), 100)
    rate = ratio(*published, 100)
    assert rate.value is not None or rate.symbol in ("c", "z", "low")


def test_changes_come_from_protected_counts_and_are_c_beside_a_suppressed_one() -> None:
    assert difference(RULE.count(42), RULE.count(33)) == Shown(5, Status.DERIVED)  # 40 - 35
    assert difference(RULE.count(42), RULE.count(3)) == SUPPRESSED
    assert difference(RULE.count(42), exact(0)) == Shown(40, Status.DERIVED)
    assert change_percent(Shown(50.0, Status.DERIVED), Shown(40.0, Status.DERIVED)).value == 25.0
    assert change_percent(Shown(50.0, Status.DERIVED), exact(0)).symbol == "x"
    assert change_percent(Shown(50.0, Status.DERIVED), Shown(0.0, Status.DERIVED)).symbol == "x"
    assert change_percent(SUPPRESSED, Shown(40.0, Status.DERIVED)).symbol == "c"


def test_a_total_over_months_is_suppressed_with_any_suppressed_month() -> None:
    months = [RULE.count(n) for n in (20, 3, 30)]
    assert RULE.total(53, months) == SUPPRESSED
    assert RULE.total(50, [RULE.count(20), RULE.count(30)]).value == 50
    off = Rule(secondary_suppression=False)
    assert off.total(53, months).value == 55


def test_a_table_shows_symbols_and_its_json_carries_symbol_and_status() -> None:
    table = protect({"all": 40, "boys": 36, "girls": 4}, [Sum("all", ("boys", "girls"))], RULE)
    assert {key: figure_text(shown.as_json()) for key, shown in table.shown.items()} == {
        "all": "40",
        "boys": "c",
        "girls": "c",
    }
    assert table.primary == {"girls"} and table.secondary == {"boys"}
    assert figure_text(Shown(1234.5, Status.DERIVED).as_json(), 1) == "1,234.5"
    assert figure_text(Shown(-5, Status.DERIVED).as_json(), signed=True) == "-5"


def test_secondary_suppression_picks_the_smallest_other_part_then_the_total() -> None:
    sums = [Sum("all", ("a", "b", "c"))]
    table = protect({"all": 60, "a": 3, "b": 40, "c": 17}, sums, RULE)
    assert table.secondary == {"c"}
    alone = protect({"all": 30, "a": 30}, [Sum("all", ("a",))], RULE)
    assert alone.primary == set() and alone.secondary == set()
    # a part that is the whole total: suppressed with it
    total_hidden = protect(
        {"all": 30, "a": 30, "x": 3}, [Sum("all", ("a",)), Sum("y", ("x", "all"))], RULE
    )
    assert {"all", "a"} <= total_hidden.secondary | total_hidden.primary


def test_two_suppressed_cells_still_narrowed_by_rounding_get_a_third() -> None:
    # 1 + 1 + 28 = 30: shown c, c, 30 (28..32) and 30 (28..32): a + b <= 4, so a <= 3
    table = protect(
        {"all": 30, "a": 1, "b": 1, "c": 28, "d": 0}, [Sum("all", ("a", "b", "c", "d"))], RULE
    )
    assert table.shown["c"] == SUPPRESSED or table.shown["all"] == SUPPRESSED
    report = audit(RULE, table.shown, [Sum("all", ("a", "b", "c", "d"))])
    assert report.passed, report.failures


@st.composite
def two_way_tables(draw: st.DrawFn) -> tuple[dict[str, int], list[Sum]]:
    """A total broken down two ways (say sex and age band), counts from small to middling."""
    sizes = st.integers(0, 40)
    first = draw(st.lists(sizes, min_size=1, max_size=5))
    total = sum(first)
    second: list[int] = []
    left = total
    for _ in range(draw(st.integers(0, 4))):
        share = draw(st.integers(0, left))
        second.append(share)
        left -= share
    second.append(left)
    counts = {"all": total}
    counts |= {f"sex{i}": n for i, n in enumerate(first)}
    counts |= {f"age{i}": n for i, n in enumerate(second)}
    sums = [
        Sum("all", tuple(f"sex{i}" for i in range(len(first)))),
        Sum("all", tuple(f"age{i}" for i in range(len(second)))),
    ]
    return counts, sums


@settings(max_examples=150, deadline=None)
@given(two_way_tables())
def test_protected_tables_leave_every_suppressed_cell_at_least_eight_values(
    table: tuple[dict[str, int], list[Sum]],
) -> None:
    counts, sums = table
    # the quick rule per sum, then the attack as the last word, as every table is published
    # (the quick rule alone can leave two cells of one sum at 1-5 each beside rounded ones)
    protected = secured(counts, protect(counts, sums, RULE), sums, RULE)
    for key, shown in protected.shown.items():
        low, high = RULE.possible(shown)
        assert low <= counts.get(key, 0) <= high  # consistent with the truth
    for relation in sums:
        members = [k for k in (relation.total, *relation.parts) if counts.get(k, 0)]
        hidden = [k for k in members if protected.shown[k] == SUPPRESSED]
        assert len(hidden) != 1  # never one suppressed cell alone in a sum
    report = audit(RULE, protected.shown, sums)
    assert report.passed, report.failures
    assert all(i.values >= 8 or math.isinf(i.values) for i in report.intervals)
