"""Reading an EHC plans extract: every refused row has its line number and a reason."""

import datetime as dt
import uuid

import pytest

from producers import ehc_plans
from producers.extract_reader import (
    ExtractRow,
    ExtractUnreadable,
    RowRefusal,
    decode_extract,
    iter_rows,
)
from producers.identity import Pseudonymiser
from producers.synthetic.ehc_plans import generate

PSEUDONYMISER = Pseudonymiser(b"k" * 32, "key-1")
CONTEXT = ehc_plans.PublishContext(
    source_system="education",
    contract_id="contract-1",
    area_code="E10000018",
    extract_id=uuid.uuid4(),
    recorded_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    today=dt.date(2026, 11, 1),
)
HEADER = "plan_reference,nhs_number,request_date,issue_date,permitted_exception,primary_need\n"


def outcomes(text: str) -> list[dict[str, object] | RowRefusal]:
    _, rows = iter_rows(text, ehc_plans.REQUIRED_COLUMNS, ehc_plans.KNOWN_COLUMNS)
    return [
        row
        if isinstance(row, RowRefusal)
        else ehc_plans.record_or_refusal(row, CONTEXT, PSEUDONYMISER)
        for row in rows
    ]


def refusals(text: str) -> list[tuple[int, str]]:
    return [(o.line, o.reason) for o in outcomes(text) if isinstance(o, RowRefusal)]


def test_a_good_row_becomes_a_pseudonymised_record() -> None:
    [record] = outcomes(HEADER + "P1,9990000018,2025-01-06,2025-05-01,N,asd\n")
    assert isinstance(record, dict)
    assert record["subject"]["nhs_pseudonym"] == PSEUDONYMISER.nhs_pseudonym("9990000018")
    assert "9990000018" not in repr(record)
    assert record["request_date"] == dt.date(2025, 1, 6)
    assert record["permitted_exception"] is False
    assert record["primary_need"] == "ASD"
    assert record["extract_id"] == str(CONTEXT.extract_id)


def test_uk_dates_and_exception_flags_are_understood() -> None:
    [record] = outcomes(HEADER + "P1,9990000018,06/01/2025,01/05/2025,Y,\n")
    assert isinstance(record, dict)
    assert record["issue_date"] == dt.date(2025, 5, 1)
    assert record["permitted_exception"] is True
    assert record["primary_need"] is None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("P1,9990000019,2025-01-06,2025-05-01,N,ASD", "invalid_nhs_number"),
        ("P1,,2025-01-06,2025-05-01,N,ASD", "missing_nhs_number"),
        ("P1,9990000018,,2025-05-01,N,ASD", "missing_request_date"),
        ("P1,9990000018,2025-01-06,,N,ASD", "missing_issue_date"),
        ("P1,9990000018,2025-13-06,2025-05-01,N,ASD", "invalid_date"),
        ("P1,9990000018,2025-06-01,2025-05-01,N,ASD", "issue_before_request"),
        ("P1,9990000018,2025-06-01,2027-05-01,N,ASD", "issue_in_future"),
        ("P1,9990000018,2025-01-06,2025-05-01,maybe,ASD", "invalid_permitted_exception"),
        ("P1,9990000018,2025-01-06,2025-05-01,N,XYZ", "invalid_primary_need"),
        (",9990000018,2025-01-06,2025-05-01,N,ASD", "missing_plan_reference"),
        ("P1,9990000018,2025-01-06", "unparseable_line"),
        ('P1,9990000018,"2025-01-06,2025-05-01,N,ASD', "unparseable_line"),
    ],
)
def test_each_fault_is_refused_with_its_line_and_reason(row: str, reason: str) -> None:
    text = HEADER + "P0,9990000026,2025-01-06,2025-05-01,N,ASD\n" + row + "\n"
    assert refusals(text) == [(3, reason)]


def test_refusal_messages_never_contain_the_identifier() -> None:
    for outcome in outcomes(HEADER + "P1,9990000019,2025-01-06,2025-05-01,N,ASD\n"):
        assert isinstance(outcome, RowRefusal)
        assert "9990000019" not in outcome.message


def test_line_numbers_count_quoted_multi_line_fields() -> None:
    text = (
        HEADER
        + 'P1,9990000018,2025-01-06,2025-05-01,N,"AS\nD"\nP2,123,2025-01-06,2025-05-01,N,ASD\n'
    )
    assert refusals(text) == [(2, "invalid_primary_need"), (4, "invalid_nhs_number")]


def test_undecodable_bytes_and_oversized_fields_are_refused_per_row() -> None:
    data = (HEADER + "P1,9990000018,2025-01-06,2025-05-01,N,ASD\n").encode() + (
        b"P2,9990000026,2025-01-06,2025-05-01,N,\xff\xfe\n"
        + b"P3,9990000026,2025-01-06,2025-05-01,N,"
        + b"A" * 5000
        + b"\n"
    )
    assert refusals(decode_extract(data)) == [(3, "invalid_encoding"), (4, "oversized_field")]


def test_a_byte_order_mark_and_spaced_header_are_accepted() -> None:
    data = ("\ufeffPlan Reference,NHS Number,Request Date,Issue Date\n").encode() + (
        b"P1,9990000018,2025-01-06,2025-05-01\n"
    )
    [record] = outcomes(decode_extract(data))
    assert isinstance(record, dict)


def test_missing_required_columns_make_the_extract_unusable() -> None:
    with pytest.raises(ExtractUnreadable, match="issue_date"):
        iter_rows("plan_reference,nhs_number,request_date\n", ehc_plans.REQUIRED_COLUMNS, ())
    with pytest.raises(ExtractUnreadable, match="empty"):
        iter_rows("", ehc_plans.REQUIRED_COLUMNS, ())


def test_unknown_columns_are_reported() -> None:
    header, _ = iter_rows(
        "plan_reference,nhs_number,request_date,issue_date,shoe_size\n",
        ehc_plans.REQUIRED_COLUMNS,
        ehc_plans.KNOWN_COLUMNS,
    )
    assert header.unknown_columns == ("shoe_size",)


def test_the_same_reference_gives_the_same_event_id() -> None:
    text = HEADER + "P1,9990000018,2025-01-06,2025-05-01,N,ASD\n"
    first, second = outcomes(text)[0], outcomes(text)[0]
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["event_id"] == second["event_id"]


def test_the_synthetic_extract_refuses_exactly_its_injected_faults() -> None:
    extract = generate(200, seed=11, faults=6)
    outcome = outcomes(extract.csv_text)
    assert sorted(refusals(extract.csv_text)) == sorted(extract.truth.refused_lines)
    assert sum(isinstance(o, dict) for o in outcome) == 200


def test_extract_row_values_are_trimmed() -> None:
    _, rows = iter_rows(
        HEADER + " P1 , 9990000018 ,2025-01-06,2025-05-01,N,ASD\n", ehc_plans.REQUIRED_COLUMNS, ()
    )
    [row] = list(rows)
    assert isinstance(row, ExtractRow)
    assert row.values["plan_reference"] == "P1"


@pytest.mark.parametrize("value", ["20250106", "2025-W02-1", "2025-1-6", "6.1.2025", "31/02/2025"])
def test_only_the_two_documented_date_formats_are_accepted(value: str) -> None:
    from producers.ehc_plans import RowInvalid, parse_date

    with pytest.raises(RowInvalid) as refused:
        parse_date(value, "issue_date")
    assert refused.value.reason == "invalid_date"
    assert value not in str(refused.value)
