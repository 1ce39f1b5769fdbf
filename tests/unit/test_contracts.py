"""Data-sharing contracts: validated on load, checked against the catalogue, one pure decision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.decisions import Candidate, Reason, decide
from contracts.loading import (
    CONTRACT_DIR,
    ContractInvalid,
    cross_check,
    load_checked,
    load_contract,
    shipped_contracts,
)
from contracts.models import Contract
from schemas.catalogue import default_catalogue

CATALOGUE = default_catalogue()
SHIPPED = CONTRACT_DIR / "leicestershire-send-2026.yaml"


def contract_data() -> dict[str, Any]:
    data = yaml.safe_load(SHIPPED.read_text())
    assert isinstance(data, dict)
    return data


def candidate(**changes: Any) -> Candidate:
    base: dict[str, Any] = {
        "event_type": "TherapyReferralReceived",
        "source_system": "health",
        "contract_id": "leics-send-sharing-2026",
        "area_code": "E10000018",
        "key_id": "key-1",
        "recorded_on": dt.date(2026, 11, 2),
        "pseudonyms": frozenset({"p-1"}),
        "fields": frozenset({"therapy_type", "referral_date"}),
    }
    return Candidate(**{**base, **changes})


def test_the_shipped_contract_loads_and_matches_the_catalogue() -> None:
    contracts = shipped_contracts()
    contract = contracts["leics-send-sharing-2026"]
    assert cross_check(contract, CATALOGUE) == []
    assert contract.lawful_basis.article_6.value == "6(1)(e) public task"
    assert contract.disclosure_control.suppress_below == 5
    published = {t for p in contract.permissions for t in p.event_types}
    partner_types = {s.name for s in CATALOGUE.schemas} - {"ExtractPublished"}
    assert published == partner_types  # every event type has exactly the party that owns it


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"valid_to": "2025-01-01"}, "valid_to is before valid_from"),
        (
            {
                "lawful_basis": {
                    "article_6": "6(1)(a) consent",
                    "article_9": ["9(2)(h) health or social care"],
                }
            },
            "lawful_basis.article_6",
        ),
        ({"area_code": "Leicestershire"}, "area_code"),
        ({"retention": {"years": 0, "rule": "x"}}, "retention.years"),
        ({"purposes": []}, "purposes"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_an_invalid_contract_is_refused_on_load_saying_where(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump({**contract_data(), **change}, default_flow_style=False))
    with pytest.raises(ContractInvalid) as refused:
        load_contract(path)
    assert message in str(refused.value) and "broken.yaml" in str(refused.value)


def test_permissions_naming_unknown_parties_types_or_fields_are_refused(tmp_path: Path) -> None:
    data = contract_data()
    data["permissions"] = [
        {"party": "police", "event_types": {"EhcPlanIssued": "*"}},
    ]
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ContractInvalid, match="unknown party 'police'"):
        load_contract(path)
    data["permissions"] = [
        {"party": "health", "event_types": {"TherapyRefferal": "*", "SendFlagSet": ["shoe_size"]}}
    ]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ContractInvalid) as refused:
        load_checked(path, CATALOGUE)
    assert "unknown event type TherapyRefferal" in str(refused.value)
    assert "SendFlagSet has no field shoe_size" in str(refused.value)


def test_an_event_within_the_contract_is_accepted_with_the_version_it_was_decided_under() -> None:
    decision = decide(candidate(), shipped_contracts(), CATALOGUE)
    assert decision.accepted
    assert (decision.contract_id, decision.contract_version) == ("leics-send-sharing-2026", 1)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"event_type": "NoSuchEvent"}, Reason.SCHEMA_UNKNOWN),
        ({"contract_id": "someone-elses"}, Reason.UNKNOWN_CONTRACT),
        ({"recorded_on": dt.date(2025, 12, 31)}, Reason.CONTRACT_NOT_IN_FORCE),
        ({"recorded_on": dt.date(2029, 1, 1)}, Reason.CONTRACT_NOT_IN_FORCE),
        ({"area_code": "E06000016"}, Reason.WRONG_AREA),
        ({"source_system": "police"}, Reason.UNKNOWN_PARTY),
        ({"event_type": "EhcPlanIssued"}, Reason.TYPE_NOT_ALLOWED),
        ({"key_id": "key-0"}, Reason.WRONG_KEY),
    ],
)
def test_each_rule_refuses_with_its_reason(changes: dict[str, Any], reason: Reason) -> None:
    decision = decide(candidate(**changes), shipped_contracts(), CATALOGUE)
    assert decision.reason is reason
    assert "p-1" not in decision.detail


def test_a_field_outside_the_permission_is_refused_by_name() -> None:
    urn = candidate(
        source_system="education",
        event_type="ExclusionRecorded",
        fields=frozenset({"exclusion_kind", "start_date", "school_urn"}),
    )
    decision = decide(urn, shipped_contracts(), CATALOGUE)
    assert decision.reason is Reason.FIELD_NOT_ALLOWED
    assert decision.detail.endswith("school_urn")


def test_the_national_opt_out_refuses_health_events_only() -> None:
    opted_out = frozenset({"p-1"})
    health = decide(candidate(), shipped_contracts(), CATALOGUE, opted_out)
    assert health.reason is Reason.SUBJECT_OPTED_OUT
    council = candidate(
        source_system="education", event_type="SenSupportRecorded", fields=frozenset()
    )
    assert decide(council, shipped_contracts(), CATALOGUE, opted_out).accepted


def test_a_contract_change_decides_new_events_and_leaves_earlier_decisions_alone() -> None:
    original = shipped_contracts()
    earlier = decide(candidate(), original, CATALOGUE)
    data = contract_data()
    data["version"] = 2
    data["permissions"] = [p for p in data["permissions"] if p["party"] != "health"]
    data["opt_out"]["sources"] = []
    revised = {"leics-send-sharing-2026": Contract.model_validate(data)}
    later = decide(candidate(), revised, CATALOGUE)
    assert later.reason is Reason.UNKNOWN_PARTY and later.contract_version == 2
    assert earlier.accepted and earlier.contract_version == 1  # a decision is never re-taken


def test_a_candidate_is_read_from_an_avro_record() -> None:
    record = {
        "event_type": "SendFlagSet",
        "source_system": "health",
        "contract_id": "leics-send-sharing-2026",
        "area_code": "E10000018",
        "recorded_at": dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC),
        "extract_id": None,
        "subject": {"nhs_pseudonym": "n", "upn_pseudonym": None, "key_id": "key-1"},
        "flag_date": dt.date(2026, 2, 27),
        "flagging_service": None,
    }
    read = Candidate.from_record(record)
    assert read.fields == frozenset({"flag_date"})
    assert read.pseudonyms == frozenset({"n"}) and read.recorded_on == dt.date(2026, 3, 1)
