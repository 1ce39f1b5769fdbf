"""`hub backfill DIR` over a synthetic area's extracts, against the real broker."""

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from producers.outbox import Outbox
from producers.synthetic.area import SMOKE, Faults
from producers.synthetic.area_files import generate_area
from schemas.catalogue import default_catalogue
from schemas.codec import decode
from schemas.topics import SOURCE_BY_SYSTEM, ensure_topics
from tests.component.test_publisher import read_topic

runner = CliRunner()
TABLE_ROW = re.compile(r"^\W*(\w+)\W+(\w+)\W+([\d,]+)\W+([\d,]+)\W+([\d,]+)\W*$")


@pytest.fixture
def env(hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    for name, value in hub_settings.as_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "200")  # the whole table on one line per extract
    return hub_settings


def data_lines(directory: Path) -> dict[tuple[str, str], int]:
    counts = {}
    for path in directory.glob("*/*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            counts[(path.parent.name, path.stem)] = sum(1 for row in csv.reader(handle) if row) - 1
    return counts


def test_backfill_sends_every_extract_and_reports_the_injected_faults_as_refused(
    env: HubSettings, tmp_path: Path
) -> None:
    generate_area(SMOKE, 7, 0.5, tmp_path / "area")
    generate_area(SMOKE, 7, 0.5, tmp_path / "clean", faults=Faults.none())
    read = data_lines(tmp_path / "area" / "extracts")
    injected = {
        key: n - data_lines(tmp_path / "clean" / "extracts")[key] for key, n in read.items()
    }
    assert sum(injected.values()) > 0  # the generator did inject faulty rows to refuse
    topics = {source: env.topic(topic) for source, topic in SOURCE_BY_SYSTEM.items()}
    ensure_topics(env.broker_bootstrap, list(topics.values()))

    result = runner.invoke(app, ["backfill", str(tmp_path / "area" / "extracts")])

    assert result.exit_code == 1, result.output
    rows = [m.groups() for line in result.output.splitlines() if (m := TABLE_ROW.match(line))]
    report = {
        (source, extract): tuple(int(n.replace(",", "")) for n in figures)
        for extract, source, *figures in rows
    }
    assert report == {key: (read[key], read[key] - injected[key], injected[key]) for key in read}
    extracts = [extract for extract, *_ in rows]
    assert extracts[0] == "assessment_requests" and extracts[-1] == "person_details"
    assert extracts.index("ehc_plans_issued") < extracts.index("sen_support_census")
    assert extracts.index("cases_opened") < extracts.index("therapy_referrals")

    sent_by_source: Counter[str] = Counter()
    for (source, _), (_, sent, _) in report.items():
        sent_by_source[source] += sent
    for source, topic in topics.items():
        decoded = [
            decode(default_catalogue(), v) for _, v in read_topic(env.broker_bootstrap, topic)
        ]
        events = [d for d in decoded if d.schema.name != "ExtractPublished"]
        manifests = [d.record for d in decoded if d.schema.name == "ExtractPublished"]
        assert len(events) == sent_by_source[source], source
        assert len(manifests) == sum(1 for s, _ in read if s == source)
        with Outbox(env.outbox_path(source)) as outbox:
            assert outbox.status().pending == 0


def test_backfill_refuses_a_file_it_does_not_recognise_and_sends_nothing(
    env: HubSettings, tmp_path: Path
) -> None:
    (tmp_path / "education").mkdir()
    (tmp_path / "education" / "sen_support_census.csv").write_text("upn\n")
    (tmp_path / "education" / "ehcp_2024.csv").write_text("plan_reference\n")

    result = runner.invoke(app, ["backfill", str(tmp_path)])

    assert result.exit_code == 2
    assert "education/ehcp_2024.csv: not a known extract" in " ".join(result.output.split())
    assert "nothing was sent" in result.output
    assert not env.outbox_path("education").exists()
    missing = runner.invoke(app, ["backfill", str(tmp_path / "no-such-dir")])
    assert missing.exit_code == 2 and "no such directory" in missing.output
