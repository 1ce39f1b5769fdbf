"""Producers refuse at source what the gatekeeper would refuse: per row, with the reason."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from producers import staging
from producers.identity import Pseudonymiser
from producers.mapped_extract import mapped_extract
from producers.outbox import Outbox
from producers.source_mapping import find_extract
from producers.staging import PublishSummary, PublishTarget, staged_chunks
from producers.synthetic.nhs_numbers import synthetic_nhs_number
from schemas.catalogue import default_catalogue

CATALOGUE = default_catalogue()
NOW = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def stage(tmp_path: Path, csv: str, contract: str, key_id: str = "key-1") -> PublishSummary:
    path = tmp_path / "exclusions.csv"
    path.write_text(csv)
    converter = mapped_extract(find_extract("education", "exclusions"), CATALOGUE)
    target = PublishTarget("unused:9092", "education.events", "education", contract, "E10000018")
    summaries: list[PublishSummary] = []
    with Outbox(tmp_path / f"outbox-{contract}-{key_id}.sqlite") as outbox:
        for _ in staged_chunks(
            path,
            target,
            Pseudonymiser(b"k" * 32, key_id),
            outbox,
            summaries,
            now=NOW,
            catalogue=CATALOGUE,
            converter=converter,
        ):
            pass
    return summaries[0]


def test_a_field_the_contract_does_not_allow_is_refused_at_source(tmp_path: Path) -> None:
    nhs = [synthetic_nhs_number(random.Random(i)) for i in range(2)]
    csv = (
        "exclusion_id,nhs_number,upn,start_date,category,sessions,school_urn\n"
        f"X1,{nhs[0]},,2026-02-02,FTE,2,\n"
        f"X2,{nhs[1]},,2026-02-09,PERM,,123456\n"
    )
    summary = stage(tmp_path, csv, "leics-send-sharing-2026")
    assert summary.rows_read == 2 and len(summary.event_ids) == 1
    [refusal] = summary.refusals
    assert (refusal.line, refusal.reason) == (3, "contract_field_not_allowed")
    assert "school_urn" in refusal.message and "123456" not in refusal.message


def test_an_unknown_contract_or_key_refuses_every_row(tmp_path: Path) -> None:
    nhs = synthetic_nhs_number(random.Random(9))
    csv = f"exclusion_id,nhs_number,start_date,category\nX1,{nhs},2026-02-02,FTE\n"
    unknown = stage(tmp_path, csv, "no-such-contract")
    assert [r.reason for r in unknown.refusals] == ["contract_unknown_contract"]
    wrong_key = stage(tmp_path, csv, "leics-send-sharing-2026", key_id="key-0")
    assert [r.reason for r in wrong_key.refusals] == ["contract_wrong_key"]


def test_a_record_repeated_in_an_extract_is_sent_once_and_the_repeat_reported(
    tmp_path: Path,
) -> None:
    nhs = synthetic_nhs_number(random.Random(11))
    row = f"X1,{nhs},2026-02-02,FTE"
    csv = f"exclusion_id,nhs_number,start_date,category\n{row}\nX2,{nhs},2026-03-02,FTE\n{row}\n"
    summary = stage(tmp_path, csv, "leics-send-sharing-2026")
    assert len(summary.event_ids) == 2
    assert [(r.line, r.reason, r.message) for r in summary.refusals] == [
        (4, "duplicate_row", "same record as line 2")
    ]


def test_the_contract_is_judged_on_the_day_the_producer_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An extract first staged while its contract was in force and resumed after it ended:
    the rows keep the first run's `recorded_at`, but the row sent after the end is refused
    at source, as the hub would refuse it on the day it received it."""
    monkeypatch.setattr(staging, "CHUNK_ROWS", 1)
    nhs = [synthetic_nhs_number(random.Random(20 + i)) for i in range(2)]
    path = tmp_path / "exclusions.csv"
    path.write_text(
        "exclusion_id,nhs_number,start_date,category\n"
        f"X1,{nhs[0]},2026-02-02,FTE\nX2,{nhs[1]},2026-02-09,FTE\n"
    )
    converter = mapped_extract(find_extract("education", "exclusions"), CATALOGUE)
    target = PublishTarget(
        "unused:9092", "education.events", "education", "leics-send-sharing-2026", "E10000018"
    )
    pseudonymiser = Pseudonymiser(b"k" * 32, "key-1")
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        first = staging.begin_staging(
            path, target, pseudonymiser, outbox, now=NOW, catalogue=CATALOGUE, converter=converter
        )
        next(first.chunks())  # the first row is staged and committed, then the run stops
    after_the_end = dt.datetime(2029, 1, 1, 12, tzinfo=dt.UTC)  # the contract ended 2028-12-31
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        second = staging.begin_staging(
            path,
            target,
            pseudonymiser,
            outbox,
            now=after_the_end,
            catalogue=CATALOGUE,
            converter=converter,
        )
        assert second.context.recorded_at == NOW
        for _ in second.chunks():
            pass
    assert [(r.line, r.reason) for r in second.summary.refusals] == [
        (3, "contract_contract_not_in_force")
    ]
