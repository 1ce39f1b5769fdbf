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

The people and their extracts come from `area.py`, the events from `extract_events.py`
and the figures of `ground_truth.json` from `truth.py`; this module only assembles them.
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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from producers.identity import Pseudonymiser
from producers.synthetic.area import AreaProfile, Faults, inject_faults, journeys, people
from producers.synthetic.extract_events import converter_for, encode_extract
from producers.synthetic.truth import kpis_from_rows, truth_from_people
from schemas.catalogue import default_catalogue


@dataclass(frozen=True)
class AreaSummary:
    out_dir: Path
    people: int
    rows: int
    events: int
    refused_rows: int
    seconds: float
    files: dict[str, int]


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
    files.update(reference_files(reference, population_rows(profile, scale, r)))
    expected = truth_from_people(profile, cohort, reference, scale)
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


def reference_files(
    reference: dict[str, str], population: Iterable[tuple[Any, ...]]
) -> dict[str, bytes]:
    """The `reference/` files `hub reference load` reads, by path below the area."""
    return {
        "reference/localities.csv": _csv(("lsoa_code", "locality"), sorted(reference.items())),
        "reference/population.csv": _csv(("year", "dimension", "value", "people"), population),
    }


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
