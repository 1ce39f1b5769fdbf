"""The documentation stays in step with the code: settings, links and extract columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.settings import HubSettings
from producers import ehc_plans

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
EXTRACT_SPEC = ROOT / "docs" / "extracts" / "ehc-plans-issued.md"

FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto: ...


def markdown_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "GLOSSARY.md", ROOT / "CHANGELOG.md"]
    files += sorted((ROOT / "docs").rglob("*.md"))
    return files


def relative_links(text: str) -> list[str]:
    """Link targets that point inside the repository, without their #anchor."""
    prose = INLINE_CODE.sub("", FENCED_BLOCK.sub("", text))
    targets = INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)
    links = []
    for target in targets:
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        links.append(target.split("#", 1)[0])
    return links


def test_the_documents_checked_for_links_exist() -> None:
    missing = [str(path.relative_to(ROOT)) for path in markdown_files() if not path.exists()]
    assert missing == []


@pytest.mark.parametrize("field", sorted(HubSettings.model_fields))
def test_every_setting_is_documented_in_operations(field: str) -> None:
    variable = f"HUB_{field.upper()}"
    assert re.search(rf"\b{variable}\b", OPERATIONS.read_text(encoding="utf-8")), (
        f"{variable} is a field of HubSettings but docs/operations.md does not describe it"
    )


@pytest.mark.parametrize("document", markdown_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file(document: Path) -> None:
    broken = [
        link
        for link in relative_links(document.read_text(encoding="utf-8"))
        if not (document.parent / link).resolve().exists()
    ]
    assert broken == [], f"{document.relative_to(ROOT)} links to missing files: {broken}"


@pytest.mark.parametrize("column", ehc_plans.KNOWN_COLUMNS)
def test_every_extract_column_is_documented(column: str) -> None:
    assert f"`{column}`" in EXTRACT_SPEC.read_text(encoding="utf-8"), (
        f"column {column!r} of the EHC plans extract is not in {EXTRACT_SPEC.relative_to(ROOT)}"
    )


def test_the_link_finder_sees_what_it_should() -> None:
    text = (
        "[a](docs/a.md) [b](docs/b.md#part) [c](https://example.org/x) [d](#here)\n"
        "`[e](not/a/link.md)`\n```\n[f](inside/fence.md)\n```\n[g]: ref/target.md\n"
    )
    assert sorted(relative_links(text)) == ["docs/a.md", "docs/b.md", "ref/target.md"]


def test_every_mapped_extract_and_its_required_columns_are_documented() -> None:
    from producers.mapped_extract import mapped_extract
    from producers.source_mapping import shipped_mappings
    from schemas.catalogue import default_catalogue

    text = (ROOT / "docs" / "extracts" / "README.md").read_text(encoding="utf-8")
    for mapping in shipped_mappings().values():
        for name, extract in mapping.extracts.items():
            assert f"`{name}` → `{extract.event_type}`" in text
            for column in mapped_extract(extract, default_catalogue()).required_columns:
                assert f"`{column}`" in text


def test_every_command_is_in_the_readme() -> None:
    import typer.main

    from hub.cli import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    for name in getattr(group, "commands", {}):
        assert f"hub {name}" in readme, name


def test_every_kpi_of_the_catalogue_is_in_the_commissioners_guide() -> None:
    from streams.scorecard import CATALOGUE

    guide = (ROOT / "docs" / "roles" / "commissioners.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", guide, re.MULTILINE))
    assert listed == {kpi.id for kpi in CATALOGUE}
