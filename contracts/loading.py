"""Loading contracts from YAML: validated on load, checked against the event catalogue.

A contract that names an event type or field the catalogue does not have is
refused, so a typo can never silently widen or narrow what a partner may send.
Each problem names its file, its place in the contract and its line. Messages
are built from keys, positions and rule text only, never from the values found
in the file, so a wrongly pasted extract cannot leak through an error message.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from contracts.models import ALL_FIELDS, Contract, ContractProblems, Location
from schemas.catalogue import Catalogue, default_catalogue
from schemas.envelope import ENVELOPE_FIELDS as _ENVELOPE

CONTRACT_DIR = Path(__file__).parent
DEFAULT_CONTRACT = "leicestershire-send-2026.yaml"
ENVELOPE_FIELDS = frozenset(_ENVELOPE)


class ContractInvalid(ValueError):
    """A contract file cannot be used; the message lists every problem and where it is."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


def default_contract_path() -> Path:
    """The example contract that ships with the hub (a Leicestershire-like area)."""
    return CONTRACT_DIR / DEFAULT_CONTRACT


def _dotted(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "contract"


def _node_at(root: yaml.Node | None, loc: Location) -> yaml.Node | None:
    """The YAML node at `loc`; for a missing key, the key that holds where it belongs."""
    node, holder = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if k.value == part]
            if not found:
                return holder or node
            holder, node = found[-1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return holder or node
            holder, node = None, node.value[part]
        else:
            break
    return node


def _where(root: yaml.Node | None, loc: Location) -> str:
    node = _node_at(root, loc)
    line = f" (line {node.start_mark.line + 1})" if node is not None else ""
    return f"{_dotted(loc)}{line}"


def _duplicate_keys(node: yaml.Node | None, path: Location = ()) -> list[str]:
    """PyYAML keeps the last of two equal keys; a contract must never mean the other one."""
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key, value in node.value:
            if key.value in seen:
                problems.append(
                    f"{_dotted((*path, key.value))} (line {key.start_mark.line + 1}): "
                    "key appears twice"
                )
            seen.add(key.value)
            problems += _duplicate_keys(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, (*path, index))
    return problems


def _validation_problems(error: ValidationError, root: yaml.Node | None) -> list[str]:
    problems: list[str] = []
    details = error.errors()
    for detail in details:
        # union branches put type names like "tuple[str, ...]" into the location
        loc = tuple(p for p in detail["loc"] if not (isinstance(p, str) and "[" in p))
        if detail["type"] == "too_short" and any(
            len(other["loc"]) > len(loc) and other["loc"][: len(loc)] == loc for other in details
        ):
            continue  # a list whose items failed is not also "too short"
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, ContractProblems):
            problems += [f"{_where(root, (*loc, *at))}: {msg}" for at, msg in cause.problems]
        else:
            message = detail["msg"].removeprefix("Value error, ")
            problems.append(f"{_where(root, loc)}: {message}")
    return list(dict.fromkeys(problems))


def parse_contract(text: str, source: str = "contract") -> Contract:
    """Validate contract YAML text; `source` names it in messages. Pure: no file access."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ContractInvalid(source, [f"not valid YAML at {at}: {error.problem}"]) from None
    except yaml.YAMLError:
        raise ContractInvalid(source, ["not valid YAML"]) from None
    duplicates = _duplicate_keys(root)
    if duplicates:
        raise ContractInvalid(source, duplicates)
    if not isinstance(raw, dict):
        raise ContractInvalid(source, ["contract: must be a mapping of contract fields"])
    try:
        return Contract.model_validate(raw)
    except ValidationError as error:
        raise ContractInvalid(source, _validation_problems(error, root)) from None


def load_contract(path: Path) -> Contract:
    """Read and validate one contract file (not yet checked against the catalogue)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ContractInvalid(path.name, [f"cannot read: {reason}"]) from None
    return parse_contract(text, path.name)


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
    """Load one contract and check it against the catalogue; raise on any problem."""
    contract = load_contract(path)
    problems = cross_check(contract, catalogue or default_catalogue())
    if problems:
        raise ContractInvalid(path.name, problems)
    return contract


def load_contracts(directory: Path, catalogue: Catalogue | None = None) -> dict[str, Contract]:
    """Every `*.yaml` contract in a directory, checked, by contract id.

    All files are read before anything is raised, so one error lists every broken
    file; two files with the same contract id are refused (which one would apply?).
    """
    catalogue = catalogue or default_catalogue()
    contracts: dict[str, Contract] = {}
    files: dict[str, str] = {}
    problems: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            contract = load_checked(path, catalogue)
        except ContractInvalid as error:
            problems.append(str(error))
            continue
        if contract.contract_id in contracts:
            problems.append(
                f"{path.name}: contract_id {contract.contract_id} is already used by "
                f"{files[contract.contract_id]}"
            )
            continue
        contracts[contract.contract_id] = contract
        files[contract.contract_id] = path.name
    if problems:
        raise ContractInvalid(directory.name or str(directory), problems)
    return contracts


@cache
def shipped_contracts() -> dict[str, Contract]:
    """The contracts in the repository, by id."""
    return load_contracts(CONTRACT_DIR)
