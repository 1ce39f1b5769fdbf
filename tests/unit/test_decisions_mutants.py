"""Contract decisions at the edges mutation testing found unpinned.

The UK day a contract is judged on must not depend on the offset a partner wrote or on
the time zone of the machine deciding, and must be the day the hub received the event,
never the sender's `recorded_at`; a refusal must still record the contract version it
was taken under.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest

from contracts.decisions import Candidate, Reason, decide, uk_date
from contracts.loading import shipped_contracts
from schemas.catalogue import default_catalogue


@pytest.fixture
def machine_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_an_offset_timestamp_is_read_at_its_offset_then_taken_to_the_uk_day() -> None:
    # 00:30 at +05:00 is 19:30 UTC the evening before: still 31 March in the UK
    assert uk_date("2026-04-01T00:30:00+05:00") == dt.date(2026, 3, 31)


@pytest.mark.usefixtures("machine_in_tokyo")
def test_a_naive_timestamp_is_utc_whatever_the_deciding_machines_time_zone() -> None:
    # 23:30 UTC on 31 March is 00:30 BST on 1 April; read as Tokyo time it would be 31 March
    assert uk_date("2026-03-31T23:30:00") == dt.date(2026, 4, 1)
    assert uk_date(dt.datetime(2026, 3, 31, 23, 30)) == dt.date(2026, 4, 1)


def test_a_field_refusal_records_the_contract_version_and_names_every_extra_field() -> None:
    exclusion = Candidate(
        event_type="ExclusionRecorded",
        source_system="education",
        contract_id="leics-send-sharing-2026",
        area_code="E10000018",
        key_id="key-1",
        pseudonyms=frozenset({"p-1"}),
        fields=frozenset({"exclusion_kind", "start_date", "school_urn", "pupil_name"}),
    )
    decision = decide(
        exclusion, shipped_contracts(), default_catalogue(), received_on=dt.date(2026, 11, 2)
    )
    assert decision.reason is Reason.FIELD_NOT_ALLOWED
    assert (decision.contract_id, decision.contract_version) == ("leics-send-sharing-2026", 3)
    assert decision.detail == (
        "ExclusionRecorded from education may not carry pupil_name, school_urn"
    )


# the shipped contract is in force 2026-01-01 to 2028-12-31
BEFORE, INSIDE, AFTER = dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2029, 1, 1)


@pytest.mark.parametrize("recorded", [BEFORE, INSIDE, dt.date(2028, 12, 31), AFTER])
@pytest.mark.parametrize("received", [BEFORE, INSIDE, dt.date(2028, 12, 31), AFTER])
def test_only_the_day_received_decides_whether_the_contract_is_in_force(
    recorded: dt.date, received: dt.date
) -> None:
    """Every pairing of a recording day and a receiving day on either side of both ends of
    the contract: the answer follows the day received alone. A decision that looked at
    `recorded_at` again (alone, or as well) would get some of these sixteen wrong."""
    record = {
        "event_type": "SendFlagSet",
        "source_system": "health",
        "contract_id": "leics-send-sharing-2026",
        "area_code": "E10000018",
        "occurred_at": dt.datetime.combine(recorded, dt.time(12), dt.UTC),
        "recorded_at": dt.datetime.combine(recorded, dt.time(12), dt.UTC),
        "subject": {"nhs_pseudonym": "n", "upn_pseudonym": None, "key_id": "key-1"},
        "flag_date": recorded,
    }
    decision = decide(
        Candidate.from_record(record),
        shipped_contracts(),
        default_catalogue(),
        received_on=received,
    )
    in_force = received in (INSIDE, dt.date(2028, 12, 31))
    assert decision.reason is (Reason.ACCEPTED if in_force else Reason.CONTRACT_NOT_IN_FORCE)
