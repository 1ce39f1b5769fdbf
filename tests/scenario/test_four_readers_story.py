"""Four readers, one area: each does their job with a token of their own, and no more.

Told as a local area would live it, against the real broker, PostgreSQL, faust worker
and API process, over a small synthetic area published by every partner:

- the admin makes one token per reader with `hub tokens create` (shown once);
- Asha, a commissioner, reads the scorecard and downloads it as a spreadsheet;
- Bilal, a public health analyst, reads the JSNA and a cross-tab of need by locality
  and downloads it as CSV with its metadata;
- the health partner's system checks its own submissions and refusals, and sees
  nobody else's;
- Chen, an IG officer, reads in the access log who called what, with how much was
  suppressed (`hub disclosure audit` over a synthetic area is
  `tests/component/test_disclosure_audit.py`);
- each is refused (403) everything outside their role, and a revoked token is refused
  as not signed in (401).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import openpyxl

from hub.settings import HubSettings
from producers.synthetic.area import SMOKE
from producers.synthetic.area_files import generate_area, read_events
from schemas.catalogue import default_catalogue
from schemas.codec import decode
from tests.support.processes import run_hub, running, wait_for
from warehouse.connection import connect

AS_AT = SMOKE.end.isoformat()
HEALTH_EVENTS = {
    "TherapyReferralReceived",
    "TherapyFirstAppointmentHeld",
    "NeurodevelopmentalAssessmentRequested",
    "NeurodevelopmentalAssessmentCompleted",
    "SendFlagSet",
    "PersonalHealthBudgetAgreed",
    "RecordWithdrawn",
}
SCALE = 0.25  # about 100 children: every feed, small enough to publish in seconds


def _stored(settings: HubSettings) -> int:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0


def token(settings: HubSettings, role: str, name: str, *party: str) -> dict[str, str]:
    extra = ["--party", party[0]] if party else []
    made = run_hub(settings, "tokens", "create", "--role", role, "--name", name, *extra)
    assert made.returncode == 0, made.stderr
    return {"Authorization": f"Bearer {made.stdout.strip()}"}


def test_each_reader_does_their_job_with_their_own_token_and_nothing_more(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    area = tmp_path / "area"
    generate_area(SMOKE, 2026, SCALE, area)
    catalogue = default_catalogue()
    assert run_hub(hub_settings, "reference", "load", str(area / "reference")).returncode == 0

    with (
        running(hub_settings, "streams", tmp_path / "worker.log"),
        running(hub_settings, "hub.api", tmp_path / "api.log"),
    ):
        sent = run_hub(hub_settings, "backfill", str(area / "extracts"), timeout=300)
        assert sent.returncode in (0, 1), sent.stdout + sent.stderr  # faulty rows are refused
        expected = len(
            {str(decode(catalogue, m).record["event_id"]) for m in read_events(area / "events.bin")}
        )
        wait_for(
            lambda: _stored(hub_settings) >= expected or None,
            timeout=180,
            what=f"{expected} events stored",
        )
        asha = token(hub_settings, "commissioner", "asha-commissioning")
        bilal = token(hub_settings, "public_health", "bilal-public-health")
        health = token(hub_settings, "partner", "health-system", "health")
        chen = token(hub_settings, "ig_auditor", "chen-ig")
        api = httpx.Client(base_url=hub_settings.api_url, timeout=30)

        # Asha: the scorecard, 30 KPIs, each a figure or a GSS symbol, and its download.
        scorecard = api.get("/scorecard", headers=asha)
        assert scorecard.status_code == 200, scorecard.text
        kpis = scorecard.json()["kpis"]
        assert len(kpis) == 30
        for kpi in kpis:
            value = kpi["value"]
            assert value["value"] is not None or value["symbol"] in {"c", "low", "x", "z"}
        download = api.get("/exports/scorecard", params={"format": "xlsx"}, headers=asha)
        assert download.status_code == 200, download.text
        assert "attachment" in download.headers["content-disposition"]
        book = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True)
        assert len(book.sheetnames) >= 2  # the figures and their metadata

        # Bilal: the JSNA, a cross-tab of need by locality, and a CSV with metadata.
        jsna = api.get("/jsna", params={"as_at": AS_AT}, headers=bilal)
        assert jsna.status_code == 200, jsna.text
        assert jsna.json()["cells"]
        crosstab = api.get(
            "/jsna/crosstab", params={"by": "primary_need,locality", "as_at": AS_AT}, headers=bilal
        )
        assert crosstab.status_code == 200, crosstab.text
        csv = api.get(
            "/exports/jsna",
            params={"format": "csv", "as_at": AS_AT, "by": "primary_need,locality"},
            headers=bilal,
        )
        assert csv.status_code == 200, csv.text
        header = csv.text.splitlines()[0]
        assert "primary_need" in header and "locality" in header

        # The health partner: its own submissions and refusals, nobody else's.
        own = api.get("/partner/submissions", headers=health)
        assert own.status_code == 200, own.text
        assert own.json()["party"] == "health"
        extracts = own.json()["extracts"]
        assert extracts
        assert {x["event_type"] for x in extracts} <= HEALTH_EVENTS
        assert set(own.json()["events_by_type"]) <= HEALTH_EVENTS
        refused = api.get("/partner/refusals", headers=health)
        assert refused.status_code == 200 and refused.json()["party"] == "health"

        # Nobody does more than their job.
        for headers, path in [
            (asha, "/jsna"),
            (asha, "/audit/access"),
            (bilal, "/scorecard"),
            (bilal, "/exports/scorecard?format=csv"),
            (health, "/scorecard"),
            (health, "/jsna"),
            (chen, "/scorecard"),
            (chen, "/tokens"),
        ]:
            assert api.get(path, headers=headers).status_code == 403, path

        # Chen: the access log names each reader's calls and what was held back.
        log = api.get("/audit/access", headers=chen)
        assert log.status_code == 200, log.text
        entries = log.json()["entries"]
        calls = {(e["token_name"], e["route"], e["status"]) for e in entries}
        assert ("asha-commissioning", "/scorecard", 200) in calls
        assert ("bilal-public-health", "/jsna/crosstab", 200) in calls
        assert ("health-system", "/partner/submissions", 200) in calls
        assert ("asha-commissioning", "/jsna", 403) in calls
        read = next(e for e in entries if e["route"] == "/jsna/crosstab")
        assert read["cells_returned"] > 0
        assert read["parameters"]["by"] == "primary_need,locality"
        cli = run_hub(
            hub_settings, "audit", "access", "--token", "bilal-public-health", "--format", "json"
        )
        assert cli.returncode == 0, cli.stderr
        assert {e["route"] for e in json.loads(cli.stdout)} >= {"/jsna", "/jsna/crosstab"}

        # The admin revokes Asha's token: from then on she is not signed in.
        assert run_hub(hub_settings, "tokens", "revoke", "asha-commissioning").returncode == 0
        assert api.get("/scorecard", headers=asha).status_code == 401
