"""The opt-out list as it travels from the health partner to the hub: pseudonyms only.

The partner turns its NHS numbers into pseudonyms on its own machine (`hub opt-out
prepare`, with the contract's key); the hub loads the result without any key (`hub
opt-out load`). The file is one JSON document naming the key the pseudonyms were made
with, so a list made under another key is refused rather than matching no one:

    {"format": "hub-opt-out-list/1", "key_id": "key-1", "pseudonyms": ["9f2c…", …]}

Problems are named by place (`pseudonyms[3]`), never by value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from contracts.models import Contract

FORMAT = "hub-opt-out-list/1"
PSEUDONYM = re.compile(r"[0-9a-f]{64}")  # an HMAC-SHA256, hex (producers.identity)


class OptOutListRefused(ValueError):
    """The file is not a usable opt-out list; `problems` say where, never what."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class OptOutList:
    """Pseudonyms of opted-out subjects, made with the key `key_id` names."""

    key_id: str
    pseudonyms: frozenset[str]

    def to_json(self) -> str:
        """The file's text: sorted pseudonyms, so the order says nothing of the source list."""
        document = {"format": FORMAT, "key_id": self.key_id, "pseudonyms": sorted(self.pseudonyms)}
        return json.dumps(document, indent=1) + "\n"


def read_opt_out_list(text: str) -> OptOutList:
    """The list in a prepared file, or OptOutListRefused naming every problem's place."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise OptOutListRefused([f"not JSON (line {error.lineno})"]) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise OptOutListRefused([f"not an opt-out list (expected format {FORMAT})"])
    problems: list[str] = []
    key_id = document.get("key_id")
    if not isinstance(key_id, str) or not key_id:
        problems.append("key_id is missing")
    entries = document.get("pseudonyms")
    if not isinstance(entries, list):
        raise OptOutListRefused([*problems, "pseudonyms is not a list"])
    problems += [
        f"pseudonyms[{index}] is not a pseudonym (64 lower-case hex digits)"
        for index, entry in enumerate(entries)
        if not isinstance(entry, str) or not PSEUDONYM.fullmatch(entry)
    ]
    if problems:
        raise OptOutListRefused(problems)
    return OptOutList(str(key_id), frozenset(entries))


def check_key(opt_outs: OptOutList, contract: Contract) -> None:
    """Refuse a list made with a key other than the one the contract names."""
    if opt_outs.key_id != contract.pseudonymisation_key_id:
        raise OptOutListRefused(
            [
                f"made with a key other than the one {contract.contract_id} names "
                f"({contract.pseudonymisation_key_id})"
            ]
        )
