"""A refused NHS number or UPN is explained in words a partner can act on, never shown.

The refusal report is what a partner reads to fix its extract, so each check that
python-stdnum can fail has its own explanation. (The pseudonyms and ids themselves are
pinned by the known answers in test_golden_vectors.py.)
"""

from __future__ import annotations

import pytest

from producers.identity import InvalidIdentifier, valid_nhs_number, valid_upn


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "NHS number is missing"),
        ("12345", "NHS number is not valid (wrong length)"),
        ("99900000AB", "NHS number is not valid (wrong format)"),
        ("9434765918", "NHS number is not valid (check digit does not match)"),
    ],
)
def test_a_refused_nhs_number_is_explained_without_being_shown(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        valid_nhs_number(value)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("H80120000100", "UPN is not valid (wrong length)"),
        ("H8012000X1001", "UPN is not valid (wrong format)"),
        ("H000200001001", "UPN is not valid (invalid component)"),
        ("A801200001001", "UPN is not valid (check digit does not match)"),
    ],
)
def test_a_refused_upn_is_explained_without_being_shown(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        valid_upn(value)
    assert str(refused.value) == message
