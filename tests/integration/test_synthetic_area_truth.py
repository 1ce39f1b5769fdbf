"""The hub against the generator's ground truth: a whole synthetic area, faults included.

The area's event stream (shuffled, with duplicates) goes through the real broker
and the real worker; the register, the JSNA cells as at the area's end date and
every KPI of the scorecard (the measured ones over all months, those read from the
cohort at the end) must equal what the generator knows to be true. Faulty extract
rows were refused at source (the truth counts them); two undecodable messages
are added and must end up in quarantine, not in the figures.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from kafka import KafkaProducer

from hub.settings import HubSettings
from producers.synthetic.area import SMOKE
from producers.synthetic.area_files import generate_area, read_events
from schemas.catalogue import default_catalogue
from schemas.codec import decode
from schemas.topics import SOURCE_BY_SYSTEM, SOURCE_TOPICS, ensure_topics
from tests.support.processes import run_hub, running, wait_for
from warehouse.cohort_store import jsna_cells_at, register_counts
from warehouse.connection import connect
from warehouse.scorecard import measure_kpis


def _stored(settings: HubSettings) -> int:
    with connect(settings.warehouse_dsn()) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0


def test_the_hub_finds_what_the_generator_knows(hub_settings: HubSettings, tmp_path: Path) -> None:
    area = tmp_path / "area"
    summary = generate_area(SMOKE, seed=3, scale=1.0, out_dir=area)
    truth = json.loads((area / "ground_truth.json").read_text())
    assert summary.refused_rows == sum(truth["faults"]["refused_rows"].values()) > 0

    loaded = run_hub(hub_settings, "reference", "load", str(area / "reference"))
    assert loaded.returncode == 0, loaded.stderr
    catalogue = default_catalogue()
    messages = read_events(area / "events.bin")
    distinct = {str(decode(catalogue, m).record["event_id"]) for m in messages}
    assert len(messages) - len(distinct) == truth["faults"]["duplicate_messages"]
    ensure_topics(hub_settings.broker_bootstrap, [hub_settings.topic(t) for t in SOURCE_TOPICS])
    producer = KafkaProducer(bootstrap_servers=hub_settings.broker_bootstrap)
    for message in [*messages, b"garbage", b"\xc3\x01" + b"\x00" * 9]:
        try:
            source = str(decode(catalogue, message).record["source_system"])
        except ValueError:
            source = "education"
        producer.send(hub_settings.topic(SOURCE_BY_SYSTEM[source]), value=message)
    producer.flush()
    producer.close()

    with running(hub_settings, "streams", tmp_path / "worker.log"):
        wait_for(
            lambda: _stored(hub_settings) == len(distinct) or None,
            timeout=240,
            what=f"{len(distinct)} events stored",
        )
        wait_for(
            lambda: (
                run_hub(hub_settings, "quarantine", "list").stdout.count("Quarantined messages: 2")
                or None
            ),
            timeout=60,
            what="the two undecodable messages in quarantine",
        )

    end = dt.date.fromisoformat(truth["as_at"])
    with connect(hub_settings.warehouse_dsn()) as conn:
        assert register_counts(conn) == truth["register"]
        cells = jsna_cells_at(conn, end)
        scorecard = {result.kpi.id: result for result in measure_kpis(conn, None, end, end)}
        kpis = {
            kpi_id: (int(n), int(d))
            for kpi_id, n, d in conn.execute(
                "SELECT kpi_id, sum(numerator), sum(denominator) FROM kpi_measures GROUP BY 1"
            ).fetchall()
        }
    expected_cells = {
        (c["send_status"], c["dimension"], c["value"]): c["people"] for c in truth["jsna_cells"]
    }
    assert cells == expected_cells
    for kpi_id, figures in truth["kpis"].items():
        assert kpis[kpi_id] == (figures["numerator"], figures["denominator"]), kpi_id
    for kpi_id, figures in truth["kpis_at_end"].items():
        result = scorecard[kpi_id]
        assert (result.numerator, result.denominator) == (
            figures["numerator"],
            figures["denominator"],
        ), kpi_id
    # Every KPI has figures (a count's RAG can still lack a year before to compare with).
    assert [kpi_id for kpi_id, result in scorecard.items() if result.first_period is None] == []
