"""The shipped schemas evolve safely and the event catalogue in docs/ matches them.

A new schema version that could not read what partners already sent is refused, as
are gaps in version numbers; `docs/events.md` is regenerated whenever a schema moves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import avro.schema
import pytest
from fastavro import parse_schema
from typer.testing import CliRunner

from hub.cli import app
from schemas.catalogue import SCHEMA_DIR, default_catalogue
from schemas.catalogue_doc import render_catalogue, render_type
from schemas.compatibility import Finding, check_directory
from schemas.envelope import ENVELOPE_FIELDS

ROOT = Path(__file__).resolve().parents[2]
EVENTS_DOC = ROOT / "docs" / "events.md"
SHIPPED = sorted(SCHEMA_DIR.glob("*.avsc"))
CATALOGUE = default_catalogue()
EVENTS = [
    CATALOGUE.latest(name)
    for name in sorted({s.name for s in CATALOGUE.schemas} - {"ExtractPublished"})
]
WITHDRAWAL = "RecordWithdrawn"
ATTENDANCE = "attendance_recorded"

Definition = dict[str, Any]


def definition_of(stem: str) -> Definition:
    """The newest shipped version of an event type, as the base of made-up versions."""
    newest = max(SCHEMA_DIR.glob(f"{stem}.v*.avsc"), key=lambda p: int(p.suffixes[0][2:]))
    loaded: Definition = json.loads(newest.read_text(encoding="utf-8"))
    return loaded


def write_versions(
    directory: Path, stem: str, changes: dict[int, Callable[[Definition], None]]
) -> Path:
    """Each version in `changes` is the newest shipped version edited by its function
    (v1: as shipped)."""
    for version, change in {1: lambda _: None, **changes}.items():
        definition = definition_of(stem)
        definition["version"] = version
        change(definition)
        path = directory / f"{stem}.v{version}.avsc"
        path.write_text(json.dumps(definition, indent=2), encoding="utf-8")
    return directory


def add_field(field: Definition) -> Callable[[Definition], None]:
    return lambda definition: definition["fields"].append(field)


def retype(name: str, new_type: Any) -> Callable[[Definition], None]:
    def change(definition: Definition) -> None:
        for field in definition["fields"]:
            if field["name"] == name:
                field["type"] = new_type

    return change


def kinds(findings: list[Finding]) -> list[tuple[str, int | None, int | None]]:
    return [(f.kind, f.reader_version, f.writer_version) for f in findings]


# the shipped schemas


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_schema_loads_in_fastavro_and_avro(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    parse_schema(json.loads(text), _write_hint=False)
    parsed = avro.schema.parse(text)
    assert isinstance(parsed, avro.schema.RecordSchema)


def test_thirty_event_types_a_withdrawal_and_the_extract_manifest_are_shipped() -> None:
    assert len(EVENTS) == 31
    assert {s.definition["source"] for s in EVENTS if s.name != WITHDRAWAL} == {
        "education",
        "health",
        "socialcare",
        "voice",
    }
    assert CATALOGUE.latest(WITHDRAWAL).definition["source"] == "any"


def test_every_event_type_is_at_version_2_with_a_record_id() -> None:
    """Version 2 added the record id (corrections); a version 1 stays readable."""
    for schema in EVENTS:
        if schema.name == WITHDRAWAL:
            continue
        assert schema.version == 2, schema.name
        first = next(s for s in CATALOGUE.schemas if (s.name, s.version) == (schema.name, 1))
        assert "record_id" not in {f["name"] for f in first.definition["fields"]}


def envelope_shape(fields: list[Definition]) -> list[Definition]:
    """Envelope fields without docs (`event_type` and `occurred_at` are explained per event)."""
    by_name = {f["name"]: f for f in fields}
    shape = [{k: v for k, v in by_name[name].items() if k != "doc"} for name in ENVELOPE_FIELDS]
    shape[ENVELOPE_FIELDS.index("subject")] = by_name["subject"]
    return shape


def test_every_event_type_has_the_identical_envelope_and_pii_tagged_subject() -> None:
    reference = envelope_shape(CATALOGUE.latest("EhcPlanIssued").definition["fields"])
    for schema in EVENTS:
        if schema.name == WITHDRAWAL:  # its record id is required: it names the record
            continue
        names = [field["name"] for field in schema.definition["fields"]]
        assert tuple(names[: len(ENVELOPE_FIELDS)]) == ENVELOPE_FIELDS, schema.name
        assert envelope_shape(schema.definition["fields"]) == reference, schema.name
        subject_pii = {k: v for k, v in schema.pii_fields().items() if k.startswith("subject.")}
        assert subject_pii == {
            "subject.nhs_pseudonym": "pseudonym",
            "subject.upn_pseudonym": "pseudonym",
        }, schema.name


def test_the_shipped_directory_has_no_findings() -> None:
    assert [str(f) for f in check_directory()] == []


def test_docs_events_md_is_up_to_date() -> None:
    assert EVENTS_DOC.read_text(encoding="utf-8") == render_catalogue(CATALOGUE), (
        "docs/events.md is stale: run `hub schemas docs`"
    )


def test_the_catalogue_lists_every_type_with_owner_and_purpose() -> None:
    text = render_catalogue(CATALOGUE)
    for schema in CATALOGUE.schemas:
        assert f"### {schema.name}\n\n{schema.doc}\n" in text
        assert f"- **Owner:** {schema.owner}" in text
    assert text == render_catalogue(CATALOGUE)


def test_types_read_as_words() -> None:
    sex = {"type": "enum", "name": "Sex", "symbols": ["FEMALE", "MALE"]}
    assert render_type(["null", sex], {}) == "enum Sex: FEMALE, MALE"
    assert render_type("Sex", {"Sex": sex}) == "enum Sex: FEMALE, MALE"
    assert render_type({"type": "int", "logicalType": "date"}, {}) == "date"
    assert render_type({"type": "array", "items": "string"}, {}) == "array of string"


# evolution: what the check refuses and what it lets through


def test_a_new_required_field_without_a_default_is_refused(tmp_path: Path) -> None:
    new_field = {"name": "reason", "type": "string", "doc": "Why."}
    write_versions(tmp_path, ATTENDANCE, {2: add_field(new_field)})
    assert kinds(check_directory(tmp_path)) == [("reader_field_missing_default_value", 2, 1)]


def test_changing_an_int_field_to_string_is_refused(tmp_path: Path) -> None:
    write_versions(tmp_path, ATTENDANCE, {2: retype("sessions_missed", "string")})
    [finding] = check_directory(tmp_path)
    assert (finding.kind, finding.reader_version, finding.writer_version) == ("type_mismatch", 2, 1)
    assert "AttendanceRecorded v2 reading v1" in str(finding)


def test_every_earlier_version_is_checked_not_only_the_previous_one(tmp_path: Path) -> None:
    dropped = "sessions_missed"

    def drop(definition: Definition) -> None:
        definition["fields"] = [f for f in definition["fields"] if f["name"] != dropped]

    def back_with_default(definition: Definition) -> None:
        for field in definition["fields"]:
            if field["name"] == dropped:
                field.update(type="string", default="")

    # v2 drops the field (fine), v3 brings it back as a string with a default:
    # v3 reads v2 (the default fills in) but not v1, which wrote an int there.
    write_versions(tmp_path, ATTENDANCE, {2: drop, 3: back_with_default})
    findings = check_directory(tmp_path)
    assert ("type_mismatch", 3, 1) in kinds(findings)


def test_a_new_optional_field_with_a_null_default_passes(tmp_path: Path) -> None:
    new_field = {"name": "reason", "type": ["null", "string"], "default": None, "doc": "Why."}
    write_versions(tmp_path, ATTENDANCE, {2: add_field(new_field)})
    assert check_directory(tmp_path) == []


def test_a_gap_in_versions_is_reported(tmp_path: Path) -> None:
    write_versions(tmp_path, ATTENDANCE, {3: lambda _: None})
    assert kinds(check_directory(tmp_path)) == [("version_gap", None, None)]


def test_a_file_named_unlike_its_event_type_is_reported(tmp_path: Path) -> None:
    (tmp_path / "attendance.v1.avsc").write_text(
        json.dumps(definition_of(ATTENDANCE)), encoding="utf-8"
    )
    assert kinds(check_directory(tmp_path)) == [("bad_file_name", None, None)]


def test_an_event_without_the_envelope_is_reported(tmp_path: Path) -> None:
    def drop_area_code(definition: Definition) -> None:
        definition["fields"] = [f for f in definition["fields"] if f["name"] != "area_code"]

    write_versions(tmp_path, ATTENDANCE, {1: drop_area_code})
    [finding] = check_directory(tmp_path)
    assert finding.kind == "missing_envelope_field" and "area_code" in finding.detail


# the command line

runner = CliRunner()


def test_hub_schemas_check_passes_on_the_shipped_schemas() -> None:
    result = runner.invoke(app, ["schemas", "check"])
    assert result.exit_code == 0, result.output
    assert "31 event types and 1 control message, 62 versions" in result.output
    assert "all backward-transitively compatible" in result.output


def test_hub_schemas_check_fails_and_says_why(tmp_path: Path) -> None:
    write_versions(tmp_path, ATTENDANCE, {2: retype("sessions_missed", "string")})
    result = runner.invoke(app, ["schemas", "check", "--schema-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "AttendanceRecorded v2 reading v1: type_mismatch" in result.output


def test_hub_schemas_docs_check_passes_on_the_committed_catalogue() -> None:
    result = runner.invoke(app, ["schemas", "docs", "--check"])
    assert result.exit_code == 0, result.output


def test_hub_schemas_docs_writes_and_then_checks_a_catalogue(tmp_path: Path) -> None:
    output = tmp_path / "events.md"
    output.write_text("# stale\n", encoding="utf-8")
    stale = runner.invoke(app, ["schemas", "docs", "--check", "--output", str(output)])
    assert stale.exit_code == 1
    assert "out of date" in stale.output
    written = runner.invoke(app, ["schemas", "docs", "--output", str(output)])
    assert written.exit_code == 0, written.output
    assert output.read_text(encoding="utf-8") == render_catalogue(CATALOGUE)
    fresh = runner.invoke(app, ["schemas", "docs", "--check", "--output", str(output)])
    assert fresh.exit_code == 0, fresh.output
