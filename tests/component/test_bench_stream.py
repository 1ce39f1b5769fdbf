"""`hub bench stream` runs on its own embedded stack and writes the agreed keys."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app

KEYS = {
    "bare_eps",
    "faust_ceiling_eps",
    "hub_eps",
    "ratio_to_ceiling",
    "ratio_to_bare",
    "p50_latency_s",
    "p95_latency_s",
    "peak_rss_mib",
    "replay_s",
    "events",
}


def test_bench_stream_writes_its_results(tmp_path: Path) -> None:
    output = tmp_path / "stream.json"
    args = ["bench", "stream", "--events", "1500", "--latency-seconds", "2", "--rate", "200"]
    result = CliRunner().invoke(app, [*args, "--output", str(output)])
    assert result.exit_code == 0, result.output
    figures = json.loads(output.read_text())
    assert set(figures) == KEYS
    assert figures["events"] == 1500
    assert min(figures["bare_eps"], figures["faust_ceiling_eps"], figures["hub_eps"]) > 0
    # the rates are written rounded to 0.1 and the ratio from the unrounded rates
    assert figures["ratio_to_ceiling"] == pytest.approx(
        figures["hub_eps"] / figures["faust_ceiling_eps"], abs=2e-3
    )
    assert 0 < figures["p50_latency_s"] <= figures["p95_latency_s"]
    assert figures["peak_rss_mib"] > 10
