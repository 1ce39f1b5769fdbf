"""Data-sharing contracts: validated on load, checked against the catalogue, one pure decision."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from contracts.decisions import Area, Candidate, Reason, decide, uk_date
from contracts.loading import (
    CONTRACT_DIR,
    ContractInvalid,
    cross_check,
    default_contract_path,
    load_checked,
    load_contract,
    load_contracts,
    shipped_contracts,
)
from contracts.models import Contract
from hub.cli import app
from schemas.catalogue import default_catalogue
from schemas.envelope import Event

CATALOGUE = default_catalogue()
RECEIVED = dt.date(2026, 11, 2)  # a day the shipped contract (2026-01-01 to 2028-12-31) is in force
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
        "pseudonyms": frozenset({"p-1"}),
        "fields": frozenset({"therapy_type", "referral_date"}),
    }
    return Candidate(**{**base, **changes})


def test_the_shipped_contract_loads_and_matches_the_catalogue() -> None:
    contracts = shipped_contracts()
    contract = contracts["leics-send-sharing-2026"]
    assert cross_check(contract, CATALOGUE) == []
    assert contract.lawful_basis.article_6.value == "6(1)(e) public task"
    # England's health and care statistics rule: 1 to 7 suppressed, the rest rounded to 5
    rule = contract.disclosure_control
    assert (rule.suppress_below, rule.round_to, rule.secondary_suppression) == (8, 5, True)
    published = {t for p in contract.permissions for t in p.event_types}
    partner_types = {s.name for s in CATALOGUE.schemas} - {"ExtractPublished"}
    assert published == partner_types  # every event type has a party that owns it
    # and every party that publishes may withdraw what it sent
    assert all("RecordWithdrawn" in p.event_types for p in contract.permissions)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"valid_to": "2025-01-01"}, "is before valid_from"),
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
    decision = decide(candidate(), shipped_contracts(), CATALOGUE, received_on=RECEIVED)
    assert decision.accepted
    assert (decision.contract_id, decision.contract_version) == ("leics-send-sharing-2026", 3)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"event_type": "NoSuchEvent"}, Reason.SCHEMA_UNKNOWN),
        ({"contract_id": "someone-elses"}, Reason.UNKNOWN_CONTRACT),
        ({"area_code": "E06000016"}, Reason.WRONG_AREA),
        ({"source_system": "police"}, Reason.UNKNOWN_PARTY),
        ({"event_type": "EhcPlanIssued"}, Reason.TYPE_NOT_ALLOWED),
        ({"key_id": "key-0"}, Reason.WRONG_KEY),
    ],
)
def test_each_rule_refuses_with_its_reason(changes: dict[str, Any], reason: Reason) -> None:
    decision = decide(candidate(**changes), shipped_contracts(), CATALOGUE, received_on=RECEIVED)
    assert decision.reason is reason
    assert "p-1" not in decision.detail


def test_a_field_outside_the_permission_is_refused_by_name() -> None:
    urn = candidate(
        source_system="education",
        event_type="ExclusionRecorded",
        fields=frozenset({"exclusion_kind", "start_date", "school_urn"}),
    )
    decision = decide(urn, shipped_contracts(), CATALOGUE, received_on=RECEIVED)
    assert decision.reason is Reason.FIELD_NOT_ALLOWED
    assert decision.detail.endswith("school_urn")


def test_the_national_opt_out_refuses_health_events_only() -> None:
    opted_out = frozenset({"p-1"})
    health = decide(candidate(), shipped_contracts(), CATALOGUE, opted_out, received_on=RECEIVED)
    assert health.reason is Reason.SUBJECT_OPTED_OUT
    council = candidate(
        source_system="education", event_type="SenSupportRecorded", fields=frozenset()
    )
    assert decide(council, shipped_contracts(), CATALOGUE, opted_out, received_on=RECEIVED).accepted


def test_a_contract_change_decides_new_events_and_leaves_earlier_decisions_alone() -> None:
    original = shipped_contracts()
    earlier = decide(candidate(), original, CATALOGUE, received_on=RECEIVED)
    data = contract_data()
    data["version"] = 4
    data["permissions"] = [p for p in data["permissions"] if p["party"] != "health"]
    data["opt_out"] = {**data["opt_out"], "applies": False, "sources": []}
    revised = {"leics-send-sharing-2026": Contract.model_validate(data)}
    later = decide(candidate(), revised, CATALOGUE, received_on=RECEIVED)
    assert later.reason is Reason.UNKNOWN_PARTY and later.contract_version == 4
    assert earlier.accepted and earlier.contract_version == 3  # a decision is never re-taken


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
    assert read.pseudonyms == frozenset({"n"}) and read.key_id == "key-1"


# --- where a problem is, and what a message must never quote ---------------------------


def load_text(tmp_path: Path, text: str) -> ContractInvalid:
    path = tmp_path / "draft.yaml"
    path.write_text(text)
    with pytest.raises(ContractInvalid) as refused:
        load_contract(path)
    return refused.value


def shipped_with(old: str, new: str) -> str:
    text = default_contract_path().read_text()
    assert old in text
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    """The line number of the last line holding `fragment`."""
    return [n for n, line in enumerate(text.splitlines(), 1) if fragment in line][-1]


def test_the_default_contract_path_is_the_shipped_example() -> None:
    assert default_contract_path() == SHIPPED
    assert load_checked(default_contract_path()).contract_id == "leics-send-sharing-2026"


def test_each_problem_is_listed_with_its_place_and_line(tmp_path: Path) -> None:
    text = shipped_with("  - party_id: voice\n", "  - party_id: health\n")
    text = text.replace("valid_to: 2028-12-31", "valid_to: 2025-12-31")
    refused = load_text(tmp_path, text)
    assert refused.source == "draft.yaml"
    assert refused.problems == [
        f"valid_to (line {line_of(text, 'valid_to:')}): is before valid_from",
        f"parties[3].party_id (line {line_of(text, 'party_id: health')}): "
        "this party is listed twice",
        f"permissions[3].party (line {line_of(text, 'party: voice')}): unknown party 'voice'",
    ]


def test_a_repeated_key_is_refused_because_yaml_would_keep_only_the_last(tmp_path: Path) -> None:
    text = shipped_with(
        '      SocialCareCaseClosed: "*"\n',
        '      SocialCareCaseClosed: "*"\n      SocialCareCaseOpened: [case_reason]\n',
    )
    refused = load_text(tmp_path, text)
    line = line_of(text, "SocialCareCaseOpened: [case_reason]")
    assert refused.problems == [
        f"permissions[2].event_types.SocialCareCaseOpened (line {line}): key appears twice"
    ]


@pytest.mark.parametrize(
    ("old", "new", "where", "at", "message"),
    [
        (
            "  - party: voice\n",
            '  - party: hub\n    event_types: {EhcPlanIssued: "*"}\n  - party: voice\n',
            "permissions[3].party",
            "party: hub",
            "'hub' does not have the publisher role",
        ),
        (
            "  - party: voice\n",
            '  - party: health\n    event_types: {EhcPlanIssued: "*"}\n  - party: voice\n',
            "permissions[3].party",
            "party: health",
            "a second permission for 'health'",
        ),
        (
            '      SocialCareCaseClosed: "*"',
            "      SocialCareCaseClosed: all",
            "permissions[2].event_types.SocialCareCaseClosed",
            "SocialCareCaseClosed: all",
            'must be "*" (every field) or a list of field names',
        ),
        (
            "  sources: [health]",
            "  sources: []",
            "opt_out.sources",
            "sources: []",
            "the opt-out applies but names no party",
        ),
        (
            "  sources: [health]",
            "  sources: [police]",
            "opt_out.sources[0]",
            "sources: [police]",
            "unknown party 'police'",
        ),
        ("version: 3", "version: 3\nshoe_size: 9", "shoe_size", "shoe_size", "Extra inputs"),
        ("  years: 8\n", "", "retention.years", "retention:", "Field required"),
        ("  article_9:\n", "  article_9: []\n  x:\n", "lawful_basis.article_9", "[]", "at least 1"),
    ],
)
def test_each_kind_of_mistake_is_named_where_it_is(
    tmp_path: Path, old: str, new: str, where: str, at: str, message: str
) -> None:
    text = shipped_with(old, new)
    problems = load_text(tmp_path, text).problems
    expected = f"{where} (line {line_of(text, at)}): "
    assert any(p.startswith(expected) and message in p for p in problems), problems


def test_a_publisher_needs_the_publisher_role_but_a_recipient_needs_no_permission(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(shipped_with("roles: [processor, recipient]", "roles: [processor]"))
    assert load_checked(path, CATALOGUE).parties[-1].roles == ("processor",)


def test_a_party_missing_a_field_is_one_problem_at_that_party(tmp_path: Path) -> None:
    text = shipped_with("    name: Parent carer forum surveys\n", "")
    assert load_text(tmp_path, text).problems == [
        f"parties[3].name (line {line_of(text, 'party_id: voice')}): Field required"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "contract_id: leics\n  area_code: 9434765919\n",  # bad indentation
        "- 9434765919\n- E10000018\n",  # a list, not a contract
        "",
    ],
)
def test_a_file_that_is_not_a_contract_says_so_without_quoting_it(
    tmp_path: Path, text: str
) -> None:
    message = str(load_text(tmp_path, text))
    assert message.startswith("draft.yaml: ")
    assert "9434765919" not in message


def test_values_in_a_broken_contract_are_never_quoted(tmp_path: Path) -> None:
    nhs_number = "9434765919"
    text = shipped_with("area_code: E10000018", f"area_code: {nhs_number}")
    text = text.replace("valid_from: 2026-01-01", f"valid_from: {nhs_number}")
    text = text.replace("version: 3", f"version: '{nhs_number}x'")
    refused = load_text(tmp_path, text)
    assert len(refused.problems) == 3
    assert nhs_number not in str(refused)


def test_a_directory_of_contracts_is_keyed_by_id_and_refuses_two_with_one_id(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(SHIPPED.read_text())
    other = shipped_with("contract_id: leics-send-sharing-2026", "contract_id: rutland-send-2026")
    (tmp_path / "b.yaml").write_text(other)
    (tmp_path / "notes.txt").write_text("not a contract")
    assert set(load_contracts(tmp_path, CATALOGUE)) == {
        "leics-send-sharing-2026",
        "rutland-send-2026",
    }
    (tmp_path / "c.yaml").write_text(SHIPPED.read_text())
    (tmp_path / "d.yaml").write_text("version: [")
    with pytest.raises(ContractInvalid) as refused:
        load_contracts(tmp_path, CATALOGUE)
    assert refused.value.problems[0] == (
        "c.yaml: contract_id leics-send-sharing-2026 is already used by a.yaml"
    )
    assert refused.value.problems[1].startswith("d.yaml: not valid YAML at line 1")


# --- the decision ---------------------------------------------------------------------


def test_in_force_is_judged_on_the_uk_calendar_day_of_receipt() -> None:
    april = {
        "leics-send-sharing-2026": shipped_contracts()["leics-send-sharing-2026"].model_copy(
            update={"valid_from": dt.date(2026, 4, 1)}
        )
    }
    record = {
        "event_type": "SendFlagSet",
        "source_system": "health",
        "contract_id": "leics-send-sharing-2026",
        "area_code": "E10000018",
        "subject": {"nhs_pseudonym": "n", "upn_pseudonym": None, "key_id": "key-1"},
        "flag_date": dt.date(2026, 3, 31),
    }
    half_past_midnight_bst = dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC)
    read = Candidate.from_record({**record, "recorded_at": half_past_midnight_bst})
    on_time = uk_date(half_past_midnight_bst)
    early = uk_date(half_past_midnight_bst - dt.timedelta(hours=1))
    assert decide(read, april, CATALOGUE, received_on=on_time).accepted
    refused = decide(read, april, CATALOGUE, received_on=early)
    assert refused.reason is Reason.CONTRACT_NOT_IN_FORCE
    assert uk_date("2026-03-31T23:30:00+00:00") == dt.date(2026, 4, 1)
    assert uk_date(dt.datetime(2026, 1, 5, 23, 30)) == dt.date(2026, 1, 5)  # naive is UTC


def plan_issued(occurred: dt.date, recorded: dt.date) -> Candidate:
    """An education partner's EhcPlanIssued as the gatekeeper reads it from the record."""
    return Candidate.from_record(
        {
            "event_type": "EhcPlanIssued",
            "source_system": "education",
            "contract_id": "leics-send-sharing-2026",
            "area_code": "E10000018",
            "occurred_at": dt.datetime.combine(occurred, dt.time(9), dt.UTC),
            "recorded_at": dt.datetime.combine(recorded, dt.time(9), dt.UTC),
            "subject": {"nhs_pseudonym": None, "upn_pseudonym": "u", "key_id": "key-1"},
        }
    )


def test_a_back_dated_recording_received_while_the_contract_is_in_force_is_accepted() -> None:
    # recorded_at months before valid_from (2026-01-01): the sharing is the receipt
    back_dated = plan_issued(occurred=dt.date(2025, 6, 1), recorded=dt.date(2025, 6, 2))
    decision = decide(back_dated, shipped_contracts(), CATALOGUE, received_on=RECEIVED)
    assert decision.accepted


@pytest.mark.parametrize(
    "recorded", [dt.date(2025, 6, 2), dt.date(2027, 6, 1), dt.date(2028, 12, 31)]
)
def test_an_event_received_after_the_contract_ended_is_refused_whatever_its_recording(
    recorded: dt.date,
) -> None:
    late = plan_issued(occurred=dt.date(2025, 6, 1), recorded=recorded)
    decision = decide(late, shipped_contracts(), CATALOGUE, received_on=dt.date(2029, 1, 1))
    assert decision.reason is Reason.CONTRACT_NOT_IN_FORCE
    assert decision.detail.endswith("received 2029-01-01")


def test_a_historical_backfill_sent_while_the_contract_is_in_force_is_accepted() -> None:
    # a plan issued and recorded in 2019, sent to the hub under the 2026 contract
    backfill = plan_issued(occurred=dt.date(2019, 5, 1), recorded=dt.date(2019, 5, 1))
    contracts = shipped_contracts()
    assert decide(backfill, contracts, CATALOGUE, received_on=dt.date(2026, 1, 1)).accepted
    assert decide(backfill, contracts, CATALOGUE, received_on=dt.date(2028, 12, 31)).accepted


def test_a_decoded_event_is_decided_like_its_record() -> None:
    event = Event(
        event_id=uuid.uuid4(),
        event_type="ExclusionRecorded",
        schema_version=1,
        schema_fingerprint="00",
        occurred_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        recorded_at=dt.datetime(2026, 6, 2, tzinfo=dt.UTC),
        source_system="education",
        contract_id="leics-send-sharing-2026",
        area_code="E10000018",
        extract_id=None,
        nhs_pseudonym=None,
        upn_pseudonym="u-1",
        payload={"exclusion_kind": "fixed", "school_urn": "123456", "sessions": None},
    )
    read = Candidate.from_event(event)
    assert read.fields == frozenset({"exclusion_kind", "school_urn"})
    assert read.pseudonyms == frozenset({"u-1"}) and read.key_id is None
    decision = decide(read, shipped_contracts(), CATALOGUE, received_on=RECEIVED)
    assert decision.reason is Reason.FIELD_NOT_ALLOWED


@pytest.mark.parametrize("field", ["source_system", "contract_id", "event_type", "key_id"])
def test_a_detail_describes_rather_than_quotes_what_might_be_an_identifier(field: str) -> None:
    nhs_number = "9434765919"
    decision = decide(
        candidate(**{field: nhs_number}), shipped_contracts(), CATALOGUE, received_on=RECEIVED
    )
    assert not decision.accepted
    assert nhs_number not in decision.detail and "not a name" in decision.detail


def test_every_reason_but_acceptance_is_produced_by_some_event() -> None:
    contracts = shipped_contracts()
    produced = {
        decide(
            candidate(**changes), contracts, CATALOGUE, frozenset({"p-1"}), received_on=day
        ).reason
        for changes, day in [
            ({"event_type": "NoSuchEvent"}, RECEIVED),
            ({"contract_id": "someone-elses"}, RECEIVED),
            ({}, dt.date(2030, 1, 1)),
            ({"area_code": "E06000016"}, RECEIVED),
            ({"source_system": "police"}, RECEIVED),
            ({"event_type": "EhcPlanIssued"}, RECEIVED),
            ({"source_system": "voice", "event_type": "SurveyResponseReceived"}, RECEIVED),
            ({"key_id": "key-0"}, RECEIVED),
            ({}, RECEIVED),
        ]
    }
    area = Area("leics-send-sharing-2026", "E10000018")
    produced |= {
        decide(
            candidate(), contracts, CATALOGUE, received_on=RECEIVED, topic_party="education"
        ).reason,
        decide(
            candidate(contract_id="x"), contracts, CATALOGUE, received_on=RECEIVED, area=area
        ).reason,
    }
    assert produced == set(Reason) - {Reason.ACCEPTED}


pseudonyms = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
changes = st.fixed_dictionaries(
    {},
    optional={
        "event_type": st.sampled_from(
            ["TherapyReferralReceived", "EhcPlanIssued", "SendFlagSet", "Nope"]
        ),
        "source_system": st.sampled_from(["health", "education", "voice", "police"]),
        "contract_id": st.sampled_from(["leics-send-sharing-2026", "other"]),
        "area_code": st.sampled_from(["E10000018", "E06000016"]),
        "key_id": st.sampled_from(["key-1", "key-2", None]),
        "fields": st.frozensets(
            st.sampled_from(["therapy_type", "referral_date", "flag_date", "school_urn"])
        ),
    },
)


@given(
    changes=changes,
    subject=pseudonyms,
    opted_out=st.booleans(),
    received=st.dates(dt.date(2025, 6, 1), dt.date(2029, 6, 1)),
)
def test_the_decision_is_pure_and_never_names_the_subject(
    changes: dict[str, Any], subject: str, opted_out: bool, received: dt.date
) -> None:
    event = candidate(**changes, pseudonyms=frozenset({subject}))
    opt_outs = frozenset({subject}) if opted_out else frozenset()
    first = decide(event, shipped_contracts(), CATALOGUE, opt_outs, received_on=received)
    assert decide(event, shipped_contracts(), CATALOGUE, opt_outs, received_on=received) == first
    assert subject not in first.detail and subject[:10] not in first.detail
    assert first.accepted == (first.reason is Reason.ACCEPTED)
    if first.reason is not Reason.SCHEMA_UNKNOWN and first.reason is not Reason.UNKNOWN_CONTRACT:
        assert first.contract_version == 3


# --- the command line -----------------------------------------------------------------

runner = CliRunner()


def test_contracts_check_passes_the_shipped_contracts_and_shows_them() -> None:
    checked = runner.invoke(app, ["contracts", "check"])
    assert checked.exit_code == 0, checked.output
    assert "leics-send-sharing-2026 v3 is valid" in checked.output
    shown = runner.invoke(app, ["contracts", "show", "leics-send-sharing-2026"])
    assert shown.exit_code == 0 and "9(2)(h) health or social care" in shown.output
    assert runner.invoke(app, ["contracts", "show", "nope"]).exit_code == 2


def test_contracts_check_lists_each_problem_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(SHIPPED.read_text())
    broken = tmp_path / "broken.yaml"
    broken.write_text(shipped_with('SendFlagSet: "*"', "SendFlagSet: [shoe_size]"))
    result = runner.invoke(app, ["contracts", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert "broken.yaml: 1 problem(s)" in result.output
    assert "health: SendFlagSet has no field shoe_size" in result.output
    assert "good.yaml: leics-send-sharing-2026 v3 is valid" in result.output
    twice = runner.invoke(app, ["contracts", "check", str(SHIPPED), str(SHIPPED)])
    assert twice.exit_code == 1 and "already used by" in twice.output
    assert runner.invoke(app, ["contracts", "check", str(tmp_path / "none")]).exit_code == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(app, ["contracts", "check", str(empty)]).exit_code == 2
