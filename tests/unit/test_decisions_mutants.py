"""Contract decisions at the edges mutation testing found unpinned.

The UK day a contract is judged on must not depend on the offset a partner wrote or on
the time zone of the machine deciding; a refusal must still record the contract
version it was taken under.
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
        recorded_on=dt.date(2026, 11, 2),
        pseudonyms=frozenset({"p-1"}),
        fields=frozenset({"exclusion_kind", "start_date", "school_urn", "pupil_name"}),
    )
    decision = decide(exclusion, shipped_contracts(), default_catalogue())
    assert decision.reason is Reason.FIELD_NOT_ALLOWED
    assert (decision.contract_id, decision.contract_version) == ("leics-send-sharing-2026", 3)
    assert decision.detail == (
        "ExclusionRecorded from education may not carry pupil_name, school_urn"
    )
