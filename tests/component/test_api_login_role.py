"""`hub warehouse migrate` makes the API's login role from the mounted password file."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from warehouse.connection import connect


def test_migrate_makes_a_login_role_in_hub_api_and_nothing_more(
    hub_settings: HubSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = f"hub_api_{uuid.uuid4().hex[:8]}"
    password = tmp_path / "api_warehouse_password"
    password.write_text("s3cret\n")
    for key, value in hub_settings.as_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUB_API_WAREHOUSE_USER", user)
    monkeypatch.setenv("HUB_API_WAREHOUSE_PASSWORD_FILE", str(password))

    result = CliRunner().invoke(app, ["warehouse", "migrate"])
    assert result.exit_code == 0, result.output
    assert f"the API logs in as {user}" in result.output
    with connect(hub_settings.warehouse_dsn()) as conn:
        row = conn.execute(
            "SELECT rolcanlogin, rolsuper, pg_has_role(rolname, 'hub_api', 'MEMBER')"
            " FROM pg_roles WHERE rolname = %s",
            (user,),
        ).fetchone()
    assert row == (True, False, True)
    dsn = HubSettings().api_warehouse_dsn()
    assert f"user={user}" in dsn and "password=s3cret" in dsn
    with connect(dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT payload FROM events")
