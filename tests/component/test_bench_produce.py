"""`hub bench produce` runs on its own embedded broker and writes the agreed keys."""

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app


def test_bench_produce_writes_its_results(tmp_path: Path) -> None:
    output = tmp_path / "produce.json"
    result = CliRunner().invoke(
        app, ["bench", "produce", "--events", "300", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(output.read_text())
    assert {"bare_eps", "hub_eps", "ratio", "events"} <= figures.keys()
    assert figures["events"] == 300
    assert figures["bare_eps"] > 0 and figures["hub_eps"] > 0
    assert figures["ratio"] == round(figures["hub_eps"] / figures["bare_eps"], 3)
