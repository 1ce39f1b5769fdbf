"""Reading a partner's CSV extract row by row, turning anything unreadable into a refusal.

Each row comes back with the line number it starts on in the file, so a partner can
find it; a line that cannot be parsed is reported, never silently skipped, and never
echoed (it may hold identifiers).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

MAX_FIELD_CHARS = 4096
READ_BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class RowRefusal:
    """Why one row was not sent. `reason` is a stable code; `message` never holds a value."""

    line: int
    reason: str
    message: str


@dataclass(frozen=True)
class ExtractRow:
    line: int
    values: dict[str, str]


class ExtractUnreadable(ValueError):
    """The whole extract cannot be used (no header, required columns missing)."""


@dataclass(frozen=True)
class ExtractHeader:
    columns: tuple[str, ...]
    unknown_columns: tuple[str, ...]


def normalise_column(column: str) -> str:
    """Header names are matched case-insensitively, spaces read as underscores."""
    return column.strip().lower().replace(" ", "_")


def read_header(
    reader: Iterator[list[str]], required: tuple[str, ...], known: tuple[str, ...]
) -> ExtractHeader:
    """The header row, checked: the first row the CSV reader gives."""
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ExtractUnreadable(f"the header cannot be parsed as CSV ({error})") from None
    if header is None or all(not c.strip() for c in header):
        raise ExtractUnreadable("the extract is empty: expected a header row")
    columns = tuple(normalise_column(c) for c in header)
    missing = [c for c in required if c not in columns]
    if missing:
        raise ExtractUnreadable(f"required columns missing from the header: {', '.join(missing)}")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise ExtractUnreadable(f"columns repeated in the header: {', '.join(duplicates)}")
    return ExtractHeader(columns, tuple(c for c in columns if c not in known))


def decode_extract(data: bytes) -> str:
    """UTF-8 (with or without BOM); undecodable bytes kept as surrogates and refused per row."""
    return data.decode("utf-8-sig", errors="surrogateescape")


def open_extract(path: Path) -> TextIO:
    """The extract as text decoded while it is read, exactly as `decode_extract` decodes it
    whole: a large extract is never held in memory."""
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")


def read_blocks(path: Path, size: int | None = None) -> Iterator[bytes]:
    """The extract's bytes a block at a time (READ_BLOCK_BYTES), for what must see every
    byte: its id."""
    with path.open("rb") as file:
        while block := file.read(size or READ_BLOCK_BYTES):
            yield block


_UNDECODABLE = re.compile("[\udc80-\udcff]")


def _has_undecodable(values: list[str]) -> bool:
    return any(_UNDECODABLE.search(value) for value in values)


def iter_rows(
    text: str, required: tuple[str, ...], known: tuple[str, ...]
) -> tuple[ExtractHeader, Iterator[ExtractRow | RowRefusal]]:
    """The header and rows of an extract already in memory (small extracts, tests)."""
    return iter_lines(io.StringIO(text, newline=""), required, known)


def iter_lines(
    lines: Iterable[str], required: tuple[str, ...], known: tuple[str, ...]
) -> tuple[ExtractHeader, Iterator[ExtractRow | RowRefusal]]:
    """The header and rows of an extract read as it goes (a file from `open_extract`)."""
    reader = csv.reader(lines, strict=True)
    header = read_header(reader, required, known)
    return header, _rows(reader, header)


def _rows(reader: CsvReader, header: ExtractHeader) -> Iterator[ExtractRow | RowRefusal]:
    width = len(header.columns)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RowRefusal(start, "unparseable_line", f"line cannot be parsed as CSV ({error})")
            continue
        if not fields or all(not f.strip() for f in fields):
            continue  # blank line
        if len(fields) != width:
            yield RowRefusal(
                start, "unparseable_line", f"expected {width} fields, found {len(fields)}"
            )
        elif _has_undecodable(fields):
            yield RowRefusal(start, "invalid_encoding", "line is not valid UTF-8")
        elif any(len(f) > MAX_FIELD_CHARS for f in fields):
            yield RowRefusal(
                start, "oversized_field", f"a field exceeds {MAX_FIELD_CHARS} characters"
            )
        else:
            yield ExtractRow(
                start, dict(zip(header.columns, (f.strip() for f in fields), strict=True))
            )
