"""The synthetic area generator: deterministic, synthetic identifiers only, calibrated, honest."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

from stdnum.gb import upn
from typer.testing import CliRunner

from hub.cli import app
from producers.identity import valid_nhs_number
from producers.synthetic.area import SMOKE, Faults
from producers.synthetic.area_files import generate_area, read_events
from schemas.catalogue import default_catalogue
from schemas.codec import decode


def _manifest(directory: Path) -> dict[str, str]:
    files = json.loads((directory / "manifest.json").read_text())["files"]
    assert isinstance(files, dict)
    return files


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    generate_area(SMOKE, 5, 0.5, tmp_path / "a")
    generate_area(SMOKE, 5, 0.5, tmp_path / "b")
    generate_area(SMOKE, 6, 0.5, tmp_path / "c")
    assert _manifest(tmp_path / "a") == _manifest(tmp_path / "b")
    assert _manifest(tmp_path / "a")["events.bin"] != _manifest(tmp_path / "c")["events.bin"]


def test_identifiers_are_synthetic_and_valid(tmp_path: Path) -> None:
    generate_area(SMOKE, 1, 0.5, tmp_path, faults=Faults.none())
    for path in (tmp_path / "extracts").rglob("*.csv"):
        for row in csv.DictReader(io.StringIO(path.read_text())):
            nhs = row.get("nhs_number") or row.get("NHS_NUMBER")
            if nhs:
                assert nhs.startswith("999") and valid_nhs_number(nhs) == nhs
            if row.get("upn"):
                assert upn.is_valid(row["upn"])


def test_the_cohort_follows_the_profile_and_every_event_decodes(tmp_path: Path) -> None:
    summary = generate_area(SMOKE, 2, 1.0, tmp_path, faults=Faults.none())
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    plans = truth["register"]["EHC_PLAN"]
    assert plans == SMOKE.ehc_plans
    assert truth["register"].get("SEN_SUPPORT", 0) >= 0.9 * SMOKE.sen_support
    rate = truth["kpis"]["ehcp_20_weeks_incl_exceptions"]
    assert 0.85 <= rate["numerator"] / rate["denominator"] <= 0.98  # profile: 92 %
    needs = Counter(
        {
            c["value"]: c["people"]
            for c in truth["jsna_cells"]
            if c["dimension"] == "primary_need" and c["send_status"] == "EHC_PLAN"
        }
    )
    assert needs.most_common(1)[0][0] in {"ASD", "SEMH", "SLCN"}
    catalogue = default_catalogue()
    kinds = Counter(decode(catalogue, m).schema.name for m in read_events(tmp_path / "events.bin"))
    assert sum(kinds.values()) == summary.events
    assert {"EhcPlanIssued", "SenSupportRecorded", "PersonDetailsRecorded"} <= set(kinds)
    assert truth["faults"]["refused_rows"] == {}


def test_injected_faults_are_refused_and_counted(tmp_path: Path) -> None:
    faults = Faults(invalid_nhs_number=20, missing_identifier=10, unknown_code=10, duplicate=10)
    summary = generate_area(SMOKE, 3, 1.0, tmp_path, faults=faults)
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    injected = truth["faults"]["injected_rows"]
    refused: Counter[str] = Counter()
    for key, count in truth["faults"]["refused_rows"].items():
        refused[key.split(": ")[1]] += count
    assert refused["invalid_nhs_number"] == injected["invalid_nhs_number"]
    assert refused["missing_identifier"] == injected["missing_identifier"]
    assert refused["unknown_code"] == injected["unknown_code"]
    assert summary.refused_rows == sum(refused.values())
    assert truth["faults"]["duplicate_messages"] >= injected["duplicate"]


def test_hub_synth_writes_the_area(tmp_path: Path) -> None:
    out = tmp_path / "area"
    args = ["synth", "--profile", "smoke", "--seed", "4", "--scale", "0.3", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "ground_truth.json").exists() and (out / "events.bin").stat().st_size > 0
    assert CliRunner().invoke(app, ["synth", "--profile", "atlantis"]).exit_code == 2
