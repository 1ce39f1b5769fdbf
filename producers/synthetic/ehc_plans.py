"""A synthetic council extract of issued EHC plans, with faults and the true KPI values.

Calibrated loosely on Leicestershire (seed 003): most plans issued within 20 weeks,
a few with permitted exceptions, need types in plausible proportions. Faulty rows
(bad check digit, missing date, a broken line) show how refusals are reported. The true
KPI values follow `definitions.py`, not the hub's own rule.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass

from producers.synthetic.definitions import ehc_plan_on_time
from producers.synthetic.nhs_numbers import synthetic_nhs_number, with_wrong_check_digit

HEADER = (
    "plan_reference",
    "nhs_number",
    "request_date",
    "issue_date",
    "permitted_exception",
    "primary_need",
)
NEEDS = (
    ("ASD", 0.31),
    ("SEMH", 0.19),
    ("SLCN", 0.17),
    ("MLD", 0.09),
    ("SLD", 0.06),
    ("SPLD", 0.05),
    ("PD", 0.05),
    ("PMLD", 0.02),
    ("HI", 0.02),
    ("VI", 0.01),
    ("MSI", 0.005),
    ("OTH", 0.025),
)
FAULTS = ("invalid_nhs_number", "missing_request_date", "unparseable_line")


@dataclass(frozen=True)
class GroundTruth:
    """What the hub must compute from the extract's valid rows."""

    plans: int
    within_20_weeks: int
    exceptions: int
    within_20_weeks_excluding_exceptions: int
    refused_lines: tuple[tuple[int, str], ...]

    @property
    def plans_excluding_exceptions(self) -> int:
        return self.plans - self.exceptions


@dataclass(frozen=True)
class SyntheticExtract:
    csv_text: str
    truth: GroundTruth


def generate(
    plans: int, *, seed: int, faults: int = 3, end: dt.date | None = None
) -> SyntheticExtract:
    """`plans` valid rows plus `faults` faulty ones, issued in the two years before `end`."""
    rng = random.Random(seed)
    end = end or dt.date(2026, 10, 31)
    rows: list[list[str]] = []
    within = exceptions = within_excl = 0
    for index in range(plans):
        issue = end - dt.timedelta(days=rng.randrange(730))
        weeks = rng.choices((rng.uniform(12, 20), rng.uniform(20.2, 40)), (0.88, 0.12))[0]
        request = issue - dt.timedelta(days=int(weeks * 7))
        exception = rng.random() < 0.05
        on_time = ehc_plan_on_time(request, issue)
        within += on_time
        exceptions += exception
        within_excl += on_time and not exception
        need = rng.choices([n for n, _ in NEEDS], [w for _, w in NEEDS])[0]
        rows.append(
            [
                f"EHCP-{seed}-{index:06d}",
                synthetic_nhs_number(rng),
                request.isoformat(),
                issue.isoformat(),
                "Y" if exception else "N",
                need,
            ]
        )
    faulty: list[tuple[int, str]] = []
    for fault_index in range(faults):
        fault = FAULTS[fault_index % len(FAULTS)]
        position = rng.randrange(len(rows) + 1)
        base = [
            f"EHCP-{seed}-F{fault_index:04d}",
            synthetic_nhs_number(rng),
            "2025-01-06",
            "2025-05-01",
            "N",
            "ASD",
        ]
        if fault == "invalid_nhs_number":
            base[1] = with_wrong_check_digit(base[1])
        elif fault == "missing_request_date":
            base[2] = ""
        else:
            base = base[:3]
        rows.insert(position, base)
        faulty.append((position, fault))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    refused = _refused_lines(rows, [f for _, f in faulty])
    truth = GroundTruth(plans, within, exceptions, within_excl, refused)
    return SyntheticExtract(buffer.getvalue(), truth)


def _refused_lines(rows: list[list[str]], faults: list[str]) -> tuple[tuple[int, str], ...]:
    """(file line, reason) of every faulty row, found by its reference (header is line 1)."""
    found = []
    for line, row in enumerate(rows, start=2):
        if "-F" in row[0]:
            fault_index = int(row[0].rsplit("-F", 1)[1])
            found.append((line, faults[fault_index]))
    return tuple(found)
