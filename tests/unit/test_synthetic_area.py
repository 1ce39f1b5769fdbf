"""The synthetic area generator: deterministic, synthetic identifiers only, calibrated, honest."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path

from stdnum.gb import upn
from typer.testing import CliRunner

from hub.cli import app
from producers.identity import Pseudonymiser, valid_nhs_number
from producers.synthetic.area import SMOKE, Faults
from producers.synthetic.area_files import generate_area, read_events
from producers.synthetic.extract_events import converter_for, encode_extract
from schemas.catalogue import default_catalogue
from schemas.codec import decode
from schemas.envelope import Event, event_from_record
from streams.jsna import cells_from_changes
from streams.kpi import Rag
from streams.measures import sum_contributions
from streams.projection import InMemoryStore, ProjectionSettings, project
from streams.scorecard import CATALOGUE
from streams.scorecard_engine import ScorecardInputs, evaluate

NEW_EXTRACTS = (
    "voice/survey_responses.csv",
    "education/supported_internships.csv",
    "education/tribunal_appeals_registered.csv",
    "health/personal_health_budgets.csv",
)
NEW_KPIS = (
    "parents_feel_listened_to",
    "parents_can_find_information",
    "parents_notice_improvement",
    "survey_participation",
    "supported_internships",
    "tribunal_appeals",
    "phb_uptake",
)
DEMO_SEED = 2026  # `hub demo`'s default


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


def _rows(directory: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((directory / "extracts" / name).read_text())))


def _events_from_extracts(directory: Path) -> list[Event]:
    """Every extract on disk through the real converters, refused rows dropped, one event
    per id (a duplicated row is one event in the event store)."""
    catalogue = default_catalogue()
    pseudonymiser = Pseudonymiser(b"unit-test-key".ljust(32, b"-"), "key-1")
    recorded_at = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    events: dict[str, Event] = {}
    for path in sorted((directory / "extracts").rglob("*.csv")):
        source, extract = path.parent.name, path.stem
        converter = converter_for(source, extract, catalogue)
        values, _ = encode_extract(
            path.read_text(), source, converter, pseudonymiser, catalogue, recorded_at
        )
        for event_id, value in values:
            decoded = decode(catalogue, value)
            events[event_id] = event_from_record(decoded.record, decoded.schema.fingerprint)
    return list(events.values())


def test_surveys_appeals_internships_and_budgets_are_generated_calibrated_and_true(
    tmp_path: Path,
) -> None:
    faults = Faults(invalid_nhs_number=20, missing_identifier=20, unknown_code=20, duplicate=20)
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        generate_area(SMOKE, seed, 1.0, tmp_path / name, faults=faults)  # faulty copies added
    first, again, other = (_manifest(tmp_path / name) for name in "abc")
    for extract in NEW_EXTRACTS:
        assert first[f"extracts/{extract}"] == again[f"extracts/{extract}"], extract
    assert (
        first["extracts/voice/survey_responses.csv"] != other["extracts/voice/survey_responses.csv"]
    )

    area = tmp_path / "a"
    truth = json.loads((area / "ground_truth.json").read_text())
    kpis = {k: (v["numerator"], v["denominator"]) for k, v in truth["kpis"].items()}
    assert set(NEW_KPIS) <= set(kpis)
    refused = truth["faults"]["refused_rows"]
    assert any(key.startswith("voice/survey_responses: ") for key in refused)
    # The truth is what the real converters make of the rows on disk (faulty rows included,
    # refused or deduplicated), under the same rules the worker applies.
    measured = _over_all_months(_hub_in_memory(_events_from_extracts(area), SMOKE.end, 0))
    for kpi_id, figures in kpis.items():
        assert (measured[(kpi_id, 0)], measured[(kpi_id, 1)]) == figures, kpi_id

    # Calibration: about 10 % of families answer each yearly survey, mostly parents and
    # carers, agreeing 60-80 % of the time, some questions left unanswered.
    years = (SMOKE.end - SMOKE.start).days / 365
    children = sum(n for status, n in truth["register"].items() if status != "NONE")  # SEND
    assert 0.07 <= kpis["survey_participation"][0] / (children * years) <= 0.13
    assert all(kpis[k][1] == 0 for k in NEW_KPIS[3:])  # counts: denominators come elsewhere
    for kpi_id in NEW_KPIS[:3]:
        agreed, answered = kpis[kpi_id]
        assert 0.55 <= agreed / answered <= 0.85, kpi_id
    responses = _rows(area, "voice/survey_responses.csv")
    respondents = Counter(row["respondent"] for row in responses)
    assert respondents["PARENT_CARER"] >= 0.8 * len(responses)
    assert any(not row["improvement_noticed"] for row in responses)
    # The voice mapping refuses a response with no identifier, so only faulty copies lack one.
    anonymous = sum(1 for row in responses if not row["nhs_number"] and not row["upn"])
    assert anonymous == refused["voice/survey_responses: missing_identifier"] > 0
    population = truth["population_0_25"]
    assert abs(kpis["phb_uptake"][0] - population * 0.001 * years) <= 1
    plans = truth["register"]["EHC_PLAN"]
    assert abs(kpis["tribunal_appeals"][0] - plans * 0.005 * years) <= 1
    starts = _rows(area, "education/supported_internships.csv")
    assert starts and all(row["start_date"][5:7] == "09" for row in starts)


def _hub_in_memory(events: list[Event], end: dt.date, population: int) -> ScorecardInputs:
    """What the hub's scorecard reads after `events`, by the hub's own rules in memory: each
    event's measures (as the worker adds them), and the projection's register, JSNA cells
    and the measures that need the person's status on the day (absence, exclusions)."""
    store = InMemoryStore()
    settings = ProjectionSettings(last_month=end)
    project(store, store.append(events), settings)
    monthly: Counter[tuple[str, dt.date, str]] = Counter(store.measures)
    for delta in sum_contributions(events):
        monthly[(delta.kpi_id, delta.period, "numerator")] += delta.numerator
        monthly[(delta.kpi_id, delta.period, "denominator")] += delta.denominator
    cohort: Counter[tuple[dt.date, str, str, str]] = Counter()
    for (day, status, dimension, value), n in cells_from_changes(
        store.cells, settings.month_ends()
    ).items():
        cohort[(day.replace(day=1), status, dimension, value)] += n
    return ScorecardInputs(
        {
            (kpi_id, period): (
                monthly[(kpi_id, period, "numerator")],
                monthly[(kpi_id, period, "denominator")],
            )
            for kpi_id, period, _ in monthly
        },
        dict(cohort),
        {end.year: population},
    )


def _over_all_months(inputs: ScorecardInputs) -> Counter[tuple[str, int]]:
    """Each KPI's measures added up over all months: (KPI, 0) numerator, (KPI, 1) denominator."""
    totals: Counter[tuple[str, int]] = Counter()
    for (kpi_id, _), (numerator, denominator) in inputs.measures.items():
        totals[(kpi_id, 0)] += numerator
        totals[(kpi_id, 1)] += denominator
    return totals


def test_the_demo_areas_truth_has_figures_for_every_kpi_of_the_catalogue(tmp_path: Path) -> None:
    """Issue 10, point 6: the area `hub demo` publishes carries the events behind every KPI,
    absence of pupils with no SEN included (a sample of census `N` returns)."""
    generate_area(SMOKE, DEMO_SEED, 1.0, tmp_path, faults=Faults.none())
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    figures = {**truth["kpis"], **truth["kpis_at_end"]}
    without = [
        kpi.id
        for kpi in CATALOGUE
        if not (
            figures.get(kpi.id, {}).get("numerator") or figures.get(kpi.id, {}).get("denominator")
        )
    ]
    assert without == []
    assert truth["register"]["NONE"] == round(
        SMOKE.sen_support * SMOKE.pupils_without_sen_per_sen_support
    )
    absence = {
        status: figures[f"absence_rate_{status}"]["numerator"]
        / figures[f"absence_rate_{status}"]["denominator"]
        for status in ("none", "sen_support", "ehc_plan")
    }
    # Realistic rates: no SEN about 6-7 %, below SEN support, below an EHC plan.
    assert 0.055 <= absence["none"] <= 0.075 < absence["sen_support"] < absence["ehc_plan"]


def test_the_hubs_scorecard_over_the_demo_area_has_data_for_every_kpi_and_is_the_truth(
    tmp_path: Path,
) -> None:
    """The demo area's events through the hub's rules in memory (converters, projection,
    scorecard engine): no KPI shows NO_DATA, every measured KPI equals the truth over all
    months, and the KPIs read from the cohort equal it at the area's end."""
    generate_area(SMOKE, DEMO_SEED, 1.0, tmp_path, faults=Faults.none())
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    end = dt.date.fromisoformat(truth["as_at"])
    inputs = _hub_in_memory(_events_from_extracts(tmp_path), end, truth["population_0_25"])
    measured = _over_all_months(inputs)
    for kpi_id, figures in truth["kpis"].items():
        expected = (figures["numerator"], figures["denominator"])
        assert (measured[(kpi_id, 0)], measured[(kpi_id, 1)]) == expected, kpi_id

    results = {result.kpi.id: result for result in evaluate(inputs, as_at=end)}
    assert [kpi_id for kpi_id, result in results.items() if result.rag is Rag.NO_DATA] == []
    for kpi_id, figures in truth["kpis_at_end"].items():
        expected = (figures["numerator"], figures["denominator"])
        assert (results[kpi_id].numerator, results[kpi_id].denominator) == expected, kpi_id
