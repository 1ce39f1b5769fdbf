"""`hub tokens`: a secret shown once, stored as a hash, listed without it, revoked by name."""

from __future__ import annotations

import hashlib
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from tests.support.api import bearer
from warehouse.api import create_app
from warehouse.connection import connect


@pytest.fixture
def hub(hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for key, value in hub_settings.as_env().items():
        monkeypatch.setenv(key, value)
    return CliRunner()


def test_a_token_is_shown_once_and_only_its_hash_is_kept(
    hub: CliRunner, hub_settings: HubSettings
) -> None:
    created = hub.invoke(app, ["tokens", "create", "--role", "commissioner", "--name", "cfo"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("jch_") and len(secret) >= 40
    assert "only time" in created.stderr

    with connect(hub_settings.warehouse_dsn()) as conn:
        stored = conn.execute("SELECT * FROM api_tokens WHERE name = 'cfo'").fetchone()
    assert stored is not None and secret not in [str(v) for v in stored]
    assert hashlib.sha256(secret.encode()).hexdigest() in stored

    listed = hub.invoke(app, ["tokens", "list", "--format", "json"])
    assert secret not in listed.stdout and hashlib.sha256(secret.encode()).hexdigest() not in (
        listed.stdout
    )
    [cfo] = [t for t in json.loads(listed.stdout) if t["name"] == "cfo"]
    assert (cfo["role"], cfo["party"], cfo["state"], cfo["expires_at"]) == (
        "commissioner",
        None,
        "active",
        None,
    )
    table = hub.invoke(app, ["tokens", "list"], env={"COLUMNS": "200"})
    assert "cfo" in table.stdout and secret not in table.stdout

    api = TestClient(create_app(hub_settings.api_warehouse_dsn()))
    assert api.get("/scorecard", headers=bearer(secret)).status_code == 200
    assert hub.invoke(app, ["tokens", "revoke", "cfo"]).exit_code == 0
    assert api.get("/scorecard", headers=bearer(secret)).status_code == 401
    [cfo] = [
        t
        for t in json.loads(hub.invoke(app, ["tokens", "list", "--format", "json"]).stdout)
        if t["name"] == "cfo"
    ]
    assert cfo["state"] == "revoked" and cfo["revoked_at"] is not None


def test_partner_tokens_name_a_publishing_party_of_the_contract(hub: CliRunner) -> None:
    def refused(*options: str) -> str:
        result = hub.invoke(app, ["tokens", "create", *options])
        assert result.exit_code == 2, result.output
        return " ".join(result.stderr.split())

    created = hub.invoke(app, ["tokens", "create", "--role", "partner", "--name", "council"])
    assert created.exit_code == 2  # no party
    ok = ["--role", "partner", "--name", "council", "--party", "education"]
    assert hub.invoke(app, ["tokens", "create", *ok]).exit_code == 0
    assert "must name its party" in refused("--role", "partner", "--name", "no-party")
    assert "not a publishing party" in refused(
        "--role", "partner", "--name", "x", "--party", "acme"
    )
    assert "not a publishing party" in refused("--role", "partner", "--name", "x", "--party", "hub")
    only = refused("--role", "commissioner", "--name", "bound", "--party", "education")
    assert "only partner tokens" in only
    assert "exists already" in refused("--role", "commissioner", "--name", "council")
    assert "overlord" in refused("--role", "overlord", "--name", "x")
    assert "not a token name" in refused("--role", "admin", "--name", "has space")
    expiring = hub.invoke(
        app, ["tokens", "create", "--role", "admin", "--name", "temp", "--expires-in", "7"]
    )
    assert "expires" in expiring.stderr
    assert hub.invoke(app, ["tokens", "revoke", "nobody"]).exit_code == 2
