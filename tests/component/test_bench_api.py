"""`hub bench api` runs on its own warehouse and API and writes the agreed keys."""

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app

KEYS = {"p50_ms", "p95_ms", "requests", "errors", "clients", "seconds", "scale", "cpu_count"}
ROUTE_KEYS = {"p50_ms", "p95_ms", "requests", "errors", "cold_ms"}
PAGE_KEYS = {"path", "cold_ms", "p50_ms", "p95_ms", "requests", "errors", "weight_bytes"}
CHANGED_KEYS = {"changed_now_ms", "changed_ms"}  # the first request after an event batch


def test_bench_api_writes_its_results(tmp_path: Path) -> None:
    output = tmp_path / "api.json"
    args = [
        "bench",
        "api",
        "--scale",
        "0.01",
        "--clients",
        "2",
        "--seconds",
        "2",
        "--page-calls",
        "3",
        "--settle-seconds",
        "0.1",
    ]
    result = CliRunner().invoke(app, [*args, "--output", str(output)])
    assert result.exit_code == 0, result.output
    figures = json.loads(output.read_text())
    assert figures.keys() >= KEYS
    assert (figures["clients"], figures["seconds"], figures["scale"]) == (2, 2.0, 0.01)
    assert figures["requests"] > 0 and figures["errors"] == 0 and figures["events"] > 0
    assert figures["p50_ms"] <= figures["p95_ms"]
    assert "/scorecard" in figures["routes"] and len(figures["routes"]) == 2
    for route in figures["routes"].values():
        assert set(route) == ROUTE_KEYS
    assert sum(route["requests"] for route in figures["routes"].values()) == figures["requests"]
    # every call signed in, passed disclosure control and left its row in the access log
    assert figures["access_log_rows"] == figures["requests"]
    assert figures["access_log_complete"] is True
    # the dashboard's pages, through a signed-in session: server time and weight of each
    assert set(figures["pages"]) >= {"scorecard", "jsna", "jsna_crosstab", "data_quality"}
    for page in figures["pages"].values():
        assert page.keys() >= PAGE_KEYS | CHANGED_KEYS and page["errors"] == 0, page
        assert 0 < page["p50_ms"] <= page["p95_ms"] and page["weight_bytes"] > 10_000, page
        assert page["cold_ms"] > 0 and all(page[key] > 0 for key in CHANGED_KEYS), page
