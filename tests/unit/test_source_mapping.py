"""Partner extracts read through YAML column mappings: codes, identifiers, coarsening, refusals."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from stdnum.gb.upn import calc_check_digit as calc_upn_check_letter

from producers.ehc_plans import PublishContext
from producers.extract_reader import RowRefusal, iter_rows
from producers.identity import Pseudonymiser
from producers.mapped_extract import MappedExtract, mapped_extract
from producers.source_mapping import MappingInvalid, find_extract, load_mapping, shipped_mappings
from producers.synthetic.nhs_numbers import synthetic_nhs_number, with_wrong_check_digit
from schemas.catalogue import default_catalogue
from schemas.codec import decode, encode

CATALOGUE = default_catalogue()
PSEUDONYMISER = Pseudonymiser(b"k" * 32, "key-1")
CONTEXT = PublishContext(
    source_system="health",
    contract_id="leics-send-sharing-2026",
    area_code="E10000018",
    extract_id=uuid.UUID(int=7),
    recorded_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    today=dt.date(2026, 11, 1),
)
NHS = [synthetic_nhs_number(random.Random(seed)) for seed in range(5)]


def convert(converter: MappedExtract, csv_text: str) -> list[dict[str, Any] | RowRefusal]:
    _, rows = iter_rows(csv_text, converter.required_columns, converter.known_columns)
    return [
        row
        if isinstance(row, RowRefusal)
        else converter.record_or_refusal(row, CONTEXT, PSEUDONYMISER)
        for row in rows
    ]


def therapy_referrals() -> MappedExtract:
    return mapped_extract(find_extract("health", "therapy_referrals"), CATALOGUE)


def test_every_partner_event_type_has_a_shipped_extract_mapping() -> None:
    mapped = {
        extract.event_type
        for mapping in shipped_mappings().values()
        for extract in mapping.extracts.values()
    }
    # a withdrawal is a row of any extract (its `withdrawn` column), not an extract of its own
    partner_types = {s.name for s in CATALOGUE.schemas} - {
        "EhcPlanIssued",
        "ExtractPublished",
        "RecordWithdrawn",
    }
    assert partner_types <= mapped


def test_a_health_extract_becomes_valid_pseudonymised_events_with_codes_translated() -> None:
    text = (
        "Referral ID,NHS Number,Service,Referral Date,Referral Source\n"
        f"R1,{NHS[0]},SLT,2026-03-02,GP\n"
        f"R2,{NHS[1]},pt,02/04/2026,\n"
    )
    first, second = convert(therapy_referrals(), text)
    assert isinstance(first, dict) and isinstance(second, dict)
    assert (first["therapy_type"], second["therapy_type"]) == ("SALT", "PHYSIO")
    assert first["referral_source"] == "GP" and second["referral_source"] is None
    assert second["referral_date"] == dt.date(2026, 4, 2)
    assert first["subject"]["nhs_pseudonym"] == PSEUDONYMISER.nhs_pseudonym(NHS[0])
    schema = CATALOGUE.latest("TherapyReferralReceived")
    encoded = encode(schema, first)
    assert NHS[0].encode() not in encoded
    assert decode(CATALOGUE, encoded).record["therapy_type"] == "SALT"
    again = convert(therapy_referrals(), text)[0]
    assert isinstance(again, dict) and again["event_id"] == first["event_id"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (f"R1,{NHS[0]},XYZ,2026-03-02,GP", "unknown_code"),
        (f"R1,{NHS[0]},OT,2026-03-02,NEIGHBOUR", "unknown_code"),
        (f"R1,{with_wrong_check_digit(NHS[0])},OT,2026-03-02,GP", "invalid_nhs_number"),
        ("R1,,OT,2026-03-02,GP", "missing_identifier"),
        (f"R1,{NHS[0]},OT,,GP", "missing_referral_date"),
        (f"R1,{NHS[0]},OT,2026-13-40,GP", "invalid_date"),
        (f"R1,{NHS[0]},OT,2027-01-01,GP", "date_in_future"),
        (f",{NHS[0]},OT,2026-03-02,GP", "missing_reference"),
    ],
)
def test_a_bad_row_is_refused_with_a_reason_and_never_its_value(row: str, reason: str) -> None:
    text = "referral_id,nhs_number,service,referral_date,referral_source\n" + row + "\n"
    [refusal] = convert(therapy_referrals(), text)
    assert isinstance(refusal, RowRefusal)
    assert (refusal.line, refusal.reason) == (2, reason)
    assert NHS[0] not in refusal.message and "NEIGHBOUR" not in refusal.message


def test_month_of_birth_is_coarsened_at_source() -> None:
    converter = mapped_extract(find_extract("education", "person_details"), CATALOGUE)
    text = (
        "upn,nhs_number,recorded_date,date_of_birth,sex,ethnicity_group,lsoa_code\n"
        "A123456789012,,2026-01-10,2015-06-17,female,WHITE,E01025671\n"
    )
    [record] = convert(converter, text.replace("A123456789012", _upn()))
    assert isinstance(record, dict)
    assert record["month_of_birth"] == "2015-06"
    assert record["sex"] == "FEMALE"
    encoded = encode(CATALOGUE.latest("PersonDetailsRecorded"), record)
    assert b"2015-06-17" not in encoded


def _upn() -> str:
    """A synthetic UPN with a valid check letter (LA 855, establishment 2001, serial 001)."""
    body = "855200115001"
    return calc_upn_check_letter(body) + body


@pytest.mark.parametrize(
    ("extract", "problem"),
    [
        ({"event_type": "NoSuchEvent"}, "not in the schema catalogue"),
        ({"fields": {"shoe_size": {"column": "x"}}}, "shoe_size is not a field"),
        ({"fields": {"therapy_type": {"codes": {"X": "MAGIC"}}}}, "maps to unknown MAGIC"),
        ({"nhs_number": None}, "name an nhs_number or upn column"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_a_broken_mapping_is_refused_on_load_with_its_problem(
    tmp_path: Path, extract: dict[str, Any], problem: str
) -> None:
    base: dict[str, Any] = {
        "event_type": "TherapyReferralReceived",
        "reference": ["id"],
        "occurred_on": "referral_date",
        "nhs_number": "nhs_number",
    }
    path = tmp_path / "broken.yaml"
    path.write_text(
        yaml.safe_dump({"source_system": "health", "extracts": {"x": {**base, **extract}}})
    )
    with pytest.raises(MappingInvalid) as raised:
        load_mapping(path, CATALOGUE)
    assert problem in str(raised.value)
    assert "broken.yaml" in str(raised.value)


def test_an_unknown_extract_names_the_ones_that_exist() -> None:
    with pytest.raises(MappingInvalid, match="therapy_referrals"):
        find_extract("health", "therapy_referral")
    with pytest.raises(MappingInvalid, match="no mapping for source system"):
        find_extract("police", "anything")
