"""`hub produce`, `hub scorecard` and `hub keys init` as a user meets them, errors included."""

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from tests.conftest import free_port

runner = CliRunner()


@pytest.fixture
def env(hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    for name, value in hub_settings.as_env().items():
        monkeypatch.setenv(name, value)
    return hub_settings


def test_producing_scorecard_demo_keys_and_outbox_keep_their_names_and_places() -> None:
    from typer.core import TyperGroup
    from typer.main import get_command

    hub = get_command(app)
    assert isinstance(hub, TyperGroup)
    names = list(hub.commands)
    commands, groups = names.index("produce"), names.index("keys")
    assert names[commands - 1 : commands + 4] == ["down", "produce", "scorecard", "demo", "jsna"]
    assert names[groups - 1 : groups + 3] == ["subject-access", "keys", "outbox", "contracts"]
    keys, outbox = hub.commands["keys"], hub.commands["outbox"]
    assert isinstance(keys, TyperGroup) and isinstance(outbox, TyperGroup)
    assert list(keys.commands) == ["init"]
    assert list(outbox.commands) == ["status", "flush"]


def test_keys_init_creates_a_private_key_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("HUB_PSEUDONYM_KEY", raising=False)
    first = runner.invoke(app, ["keys", "init"])
    key_file = tmp_path / "secrets" / "pseudonym.key"
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    assert len(key) == 64
    again = runner.invoke(app, ["keys", "init"])
    assert "keeping it" in again.output
    assert key_file.read_text() == key


def test_produce_without_a_key_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("HUB_PSEUDONYM_KEY", raising=False)
    extract = tmp_path / "plans.csv"
    extract.write_text("plan_reference,nhs_number,request_date,issue_date\n")
    result = runner.invoke(app, ["produce", "--source", "education", str(extract)])
    assert result.exit_code == 2
    assert "hub keys init" in result.output


def test_a_named_key_file_that_is_missing_is_an_error_not_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("HUB_PSEUDONYM_KEY", raising=False)
    runner.invoke(app, ["keys", "init"])  # a default key exists...
    monkeypatch.setenv("HUB_PSEUDONYM_KEY_FILE", str(tmp_path / "contract-key.bin"))
    extract = tmp_path / "plans.csv"
    extract.write_text("plan_reference,nhs_number,request_date,issue_date\n")
    result = runner.invoke(app, ["produce", "--source", "education", str(extract)])
    assert result.exit_code == 2  # ...but the named one is used or nothing is
    assert "contract-key.bin" in " ".join(result.output.split())


def test_produce_refuses_an_unusable_extract_and_an_unknown_source(
    env: HubSettings, tmp_path: Path
) -> None:
    extract = tmp_path / "plans.csv"
    extract.write_text("nhs_number,issue_date\n9990000018,2025-01-01\n")
    result = runner.invoke(app, ["produce", "--source", "education", str(extract)])
    assert result.exit_code == 2
    assert "required columns missing" in result.output
    assert "9990000018" not in result.output
    unknown = runner.invoke(app, ["produce", "--source", "astrology", str(extract)])
    assert unknown.exit_code == 2


def test_produce_with_no_broker_exits_3(
    env: HubSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_BROKER_PORT", str(free_port()))
    extract = tmp_path / "plans.csv"
    extract.write_text(
        "plan_reference,nhs_number,request_date,issue_date\nP1,9990000018,2025-01-06,2025-05-01\n"
    )
    result = runner.invoke(app, ["produce", "--source", "education", str(extract)])
    assert result.exit_code == 3
    assert "no broker answered" in result.output


def test_scorecard_on_an_empty_warehouse_and_an_unreachable_one(
    env: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(app, ["scorecard", "--format", "json"])
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["as_at"] is None
    assert {k["rag"] for k in document["kpis"]} == {"no_data"}
    assert runner.invoke(app, ["scorecard", "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["scorecard", "--from", "May"]).exit_code == 2
    monkeypatch.setenv("HUB_WAREHOUSE_PORT", str(free_port()))
    down = runner.invoke(app, ["scorecard"])
    assert down.exit_code == 3
    assert "cannot reach the warehouse" in down.output


def test_quarantine_list_counts_refusals_by_reason_without_their_content(
    env: HubSettings,
) -> None:
    from warehouse.connection import connect
    from warehouse.quarantine import quarantine

    secret = b"\xc3\x01 payload that must never be printed"
    rows = [
        ("education.events", 0, offset, reason, f"detail {offset}", secret)
        for offset, reason in enumerate(["schema_unknown", "invalid_avro", "schema_unknown"])
    ]
    assert "nothing is in quarantine" in runner.invoke(app, ["quarantine", "list"]).output
    with connect(env.warehouse_dsn()) as conn:
        quarantine(conn, rows)

    listed = runner.invoke(app, ["quarantine", "list", "--format", "json"])
    assert listed.exit_code == 0
    document = json.loads(listed.output)
    assert document["by_reason"] == {"invalid_avro": 1, "schema_unknown": 2}
    assert [m["offset"] for m in document["messages"]] == [2, 1, 0]
    table = runner.invoke(app, ["quarantine", "list", "--limit", "1"])
    assert "schema_unknown" in table.output and "Most recent 1" in table.output
    assert "payload" not in listed.output + table.output

    still = runner.invoke(app, ["quarantine", "release", str(document["messages"][0]["id"])])
    assert still.exit_code == 1
    assert "still refused: schema_unknown" in " ".join(still.output.split())
    assert runner.invoke(app, ["quarantine", "release", "999999"]).exit_code == 2


def test_hub_replay_reports_equal_then_different_then_applies(env: HubSettings) -> None:
    import datetime as dt

    from streams.worker.unit_of_work import apply_batch
    from tests.support.events import plan_event
    from warehouse.cohort_store import projection_settings
    from warehouse.connection import connect

    with connect(env.warehouse_dsn()) as conn:
        plan = plan_event(dt.date(2025, 1, 6), dt.date(2025, 3, 3))
        apply_batch(conn, [plan], projection=projection_settings(conn))
    equal = runner.invoke(app, ["replay"])
    assert equal.exit_code == 0, equal.output
    assert "Replay of 1 events" in equal.output and "different" not in equal.output
    assert all(phase in equal.output for phase in ("linking", "folding", "comparing"))
    with connect(env.warehouse_dsn()) as conn:
        conn.execute("UPDATE kpi_measures SET numerator = numerator + 5")
    different = runner.invoke(app, ["replay"])
    assert different.exit_code == 1
    assert runner.invoke(app, ["replay", "--apply"]).exit_code == 0
    assert runner.invoke(app, ["replay"]).exit_code == 0


def test_contracts_check_and_show_and_an_invalid_contract(tmp_path: Path) -> None:
    assert runner.invoke(app, ["contracts", "check"]).exit_code == 0
    shown = runner.invoke(app, ["contracts", "show", "leics-send-sharing-2026"])
    assert shown.exit_code == 0 and "6(1)(e) public task" in shown.output
    assert runner.invoke(app, ["contracts", "show", "nope"]).exit_code == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("contract_id: x\n")
    result = runner.invoke(app, ["contracts", "check", str(broken)])
    assert result.exit_code == 1 and "broken.yaml" in result.output


def test_opt_out_prepare_keeps_no_number_and_load_refuses_a_list_it_cannot_trust(
    env: HubSettings, tmp_path: Path
) -> None:
    import random

    from contracts.opt_out_list import OptOutList
    from producers.synthetic.nhs_numbers import synthetic_nhs_number, with_wrong_check_digit
    from warehouse.connection import connect

    numbers = [synthetic_nhs_number(random.Random(i)) for i in range(3)]
    listing, prepared = tmp_path / "opt-outs.txt", tmp_path / "opt-outs.json"
    listing.write_text("\n".join([*numbers, with_wrong_check_digit(numbers[0]), ""]) + "\n")
    result = runner.invoke(app, ["opt-out", "prepare", str(listing), "--output", str(prepared)])
    assert result.exit_code == 1  # one line refused
    assert "line 4: invalid_nhs_number" in result.output
    assert "4 NHS numbers read, 1 refused: 3 pseudonyms" in " ".join(result.output.split())
    assert not any(number in prepared.read_text() + result.output for number in numbers)

    other_key = prepared.read_text().replace('"key-1"', '"key-2"')
    (tmp_path / "other-key.json").write_text(other_key)
    refused = runner.invoke(app, ["opt-out", "load", str(tmp_path / "other-key.json")])
    assert refused.exit_code == 1
    assert "nothing was loaded" in refused.output and "other than the one" in refused.output
    loaded = runner.invoke(app, ["opt-out", "load", str(prepared)])
    assert loaded.exit_code == 0, loaded.output
    assert "3 opt-outs read (3 new); 0 events from health erased" in " ".join(loaded.output.split())
    with connect(env.warehouse_dsn()) as conn:
        stored = [row[0] for row in conn.execute("SELECT pseudonym FROM opted_out_subjects")]
    assert len(stored) == 3 and not set(stored) & set(numbers)

    (tmp_path / "shorter.json").write_text(OptOutList("key-1", frozenset(stored[:1])).to_json())
    again = runner.invoke(app, ["opt-out", "load", str(tmp_path / "shorter.json")])
    assert "2 subjects already on the hub's list are not in this file: they stay on it" in (
        " ".join(again.output.split())
    )
    with connect(env.warehouse_dsn()) as conn:
        assert conn.execute("SELECT count(*) FROM opted_out_subjects").fetchone() == (3,)


def test_produce_lists_the_first_refusals_and_writes_every_one_to_a_file(
    env: HubSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from producers import staging
    from producers.synthetic.ehc_plans import generate

    monkeypatch.setattr(staging, "REFUSALS_KEPT", 2)
    extract = tmp_path / "plans.csv"
    synthetic = generate(40, seed=21, faults=5)
    extract.write_text(synthetic.csv_text)
    result = runner.invoke(app, ["produce", "--source", "education", str(extract)])
    said = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert said.count("plans.csv: line ") == 2
    assert "read 45 rows: 40 sent, 5 refused" in said
    assert "3 more refused rows not shown: every one is listed in" in said
    [written] = (env.outbox_path("education").parent / "refusals").iterdir()
    assert written.name.startswith("plans.") and written.name in said.replace(" ", "")
    lines = written.read_text().splitlines()
    assert lines[0] == "line,reason,message"
    assert [tuple(row.split(",")[:2]) for row in lines[1:]] == [
        (str(line), reason) for line, reason in synthetic.truth.refused_lines
    ]
