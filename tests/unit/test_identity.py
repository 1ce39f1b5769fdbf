"""NHS number and UPN checks, and keyed pseudonyms."""

import random

import pytest

from producers.identity import InvalidIdentifier, Pseudonymiser, valid_nhs_number, valid_upn
from producers.synthetic.nhs_numbers import (
    check_digit,
    synthetic_nhs_number,
    with_wrong_check_digit,
)

KEY = b"k" * 32


def test_synthetic_nhs_numbers_are_valid_and_in_the_test_range() -> None:
    rng = random.Random(1)
    for _ in range(500):
        number = synthetic_nhs_number(rng)
        assert number.startswith("999")
        assert valid_nhs_number(number) == number


def test_spaces_are_allowed_in_an_nhs_number() -> None:
    number = synthetic_nhs_number(random.Random(2))
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    assert valid_nhs_number(spaced) == number


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "missing_nhs_number"),
        ("12345", "invalid_nhs_number"),
        ("99900000AB", "invalid_nhs_number"),
    ],
)
def test_bad_nhs_numbers_are_refused_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        valid_nhs_number(value)
    assert refused.value.reason == reason


def test_a_wrong_check_digit_is_refused_without_echoing_the_number() -> None:
    bad = with_wrong_check_digit(synthetic_nhs_number(random.Random(3)))
    with pytest.raises(InvalidIdentifier) as refused:
        valid_nhs_number(bad)
    assert refused.value.reason == "invalid_nhs_number"
    assert "check digit" in str(refused.value)
    assert bad not in str(refused.value)


def test_check_digit_follows_the_mod_11_rule() -> None:
    # 943 476 591 -> weights 10..2 give 299; 11 - 299 % 11 = 9 (the NHS's published example)
    assert check_digit("943476591") == 9


def test_upn_check_letter() -> None:
    assert valid_upn("H801200001001") == "H801200001001"
    with pytest.raises(InvalidIdentifier) as refused:
        valid_upn("A801200001001")
    assert refused.value.reason == "invalid_upn"


def test_pseudonyms_are_keyed_stable_and_domain_separated() -> None:
    one, other = Pseudonymiser(KEY, "k1"), Pseudonymiser(b"o" * 32, "k2")
    assert one.nhs_pseudonym("9990000018") == one.nhs_pseudonym("9990000018")
    assert one.nhs_pseudonym("9990000018") != other.nhs_pseudonym("9990000018")
    assert one.nhs_pseudonym("9990000018") != one.upn_pseudonym("9990000018")
    assert "9990000018" not in one.nhs_pseudonym("9990000018")


def test_event_ids_are_stable_per_record() -> None:
    pseudonymiser = Pseudonymiser(KEY, "k1")
    assert pseudonymiser.event_id("c", "education", "R1") == pseudonymiser.event_id(
        "c", "education", "R1"
    )
    assert pseudonymiser.event_id("c", "education", "R1") != pseudonymiser.event_id(
        "c", "education", "R2"
    )


def test_a_short_key_is_refused_and_never_shown() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Pseudonymiser(b"short", "k1")
    assert "k" * 32 not in repr(Pseudonymiser(KEY, "k1"))
