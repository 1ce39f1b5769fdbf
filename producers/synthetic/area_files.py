"""Writing a synthetic area to disk: extracts, an event stream, reference data and the truth.

Layout of the output directory:

* `extracts/<source>/<extract>.csv` - what each partner sends (`hub produce`),
  faulty rows included;
* `events.bin` - the same events as the producers would publish them: Avro
  single-object messages, each preceded by its length (4 bytes, big-endian), in
  shuffled order (late and out-of-order by construction) with duplicates;
* `reference/localities.csv`, `reference/population.csv` - LSOA to locality, and
  the population aged 0-25 by breakdown, for JSNA rates (`hub reference load`);
* `ground_truth.json` - the register, JSNA cells and KPIs the hub must compute
  from the clean data, and how many faulty rows of each kind it must refuse;
* `manifest.json` - profile, seed, scale, counts and the sha256 of every file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
import struct
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from producers.ehc_plans import EHC_PLANS, PublishContext
from producers.extract_reader import RowRefusal, decode_extract, iter_rows
from producers.identity import Pseudonymiser
from producers.mapped_extract import mapped_extract
from producers.source_mapping import find_extract
from producers.staging import EntryChecks, PublishTarget, RowConverter
from producers.synthetic.area import (
    AreaProfile,
    Extracts,
    Faults,
    Person,
    age_on,
    band_of,
    inject_faults,
    journeys,
    people,
)
from schemas.catalogue import Catalogue, default_catalogue

CONTRACT_ID = "leics-send-sharing-2026"
STATUTORY_DAYS = 140
D = dt.date


@dataclass(frozen=True)
class AreaSummary:
    out_dir: Path
    people: int
    rows: int
    events: int
    refused_rows: int
    seconds: float
    files: dict[str, int]


def truth(
    profile: AreaProfile, cohort: list[Person], reference: dict[str, str], scale: float
) -> dict[str, Any]:
    """What the hub must find, computed from the generator's own model of each person."""
    as_at = profile.end
    statuses: Counter[str] = Counter()
    cells: Counter[tuple[str, str, str]] = Counter()
    for person in cohort:
        status = _status(person)
        statuses[status] += 1
        band = band_of(age_on(person.birth_month, as_at))
        if band is None:
            continue
        need = person.need if status != "UNKNOWN" else None
        setting = person.setting
        values = [
            ("all", "all"),
            ("primary_need", need or "UNKNOWN"),
            ("age_band", band),
            ("sex", person.sex),
            ("ethnicity_group", person.ethnicity),
            ("locality", reference[person.lsoa]),
            ("setting_type", setting[0] if setting else "NONE"),
            (
                "placement_area",
                ("IN_AREA" if setting[1] else "OUT_OF_AREA") if setting else "NONE",
            ),
        ]
        flags = {
            {"LOOKED_AFTER": "looked_after", "CHILD_IN_NEED": "child_in_need"}.get(
                case_type, "early_help"
            )
            for case_type, opened, closed in person.cases
            if opened <= as_at and (closed is None or closed > as_at)
        }
        if person.destination == "NEET":
            flags.add("neet")
        values += [("flag", flag) for flag in sorted(flags)]
        for dimension, value in values:
            cells[(status, dimension, value)] += 1
    plans = [p for p in cohort if p.plan_issued is not None and p.request is not None]
    on_time = [p for p in plans if (p.plan_issued - p.request).days <= STATUTORY_DAYS]  # type: ignore[operator]
    return {
        "as_at": as_at.isoformat(),
        "register": dict(sorted(statuses.items())),
        "jsna_cells": [
            {"send_status": s, "dimension": d, "value": v, "people": n}
            for (s, d, v), n in sorted(cells.items())
        ],
        "kpis": {
            "ehcp_20_weeks_incl_exceptions": {
                "numerator": len(on_time),
                "denominator": len(plans),
            },
            "ehcp_20_weeks_excl_exceptions": {
                "numerator": sum(1 for p in on_time if not p.exception),
                "denominator": sum(1 for p in plans if not p.exception),
            },
        },
        "population_0_25": round(profile.population_0_25 * scale),
    }


THERAPY_CODES = {"SLT": "salt", "OT": "ot", "PT": "physio"}
SURVEY_KPIS = (
    ("listened_to", "parents_feel_listened_to"),
    ("can_find_information", "parents_can_find_information"),
    ("improvement_noticed", "parents_notice_improvement"),
)
AGREEMENT = frozenset({"AGREE", "STRONGLY_AGREE"})
COUNTED = (  # KPIs that count events: numerator 1 each, denominator from elsewhere (0)
    (("education", "supported_internships"), "supported_internships"),
    (("education", "tribunal_appeals_registered"), "tribunal_appeals"),
    (("health", "personal_health_budgets"), "phb_uptake"),
)


def kpis_from_rows(extracts: Extracts) -> dict[str, dict[str, int]]:
    """True numerators and denominators of the single-event KPIs, from the clean rows."""
    totals: dict[str, list[int]] = {}

    def count(kpi_id: str, met: bool, denominator: int = 1) -> None:
        figures = totals.setdefault(kpi_id, [0, 0])
        figures[0] += int(met)
        figures[1] += denominator

    rows = extracts.rows
    for row in rows.get(("health", "therapy_first_appointments"), []):
        waited = (
            D.fromisoformat(row["APPOINTMENT_DATE"]) - D.fromisoformat(row["REFERRAL_DATE"])
        ).days
        count(f"therapy_{THERAPY_CODES[row['SERVICE']]}_seen_within_6_weeks", waited <= 42)
    for row in rows.get(("education", "annual_reviews"), []):
        count("annual_reviews_on_time", row["review_date"] <= row["due_date"])
        count("cyp_involved_in_plans", row["young_person_involved"] == "Y")
    for row in rows.get(("socialcare", "cases_opened"), []):
        count("send_status_recorded_new_cases", row["send_status_recorded"] == "Y")
    for row in rows.get(("education", "post16_destinations"), []):
        count("post16_destination_known", row["destination"] != "NOT_KNOWN")
        count("eet_participation", row["destination"] == "EET")
    for row in rows.get(("voice", "survey_responses"), []):
        for question, kpi_id in SURVEY_KPIS:
            if row.get(question):  # an unanswered question is not counted
                count(kpi_id, row[question].upper() in AGREEMENT)
        if row["respondent"].upper() == "PARENT_CARER":
            count("survey_participation", True, denominator=0)
    for key, kpi_id in COUNTED:
        for _ in rows.get(key, []):
            count(kpi_id, True, denominator=0)
    return {k: {"numerator": n, "denominator": d} for k, (n, d) in sorted(totals.items())}


def _status(person: Person) -> str:
    if person.status == "EHC_PLAN":
        return "EHC_PLAN"
    return "SEN_SUPPORT" if person.census else "UNKNOWN"


def population_rows(
    profile: AreaProfile, scale: float, r: random.Random
) -> list[tuple[int, str, str, int]]:
    """The area's population aged 0-25 by breakdown (the JSNA denominators), for the end year."""
    total = round(profile.population_0_25 * scale)
    year = profile.end.year
    rows = [(year, "all", "all", total)]
    rows += [(year, "locality", name, round(total * share)) for name, share in profile.localities]
    rows += [
        (year, "ethnicity_group", name, round(total * share)) for name, share in profile.ethnicity
    ]
    rows += [
        (year, "sex", "FEMALE", round(total * 0.49)),
        (year, "sex", "MALE", round(total * 0.51)),
    ]
    bands = (("0-4", 5), ("5-10", 6), ("11-15", 5), ("16-19", 4), ("20-25", 6))
    rows += [(year, "age_band", band, round(total * years / 26)) for band, years in bands]
    return rows


def converter_for(source: str, extract: str, catalogue: Catalogue) -> RowConverter:
    if (source, extract) == ("education", "ehc_plans_issued"):
        return EHC_PLANS
    return mapped_extract(find_extract(source, extract), catalogue)


def encode_extract(
    text: str,
    source: str,
    converter: RowConverter,
    pseudonymiser: Pseudonymiser,
    catalogue: Catalogue,
    recorded_at: dt.datetime,
) -> tuple[list[tuple[str, bytes]], list[RowRefusal]]:
    """The extract's events as the producer would send them; refused rows alongside."""
    from contracts.loading import shipped_contracts

    schema = catalogue.latest(converter.event_type)
    target = PublishTarget("", f"{source}.events", source, CONTRACT_ID, "E10000018")
    checks = EntryChecks(schema, catalogue, shipped_contracts(), target, "")
    context = PublishContext(
        source, CONTRACT_ID, "E10000018", uuid.UUID(int=0), recorded_at, recorded_at.date()
    )
    _, rows = iter_rows(
        decode_extract(text.encode()), converter.required_columns, converter.known_columns
    )
    values: list[tuple[str, bytes]] = []
    refusals: list[RowRefusal] = []
    for row in rows:
        record = (
            row
            if isinstance(row, RowRefusal)
            else converter.record_or_refusal(row, context, pseudonymiser)
        )
        entry = record if isinstance(record, RowRefusal) else checks.entry(record, row.line)
        if isinstance(entry, RowRefusal):
            refusals.append(entry)
        else:
            values.append((entry.event_id, entry.value))
    return values, refusals


def generate_area(
    profile: AreaProfile,
    seed: int,
    scale: float,
    out_dir: Path,
    *,
    faults: Faults | None = None,
    key: bytes | None = None,
    recorded_at: dt.datetime | None = None,
) -> AreaSummary:
    """Generate the area and write every file; same inputs, same bytes."""
    started = time.perf_counter()
    faults = Faults() if faults is None else faults
    r = random.Random(seed)
    cohort, reference = people(profile, scale, r)
    extracts = journeys(profile, scale, cohort, r)
    event_kpis = kpis_from_rows(extracts)  # the clean rows, before faults are added
    inject_faults(extracts, faults, r)
    catalogue = default_catalogue()
    pseudonymiser = Pseudonymiser(
        key or hashlib.sha256(f"synthetic-area-key|{seed}".encode()).digest(), "key-1"
    )
    recorded_at = recorded_at or dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    stream: list[tuple[str, bytes]] = []
    refused: Counter[str] = Counter()
    rows = 0
    for source, extract in sorted(extracts.rows):
        text = extracts.csv_text((source, extract))
        files[f"extracts/{source}/{extract}.csv"] = text.encode()
        rows += len(extracts.rows[(source, extract)])
        converter = converter_for(source, extract, catalogue)
        values, refusals = encode_extract(
            text, source, converter, pseudonymiser, catalogue, recorded_at
        )
        stream.extend(values)
        refused.update(f"{source}/{extract}: {refusal.reason}" for refusal in refusals)
    duplicates = [r.choice(stream) for _ in range(round(len(stream) * 0.003))]
    stream.extend(duplicates)
    r.shuffle(stream)
    files["events.bin"] = b"".join(struct.pack(">I", len(v)) + v for _, v in stream)
    files["reference/localities.csv"] = _csv(("lsoa_code", "locality"), sorted(reference.items()))
    files["reference/population.csv"] = _csv(
        ("year", "dimension", "value", "people"), population_rows(profile, scale, r)
    )
    expected = truth(profile, cohort, reference, scale)
    expected["kpis"].update(event_kpis)
    expected["faults"] = {
        "injected_rows": dict(sorted(extracts.faults.items())),
        "refused_rows": dict(sorted(refused.items())),
        "duplicate_messages": len(stream) - len({event_id for event_id, _ in stream}),
    }
    files["ground_truth.json"] = (json.dumps(expected, indent=1) + "\n").encode()
    for name, content in files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    manifest = {
        "profile": profile.name,
        "seed": seed,
        "scale": scale,
        "people": len(cohort),
        "extract_rows": rows,
        "events": len(stream),
        "files": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return AreaSummary(
        out_dir=out_dir,
        people=len(cohort),
        rows=rows,
        events=len(stream),
        refused_rows=sum(refused.values()),
        seconds=time.perf_counter() - started,
        files={name: len(content) for name, content in files.items()},
    )


def _csv(header: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def read_events(path: Path) -> list[bytes]:
    """The messages of an `events.bin` file, in file order."""
    data = path.read_bytes()
    messages, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        messages.append(data[offset + 4 : offset + 4 + length])
        offset += 4 + length
    return messages
