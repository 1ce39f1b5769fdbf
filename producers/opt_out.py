"""Preparing the national data opt-out list on the health partner's machine.

The list arrives at the partner as NHS numbers; only their pseudonyms under the
contract's key leave it (`contracts.opt_out_list`), so the hub loads the list
without ever holding the key or a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contracts.opt_out_list import OptOutList
from producers.identity import InvalidIdentifier, Pseudonymiser, valid_nhs_number


@dataclass(frozen=True)
class PreparedOptOuts:
    """The list to send, and the lines refused: (line number, reason), never the value."""

    opt_outs: OptOutList
    refused: tuple[tuple[int, str], ...]
    lines_read: int


def prepare_opt_outs(lines: Iterable[str], pseudonymiser: Pseudonymiser) -> PreparedOptOuts:
    """Check each NHS number (one a line, blank lines skipped) and pseudonymise it."""
    pseudonyms: set[str] = set()
    refused: list[tuple[int, str]] = []
    read = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        read += 1
        try:
            pseudonyms.add(pseudonymiser.nhs_pseudonym(valid_nhs_number(line.strip())))
        except InvalidIdentifier as error:
            refused.append((number, error.reason))
    return PreparedOptOuts(
        OptOutList(pseudonymiser.key_id, frozenset(pseudonyms)), tuple(refused), read
    )
