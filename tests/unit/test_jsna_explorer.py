"""What the JSNA explorer makes of a form: which table a choice of breakdowns reads, and a
rate's interval from the count as published (a symbol has none)."""

from __future__ import annotations

import datetime as dt

import pytest

from streams.disclosure import Shown, Status
from warehouse.web.jsna_explorer import choose, interval

DAY = dt.date(2026, 8, 31)


def test_no_breakdown_or_send_status_alone_is_the_totals_by_send_status() -> None:
    for asked in ((), ("",), ("send_status", None), ("send_status", "send_status")):
        choice = choose(DAY, *asked)
        assert (choice.dimension, choice.pair) == ("all", None), asked


def test_one_breakdown_with_or_without_send_status_is_the_one_way_jsna() -> None:
    assert choose(DAY, "age_band").dimension == "age_band"
    assert choose(DAY, "age_band", "send_status").breakdowns == ("send_status", "age_band")
    assert choose(DAY, "age_band", "send_status").pair is None


def test_two_other_breakdowns_are_a_cross_tab_in_the_order_it_is_protected() -> None:
    choice = choose(DAY, "sex", "primary_need")
    assert (choice.dimension, choice.pair) == (None, ("primary_need", "sex"))


def test_an_unknown_breakdown_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="no breakdown 'shoe_size': choose from send_status"):
        choose(DAY, "shoe_size")


def test_a_rate_has_an_interval_only_from_a_count_published_as_a_number() -> None:
    # 50 of 1,000: the 95% Wilson interval is 0.0381 to 0.0653 (Newcombe 1998, method 3)
    assert interval(Shown(50, Status.ROUNDED), 1000) == (38.13, 65.31)
    assert interval(Shown(None, Status.SUPPRESSED), 1000) is None
    assert interval(Shown(50, Status.ROUNDED), None) is None
    assert interval(Shown(50, Status.ROUNDED), 40) is None  # more people than population
