"""The partner-side SDK stands alone: it works on a machine without the hub's own code.

A partner runs producers/ with only its shared foundations (schemas, contracts). A fresh
interpreter, in which `streams`, `warehouse`, `pipelines` and `hub` cannot be imported,
imports every SDK module, checks and pseudonymises identifiers and publishes a synthetic
extract the way `hub produce` does; with no broker answering, the events wait in the outbox.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HUB_PACKAGES = ("streams", "warehouse", "pipelines", "hub")

PARTNER_MACHINE = """
import importlib
import importlib.abc
import sys

HUB_PACKAGES = {hub_packages!r}


class HubIsAbsent(importlib.abc.MetaPathFinder):
    # Installed before anything else is imported: the hub's packages cannot be found.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HUB_PACKAGES:
            raise ModuleNotFoundError(f"{{name}} is not on a partner's machine", name=name)
        return None


sys.meta_path.insert(0, HubIsAbsent())

import datetime as dt
import json
import pkgutil
import socket
import tempfile
from pathlib import Path

for package in HUB_PACKAGES:
    try:
        importlib.import_module(package)
    except ImportError:
        continue
    raise SystemExit(f"{{package}} could be imported: the check itself is broken")

import producers

for module in pkgutil.walk_packages(producers.__path__, "producers."):
    importlib.import_module(module.name)

from producers import publisher
from producers.identity import InvalidIdentifier, Pseudonymiser, valid_nhs_number
from producers.outbox import Outbox
from producers.publisher import PublishTarget, publish_extract
from producers.synthetic.ehc_plans import generate
from schemas.catalogue import default_catalogue
from schemas.codec import decode

checked = valid_nhs_number("999 000 0018")
try:
    valid_nhs_number("9990000019")
    refused = None
except InvalidIdentifier as error:
    refused = error.reason
pseudonymiser = Pseudonymiser(b"partner-key".ljust(32, b"-"), "key-1")

with socket.socket() as probe:  # a port nobody listens on: the broker is down
    probe.bind(("127.0.0.1", 0))
    dead_broker = f"127.0.0.1:{{probe.getsockname()[1]}}"
publisher.BOOTSTRAP_TIMEOUT_MS = 500  # no need to wait 5 s for a broker known to be down
extract = generate(20, seed=1, faults=2)
with tempfile.TemporaryDirectory() as directory:
    path = Path(directory) / "plans.csv"
    path.write_text(extract.csv_text)
    target = PublishTarget(
        dead_broker, "education.events", "education", "leics-send-sharing-2026", "E10000018"
    )
    with Outbox(Path(directory) / "outbox.sqlite") as outbox:
        summary = publish_extract(
            path, target, pseudonymiser, outbox, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        )
        staged = outbox.pending()

catalogue = default_catalogue()
print(json.dumps({{
    "checked": checked,
    "refused": refused,
    "pseudonym": pseudonymiser.nhs_pseudonym(checked),
    "broker_unavailable": summary.broker_unavailable,
    "rows": [summary.rows_read, summary.rows_refused],
    "staged": sorted(decode(catalogue, entry.value).schema.name for entry in staged),
    "staged_bytes": b"".join(entry.value for entry in staged).hex(),
    "nhs_numbers": [line.split(",")[1] for line in extract.csv_text.splitlines()[1:]],
    "hub_modules_loaded": sorted(m for m in sys.modules if m.split(".")[0] in HUB_PACKAGES),
}}))
"""


def test_the_sdk_checks_pseudonymises_and_publishes_without_the_hub(tmp_path: Path) -> None:
    assert all(importlib.util.find_spec(package) for package in HUB_PACKAGES)  # here they exist
    script = PARTNER_MACHINE.format(hub_packages=HUB_PACKAGES)
    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout)
    assert (seen["checked"], seen["refused"]) == ("9990000018", "invalid_nhs_number")
    assert len(seen["pseudonym"]) == 64 and "9990000018" not in seen["pseudonym"]
    assert seen["broker_unavailable"] and seen["rows"] == [22, 2]
    assert seen["staged"] == ["EhcPlanIssued"] * 20 + ["ExtractPublished"]
    staged = bytes.fromhex(seen["staged_bytes"])
    assert not any(number.encode() in staged for number in seen["nhs_numbers"] if number)
    assert seen["hub_modules_loaded"] == []
