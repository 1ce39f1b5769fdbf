"""The opt-out list between the health partner and the hub: NHS numbers in, pseudonyms out.

The partner's side refuses bad numbers by line, never echoing them; the hub's side
refuses a file it cannot trust whole (not the format, a bad entry, another key), saying
where, never what.
"""

from __future__ import annotations

import json
import random

import pytest

from contracts.loading import shipped_contracts
from contracts.opt_out_list import (
    FORMAT,
    OptOutList,
    OptOutListRefused,
    check_key,
    read_opt_out_list,
)
from producers.identity import Pseudonymiser
from producers.opt_out import prepare_opt_outs
from producers.synthetic.nhs_numbers import synthetic_nhs_number, with_wrong_check_digit

KEY = Pseudonymiser(b"k" * 32, "key-1")
NUMBERS = [synthetic_nhs_number(random.Random(seed)) for seed in range(3)]


def test_prepare_pseudonymises_valid_numbers_and_refuses_the_rest_by_line() -> None:
    bad = with_wrong_check_digit(NUMBERS[0])
    lines = [NUMBERS[0], "", f" {NUMBERS[1]} ", bad, NUMBERS[2], NUMBERS[0], "12"]
    prepared = prepare_opt_outs(lines, KEY)
    assert prepared.opt_outs == OptOutList("key-1", frozenset(map(KEY.nhs_pseudonym, NUMBERS)))
    assert prepared.refused == ((4, "invalid_nhs_number"), (7, "invalid_nhs_number"))
    assert prepared.lines_read == 6
    text = prepared.opt_outs.to_json()
    assert not any(number in text for number in [*NUMBERS, bad])
    document = json.loads(text)
    assert document["format"] == FORMAT and document["key_id"] == "key-1"
    assert document["pseudonyms"] == sorted(document["pseudonyms"])


def test_a_prepared_file_reads_back_as_the_same_list() -> None:
    prepared = prepare_opt_outs(NUMBERS, KEY).opt_outs
    assert read_opt_out_list(prepared.to_json()) == prepared
    check_key(prepared, shipped_contracts()["leics-send-sharing-2026"])  # key-1: accepted


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("1234567890\n", ["not an opt-out list (expected format hub-opt-out-list/1)"]),
        ("{not json", ["not JSON (line 1)"]),
        (json.dumps({"format": FORMAT, "pseudonyms": []}), ["key_id is missing"]),
        (json.dumps({"format": FORMAT, "key_id": "key-1"}), ["pseudonyms is not a list"]),
        (
            json.dumps(
                {"format": FORMAT, "key_id": "key-1", "pseudonyms": ["a" * 64, "4010232137", 7]}
            ),
            [
                "pseudonyms[1] is not a pseudonym (64 lower-case hex digits)",
                "pseudonyms[2] is not a pseudonym (64 lower-case hex digits)",
            ],
        ),
    ],
)
def test_a_file_that_is_not_a_whole_list_of_pseudonyms_is_refused_by_place(
    text: str, problems: list[str]
) -> None:
    with pytest.raises(OptOutListRefused) as refused:
        read_opt_out_list(text)
    assert refused.value.problems == problems
    assert "4010232137" not in str(refused.value)


def test_a_list_made_with_another_key_is_refused_without_naming_that_key() -> None:
    other = OptOutList("key-from-elsewhere", frozenset({"a" * 64}))
    with pytest.raises(OptOutListRefused) as refused:
        check_key(other, shipped_contracts()["leics-send-sharing-2026"])
    assert refused.value.problems == [
        "made with a key other than the one leics-send-sharing-2026 names (key-1)"
    ]
