"""NHS numbers for synthetic data, from the 999 000 0000 - 999 999 9999 range kept for testing.

Each has a valid mod-11 check digit, so it passes the same checks as a real one.
"""

from __future__ import annotations

import random

TEST_RANGE_PREFIX = "999"
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(first_nine: str) -> int | None:
    """The mod-11 check digit, or None when the nine digits have no valid one (remainder 10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    return None if digit == 10 else digit


def synthetic_nhs_number(rng: random.Random) -> str:
    while True:
        first_nine = TEST_RANGE_PREFIX + f"{rng.randrange(1_000_000):06d}"
        digit = check_digit(first_nine)
        if digit is not None:
            return f"{first_nine}{digit}"


def with_wrong_check_digit(number: str) -> str:
    """The same number with a check digit that fails mod-11 (for fault injection)."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)
