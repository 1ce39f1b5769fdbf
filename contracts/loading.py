"""Loading contracts from YAML: validated on load, checked against the event catalogue.

A contract that names an event type or field the catalogue does not have is
refused, so a typo can never silently widen or narrow what a partner may send.
Error messages give the file and the place in it; contracts hold no personal
data, so quoting them is safe.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from contracts.models import ALL_FIELDS, Contract
from schemas.catalogue import Catalogue, default_catalogue

CONTRACT_DIR = Path(__file__).parent
ENVELOPE_FIELDS = frozenset(
    {
        "event_id",
        "event_type",
        "schema_version",
        "occurred_at",
        "recorded_at",
        "source_system",
        "contract_id",
        "area_code",
        "extract_id",
        "subject",
    }
)


class ContractInvalid(ValueError):
    """A contract file cannot be used; the message lists every problem and where it is."""


def load_contract(path: Path) -> Contract:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ContractInvalid(f"{path.name}: cannot read: {error}") from None
    try:
        return Contract.model_validate(raw)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in e['loc']) or 'contract'}: {e['msg']}"
            for e in error.errors()
        ]
        raise ContractInvalid(f"{path.name}: " + "; ".join(problems)) from None


def cross_check(contract: Contract, catalogue: Catalogue) -> list[str]:
    """Every permitted event type and field must exist in the schema catalogue."""
    problems = []
    known = {schema.name for schema in catalogue.schemas}
    for permission in contract.permissions:
        for event_type, fields in permission.event_types.items():
            if event_type not in known:
                problems.append(f"{permission.party}: unknown event type {event_type}")
                continue
            if fields == ALL_FIELDS:
                continue
            names = {f["name"] for f in catalogue.latest(event_type).definition["fields"]}
            for field in fields:
                if field not in names or field in ENVELOPE_FIELDS:
                    problems.append(f"{permission.party}: {event_type} has no field {field}")
    return problems


def load_checked(path: Path, catalogue: Catalogue | None = None) -> Contract:
    contract = load_contract(path)
    problems = cross_check(contract, catalogue or default_catalogue())
    if problems:
        raise ContractInvalid(f"{path.name}: " + "; ".join(problems))
    return contract


@cache
def shipped_contracts() -> dict[str, Contract]:
    """The contracts in the repository, by id."""
    contracts = [load_checked(path) for path in sorted(CONTRACT_DIR.glob("*.yaml"))]
    return {contract.contract_id: contract for contract in contracts}
