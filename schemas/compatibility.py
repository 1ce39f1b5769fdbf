"""Schema evolution guard: every version of an event type must read all its earlier versions.

Readers (the event store, faust agents, contracts) move to a new schema version
while partners may still send older ones, and old events stay on disk for years.
So each version is checked as *reader* against every earlier version as *writer*
(Avro's BACKWARD_TRANSITIVE), with the `avro` package's reference
`ReaderWriterCompatibilityChecker`. Alongside, files must be named
`snake_case(Name).vN.avsc`, versions must run from 1 without gaps, and every event
schema must carry the shared envelope, an `owner` and a `source`. The result is a
list of plain findings, empty when all is well, so `hub schemas check` and the tests
can print or assert on it.

The `avro` parser keeps unknown attributes (`owner`, `source`, `version`, `pii`)
as properties and the checker ignores them, so the `.avsc` files are checked as
shipped. The checker compares Avro types only: a change of `logicalType` over the
same physical type (say `date` to plain `int`) is not caught here.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import avro.errors
import avro.schema
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
)

from schemas.catalogue import SCHEMA_DIR
from schemas.envelope import ENVELOPE_FIELDS, FIRST_ENVELOPE_FIELDS

# Hub control messages (`ExtractPublished`) are not about a person, so they carry no envelope.
CONTROL_NAMESPACE = "uk.nhs.send.hub.control"


@dataclass(frozen=True)
class Finding:
    """One reason a schema directory would break a reader. `kind` is machine-readable."""

    event_type: str
    kind: str
    detail: str
    reader_version: int | None = None
    writer_version: int | None = None
    path: str = ""

    def __str__(self) -> str:
        if self.reader_version is not None and self.writer_version is not None:
            where = f"{self.event_type} v{self.reader_version} reading v{self.writer_version}"
        else:
            where = self.event_type or self.path
        return f"{where}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class SchemaVersion:
    """One `.avsc` file as the `avro` package parsed it."""

    name: str
    version: int
    path: Path
    schema: avro.schema.Schema


def snake_case(name: str) -> str:
    """`EhcPlanIssued` -> `ehc_plan_issued`: the file stem an event type's schemas use."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _load(path: Path) -> tuple[SchemaVersion | None, list[Finding]]:
    try:
        definition: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return None, [Finding("", "unreadable", f"{path.name}: {error}", path=str(path))]
    if not isinstance(definition, dict) or not isinstance(definition.get("name"), str):
        return None, [Finding("", "unreadable", f"{path.name}: not a named schema", path=str(path))]
    name = definition["name"]
    findings: list[Finding] = []
    try:
        version = int(definition.get("version", 0))
    except (TypeError, ValueError):
        version = 0
    if version < 1:
        findings.append(
            Finding(
                name, "bad_version", f"{path.name}: version must be an int >= 1", path=str(path)
            )
        )
    expected = f"{snake_case(name)}.v{version}.avsc"
    if path.name != expected:
        findings.append(
            Finding(name, "bad_file_name", f"{path.name} should be {expected}", path=str(path))
        )
    try:
        schema = avro.schema.parse(json.dumps(definition))
    except (avro.errors.AvroException, ValueError, TypeError) as error:
        findings.append(Finding(name, "unparseable", f"{path.name}: {error}", path=str(path)))
        return None, findings
    if findings:
        return None, findings
    return SchemaVersion(name=name, version=version, path=path, schema=schema), []


def load_versions(
    schema_dir: Path = SCHEMA_DIR,
) -> tuple[dict[str, list[SchemaVersion]], list[Finding]]:
    """Every `.avsc` in `schema_dir`, grouped by event type and sorted by version."""
    by_name: dict[str, list[SchemaVersion]] = defaultdict(list)
    findings: list[Finding] = []
    for path in sorted(schema_dir.glob("*.avsc")):
        loaded, problems = _load(path)
        findings.extend(problems)
        if loaded is not None:
            by_name[loaded.name].append(loaded)
    for name, versions in by_name.items():
        versions.sort(key=lambda v: v.version)
        numbers = [v.version for v in versions]
        for number in sorted({n for n in numbers if numbers.count(n) > 1}):
            findings.append(Finding(name, "duplicate_version", f"v{number} is defined twice"))
    return dict(by_name), findings


def _compatibility(
    reader: avro.schema.Schema, writer: avro.schema.Schema
) -> SchemaCompatibilityResult:
    """The avro checker's verdict; its constructor is unannotated, hence the ignore."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    return checker.get_compatibility(reader, writer)


def check_pair(reader: SchemaVersion, writer: SchemaVersion) -> list[Finding]:
    """Can `reader` decode everything `writer` wrote? One finding per incompatible pair."""
    result = _compatibility(reader.schema, writer.schema)
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    kinds = sorted({kind.value for kind in result.incompatibilities}) or ["incompatible"]
    locations = ", ".join(sorted(result.locations))
    messages = "; ".join(sorted(result.messages))
    return [
        Finding(
            event_type=reader.name,
            kind=",".join(kinds),
            detail=f"{messages} (at {locations})",
            reader_version=reader.version,
            writer_version=writer.version,
            path=str(reader.path),
        )
    ]


def check_versions_contiguous(name: str, versions: list[SchemaVersion]) -> list[Finding]:
    """Versions run 1, 2, 3 ... with none missing, so no reader skips a writer it never saw."""
    present = sorted({v.version for v in versions})
    missing = sorted(set(range(1, present[-1] + 1)) - set(present)) if present else []
    if not missing:
        return []
    listed = ", ".join(f"v{n}" for n in missing)
    shipped = ", ".join(f"v{n}" for n in present)
    return [Finding(name, "version_gap", f"{listed} missing (shipped: {shipped})")]


def is_control_message(version: SchemaVersion) -> bool:
    """Hub control messages carry no envelope; every other schema is an event about a person."""
    return isinstance(version.schema, avro.schema.NamedSchema) and (
        version.schema.namespace == CONTROL_NAMESPACE
    )


def check_envelope(version: SchemaVersion) -> list[Finding]:
    """An event schema without the shared envelope cannot be routed, deduplicated or linked.

    The record id (which record an event is a revision of) is part of it from version 2;
    a version 1 may leave it out, and its event id is then its record's id.
    """
    if is_control_message(version):
        return []
    fields = (
        version.schema.fields_dict if isinstance(version.schema, avro.schema.RecordSchema) else {}
    )
    envelope = FIRST_ENVELOPE_FIELDS if version.version == 1 else ENVELOPE_FIELDS
    missing = [name for name in envelope if name not in fields]
    if not missing:
        return []
    return [
        Finding(
            version.name,
            "missing_envelope_field",
            f"v{version.version} lacks {', '.join(missing)}",
            path=str(version.path),
        )
    ]


def check_attributes(version: SchemaVersion) -> list[Finding]:
    """`owner` says who answers for the data; `source` picks an event's topic and doc group."""
    wanted = ("owner",) if is_control_message(version) else ("owner", "source")
    props = version.schema.props
    missing = [key for key in wanted if not isinstance(props.get(key), str) or not props[key]]
    if not missing:
        return []
    return [
        Finding(
            version.name,
            "missing_attribute",
            f"v{version.version} lacks {', '.join(missing)}",
            path=str(version.path),
        )
    ]


def check_backward_transitive(name: str, versions: list[SchemaVersion]) -> list[Finding]:
    """Each version as reader against every earlier version as writer (BACKWARD_TRANSITIVE)."""
    findings: list[Finding] = []
    for index, reader in enumerate(versions):
        for writer in versions[:index]:
            if writer.version == reader.version:
                continue  # reported as duplicate_version
            findings.extend(check_pair(reader, writer))
    return findings


def check_loaded(by_name: dict[str, list[SchemaVersion]]) -> list[Finding]:
    """Every rule over schemas already loaded and grouped by event type."""
    findings: list[Finding] = []
    for name in sorted(by_name):
        versions = by_name[name]
        findings.extend(check_versions_contiguous(name, versions))
        for version in versions:
            findings.extend(check_envelope(version) + check_attributes(version))
        findings.extend(check_backward_transitive(name, versions))
    return findings


def check_directory(path: Path = SCHEMA_DIR) -> list[Finding]:
    """Everything wrong with a schema directory as a list of findings; empty means all is well."""
    by_name, findings = load_versions(path)
    return findings + check_loaded(by_name)
