"""The monthly IG report's document: one contract's month of arrivals, refusals, erasures,
lineage and reads, shaped from counts the warehouse gathers (`warehouse/ig_report.py`).

Counts only: no event id, pseudonym or payload reaches this module. A refused message's
party is the owner of the topic it arrived on (`streams.gatekeeper.topic_party`), or
"unknown". Pure: the same counts give the same document, for `hub audit report` and
`GET /audit/report` alike.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streams.gatekeeper import topic_party
from streams.lineage import FAMILIES, Family

UNKNOWN_PARTY = "unknown"
ERASURE_KINDS = ("retention", "opt_out")
REFUSALS_NOTE = (
    "A refused message may not decode, so its contract is not known: refusals are those of"
    " every topic the hub reads, by the party owning the topic."
)
LINEAGE_NOTE = (
    "Each figure as at the month's end: the events received by then, of every contract,"
    " in effect then (not withdrawn or superseded) and not erased since."
)


@dataclass(frozen=True)
class Accepted:
    """Events of the contract stored in the month, of one party and type."""

    party: str
    event_type: str
    events: int


@dataclass(frozen=True)
class Refused:
    """Messages quarantined in the month on one topic for one reason."""

    topic: str
    reason: str
    messages: int


@dataclass(frozen=True)
class Erasure:
    """One deletion record of the contract in the month."""

    kind: str
    events_erased: int
    by_event_type: Mapping[str, int]
    quarantined_erased: int


@dataclass(frozen=True)
class Fed:
    """Events in effect at the month's end of one type, contract, occurred month and extract."""

    event_type: str
    contract_id: str
    occurred_month: dt.date
    extract_id: str | None
    events: int


@dataclass(frozen=True)
class Extract:
    """An extract's manifest: who published it and when."""

    party: str
    published_at: dt.datetime


@dataclass(frozen=True)
class Reads:
    """Calls in the month by one token to one route."""

    token_name: str
    role: str
    party: str | None
    route: str
    calls: int
    refused: int  # answered 4xx or 5xx
    rows: int
    cells: int
    suppressed: int


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    return {key: counts[key] for key in sorted(counts)}


def arrivals(accepted: Sequence[Accepted], refused: Sequence[Refused]) -> dict[str, Any]:
    """Received (accepted and refused), accepted by party and type, refused by reason and party."""
    by_party, by_type, refused_by_party = Counter[str](), Counter[str](), Counter[str]()
    by_reason = Counter[str]()
    by_party_and_reason: dict[str, Counter[str]] = defaultdict(Counter)
    for row in accepted:
        by_party[row.party] += row.events
        by_type[row.event_type] += row.events
    for held in refused:
        party = topic_party(held.topic) or UNKNOWN_PARTY
        refused_by_party[party] += held.messages
        by_reason[held.reason] += held.messages
        by_party_and_reason[party][held.reason] += held.messages
    received = by_party + refused_by_party
    return {
        "received": {"messages": sum(received.values()), "by_party": _sorted(received)},
        "accepted": {
            "events": sum(by_party.values()),
            "by_party": _sorted(by_party),
            "by_event_type": _sorted(by_type),
        },
        "refused": {
            "messages": sum(by_reason.values()),
            "by_reason": _sorted(by_reason),
            "by_party": _sorted(refused_by_party),
            "by_party_and_reason": {
                party: _sorted(by_party_and_reason[party]) for party in sorted(by_party_and_reason)
            },
            "note": REFUSALS_NOTE,
        },
    }


def erasures(records: Iterable[Erasure]) -> dict[str, Any]:
    """Deletion records by kind: how many, events erased (by type), quarantined messages erased."""
    summary: dict[str, Any] = {}
    for kind in ERASURE_KINDS:
        mine = [record for record in records if record.kind == kind]
        by_type = Counter[str]()
        for record in mine:
            by_type.update(record.by_event_type)
        summary[kind] = {
            "deletion_records": len(mine),
            "events_erased": sum(record.events_erased for record in mine),
            "by_event_type": _sorted(by_type),
            "quarantined_erased": sum(record.quarantined_erased for record in mine),
        }
    return summary


def lineage(
    fed: Sequence[Fed],
    extracts: Mapping[str, Extract],
    families: Sequence[Family] = FAMILIES,
) -> list[dict[str, Any]]:
    """For each figure family: the event types it reads, and of the events in effect which
    contracts, occurred months and extracts fed it (counts only)."""
    documents = []
    for family in families:
        mine = [row for row in fed if row.event_type in family.event_types]
        contracts, months, by_extract = Counter[str](), Counter[dt.date](), Counter[str]()
        for row in mine:
            contracts[row.contract_id] += row.events
            months[row.occurred_month] += row.events
            if row.extract_id is not None:
                by_extract[row.extract_id] += row.events
        documents.append(
            {
                "figure": family.figure,
                "kind": family.kind,
                "event_types": sorted(family.event_types),
                "also_reads": list(family.also_reads),
                "events": sum(contracts.values()),
                "contracts": _sorted(contracts),
                "months": {
                    "first": min(months).isoformat()[:7] if months else None,
                    "last": max(months).isoformat()[:7] if months else None,
                    "with_events": len(months),
                },
                "extracts": [
                    _extract(key, by_extract[key], extracts) for key in sorted(by_extract)
                ],
                "events_without_extract": sum(row.events for row in mine if row.extract_id is None),
            }
        )
    return documents


def _extract(extract_id: str, events: int, extracts: Mapping[str, Extract]) -> dict[str, Any]:
    manifest = extracts.get(extract_id)
    return {
        "extract_id": extract_id,
        "party": manifest.party if manifest else None,
        "published_at": manifest.published_at.isoformat() if manifest else None,
        "events": events,
    }


def access(reads: Iterable[Reads]) -> list[dict[str, Any]]:
    """Who read what: per token, its calls by route and what came back."""
    tokens: dict[tuple[str, str, str | None], list[Reads]] = defaultdict(list)
    for row in reads:
        tokens[(row.token_name, row.role, row.party)].append(row)
    return [
        {
            "token_name": name,
            "role": role,
            "party": party,
            "calls": sum(row.calls for row in rows),
            "refused_calls": sum(row.refused for row in rows),
            "by_route": _sorted(Counter({row.route: row.calls for row in rows})),
            "rows_returned": sum(row.rows for row in rows),
            "cells_returned": sum(row.cells for row in rows),
            "cells_suppressed": sum(row.suppressed for row in rows),
        }
        for (name, role, party), rows in sorted(tokens.items(), key=lambda item: item[0][:2])
    ]


def report_document(
    contract_id: str,
    month: dt.date,
    accepted: Sequence[Accepted],
    refused: Sequence[Refused],
    records: Sequence[Erasure],
    fed: Sequence[Fed],
    extracts: Mapping[str, Extract],
    reads: Sequence[Reads],
) -> dict[str, Any]:
    """The report of one contract's month (of `received_at`, in UTC)."""
    return {
        "contract_id": contract_id,
        "month": month.isoformat()[:7],
        **arrivals(accepted, refused),
        "erasures": erasures(records),
        "lineage": {"note": LINEAGE_NOTE, "figures": lineage(fed, extracts)},
        "access": access(reads),
    }
