"""The monthly IG report as a workbook: one sheet per part, the same figures as its JSON.

`hub audit report --format xlsx` writes it. Each sheet is a plain table (a header row,
then one row per count) so an auditor can filter and sum it; nothing is in the workbook
that the JSON document (`streams/ig_report.py`) does not hold.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import xlsxwriter

Sheet = tuple[str, tuple[str, ...], list[tuple[Any, ...]]]


def sheets(document: Mapping[str, Any]) -> list[Sheet]:
    """The document's parts as (sheet name, header, rows)."""
    received, accepted, refused = document["received"], document["accepted"], document["refused"]
    summary = [
        ("contract_id", document["contract_id"]),
        ("month", document["month"]),
        ("received", received["messages"]),
        ("accepted", accepted["events"]),
        ("refused", refused["messages"]),
        ("refusals counted", refused["note"]),
        ("lineage", document["lineage"]["note"]),
    ]
    erasures = document["erasures"]
    figures = document["lineage"]["figures"]
    return [
        ("Summary", ("item", "value"), summary),
        (
            "Received",
            ("party", "received", "accepted", "refused"),
            [
                (
                    party,
                    total,
                    accepted["by_party"].get(party, 0),
                    refused["by_party"].get(party, 0),
                )
                for party, total in received["by_party"].items()
            ],
        ),
        ("Accepted by type", ("event_type", "events"), list(accepted["by_event_type"].items())),
        (
            "Refused",
            ("party", "reason", "messages"),
            [
                (party, reason, count)
                for party, reasons in refused["by_party_and_reason"].items()
                for reason, count in reasons.items()
            ],
        ),
        (
            "Erasures",
            ("kind", "deletion_records", "events_erased", "quarantined_erased"),
            [
                (kind, e["deletion_records"], e["events_erased"], e["quarantined_erased"])
                for kind, e in erasures.items()
            ],
        ),
        (
            "Erased by type",
            ("kind", "event_type", "events_erased"),
            [
                (kind, event_type, count)
                for kind, e in erasures.items()
                for event_type, count in e["by_event_type"].items()
            ],
        ),
        (
            "Lineage",
            (
                *("figure", "kind", "event_types", "also_reads", "events", "contracts"),
                *("first_month", "last_month", "months_with_events", "extracts"),
                "events_without_extract",
            ),
            [
                (
                    f["figure"],
                    f["kind"],
                    ", ".join(f["event_types"]),
                    ", ".join(f["also_reads"]),
                    f["events"],
                    ", ".join(f"{c}: {n}" for c, n in f["contracts"].items()),
                    f["months"]["first"],
                    f["months"]["last"],
                    f["months"]["with_events"],
                    len(f["extracts"]),
                    f["events_without_extract"],
                )
                for f in figures
            ],
        ),
        (
            "Lineage extracts",
            ("figure", "extract_id", "party", "published_at", "events"),
            [
                (f["figure"], x["extract_id"], x["party"], x["published_at"], x["events"])
                for f in figures
                for x in f["extracts"]
            ],
        ),
        (
            "Access",
            (
                *("token_name", "role", "party", "calls", "refused_calls"),
                *("rows_returned", "cells_returned", "cells_suppressed"),
            ),
            [
                (
                    *(a["token_name"], a["role"], a["party"], a["calls"], a["refused_calls"]),
                    *(a["rows_returned"], a["cells_returned"], a["cells_suppressed"]),
                )
                for a in document["access"]
            ],
        ),
        (
            "Access by route",
            ("token_name", "route", "calls"),
            [
                (a["token_name"], route, calls)
                for a in document["access"]
                for route, calls in a["by_route"].items()
            ],
        ),
    ]


def report_workbook(document: Mapping[str, Any]) -> bytes:
    """The report as XLSX bytes."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True})
    for name, header, rows in sheets(document):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, header, bold)
        for index, row in enumerate(rows, start=1):
            sheet.write_row(index, 0, ["" if value is None else value for value in row])
        sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
