"""A data-sharing contract as typed data, validated when it is loaded.

The contract is what information governance signs: who the parties are and in
what role, the lawful basis under UK GDPR (an Article 6 basis, and an Article 9
condition because SEND data is health data), the purposes, which party may
publish which event types with which fields, the pseudonymisation key, when it
is in force, how long data is kept, how the national data opt-out applies and how
published outputs are protected from disclosure. Anything missing or
inconsistent is refused at load time with a message that says where.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

ALL_FIELDS = "*"

Location = tuple[str | int, ...]


class ContractProblems(ValueError):
    """Inconsistencies between parts of a contract, each with where it is in the contract."""

    def __init__(self, problems: list[tuple[Location, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def _field_list(value: object) -> object:
    """One clear message for a permission that is neither "*" nor a list of field names."""
    if value == ALL_FIELDS:
        return value
    if isinstance(value, list | tuple) and all(isinstance(name, str) for name in value):
        return tuple(value)
    raise ValueError(f'must be "{ALL_FIELDS}" (every field) or a list of field names')


FieldList = Annotated[tuple[str, ...] | Literal["*"], BeforeValidator(_field_list)]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartyRole(StrEnum):
    CONTROLLER = "controller"
    JOINT_CONTROLLER = "joint_controller"
    PROCESSOR = "processor"
    PUBLISHER = "publisher"
    RECIPIENT = "recipient"


class Article6(StrEnum):
    """UK GDPR Article 6(1) lawful bases a public body sharing SEND data may rely on."""

    LEGAL_OBLIGATION = "6(1)(c) legal obligation"
    PUBLIC_TASK = "6(1)(e) public task"


class Article9(StrEnum):
    """UK GDPR Article 9(2) conditions for special category (health) data."""

    SUBSTANTIAL_PUBLIC_INTEREST = "9(2)(g) substantial public interest"
    HEALTH_OR_SOCIAL_CARE = "9(2)(h) health or social care"
    PUBLIC_HEALTH = "9(2)(i) public health"
    ARCHIVING_RESEARCH_STATISTICS = "9(2)(j) archiving, research or statistics"


class Party(Strict):
    """An organisation under the contract; `party_id` is the `source_system` it publishes as."""

    party_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    organisation: str
    roles: tuple[PartyRole, ...] = Field(min_length=1)


class LawfulBasis(Strict):
    article_6: Article6
    article_9: tuple[Article9, ...] = Field(min_length=1)
    legislation: tuple[str, ...] = ()


class Permission(Strict):
    """What one party may publish: event types, each with its allowed fields ("*" = all)."""

    party: str
    event_types: dict[str, FieldList] = Field(min_length=1)


class Retention(Strict):
    years: int = Field(ge=1, le=100)
    rule: str


class OptOut(Strict):
    """The national data opt-out: which publishers' events it applies to, and why."""

    applies: bool
    sources: tuple[str, ...] = ()
    rule: str


class DisclosureControl(Strict):
    """How published aggregates are protected: suppress small cells, round the rest.

    Counts from 1 to `suppress_below - 1` are suppressed, a true zero is shown, every
    other count is rounded to the nearest `round_to`; with `secondary_suppression`, cells
    that would give a suppressed one away are suppressed too (`streams/disclosure.py`).
    """

    suppress_below: int = Field(ge=1)
    round_to: int = Field(ge=1)
    secondary_suppression: bool = True


class Contract(Strict):
    contract_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    version: int = Field(ge=1)
    area_code: str = Field(pattern=r"^E\d{8}$")
    parties: tuple[Party, ...] = Field(min_length=1)
    lawful_basis: LawfulBasis
    purposes: tuple[str, ...] = Field(min_length=1)
    permissions: tuple[Permission, ...] = Field(min_length=1)
    pseudonymisation_key_id: str
    valid_from: dt.date
    valid_to: dt.date
    retention: Retention
    opt_out: OptOut
    disclosure_control: DisclosureControl

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        problems: list[tuple[Location, str]] = []
        if self.valid_to < self.valid_from:
            problems.append((("valid_to",), "is before valid_from"))
        ids = [party.party_id for party in self.parties]
        for index, party in enumerate(self.parties):
            if ids.index(party.party_id) != index:
                problems.append((("parties", index, "party_id"), "this party is listed twice"))
        roles = {party.party_id: party.roles for party in self.parties}
        seen = Counter[str]()
        for index, permission in enumerate(self.permissions):
            where: Location = ("permissions", index, "party")
            seen[permission.party] += 1
            if permission.party not in roles:
                problems.append((where, f"unknown party {permission.party!r}"))
            elif PartyRole.PUBLISHER not in roles[permission.party]:
                problems.append((where, f"{permission.party!r} does not have the publisher role"))
            if seen[permission.party] == 2:
                problems.append((where, f"a second permission for {permission.party!r}"))
        for index, source in enumerate(self.opt_out.sources):
            if source not in roles:
                problems.append((("opt_out", "sources", index), f"unknown party {source!r}"))
        if self.opt_out.applies and not self.opt_out.sources:
            problems.append((("opt_out", "sources"), "the opt-out applies but names no party"))
        if problems:
            raise ContractProblems(problems)
        return self

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_to

    def permission_for(self, party: str) -> Permission | None:
        return next((p for p in self.permissions if p.party == party), None)
