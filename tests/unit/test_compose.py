"""docker-compose.yml, the production sketch: settings the hub reads, wired to its services."""

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.settings import HubSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
KNOWN = {f"HUB_{name.upper()}" for name in HubSettings.model_fields}


def hub_variables() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for name, service in COMPOSE["services"].items():
        environment = service.get("environment") or {}
        used[name] = {key for key in environment if key.startswith("HUB_")}
    return used


def test_every_hub_setting_in_compose_exists() -> None:
    unknown = {
        service: sorted(names - KNOWN)
        for service, names in hub_variables().items()
        if names - KNOWN
    }
    assert unknown == {}


def hub_services() -> dict[str, dict[str, Any]]:
    """The services built from this repository: the hub's own processes."""
    return {name: s for name, s in COMPOSE["services"].items() if s.get("build") == "."}


def settings_of(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    """The settings the hub builds inside this service: its environment and nothing else."""
    for name in [name for name in os.environ if name.startswith("HUB_")]:
        monkeypatch.delenv(name)
    for name, value in service["environment"].items():
        monkeypatch.setenv(name, str(value))
    return HubSettings()


def secret_mounted_at(path: Path | None, service: dict[str, Any]) -> str:
    """The Docker secret the service mounts at `path` (secrets live in /run/secrets/)."""
    assert path is not None and path.parent == Path("/run/secrets")
    assert path.name in service.get("secrets", []) and path.name in COMPOSE["secrets"]
    return path.name


def waits_for(name: str) -> set[str]:
    """Every service `name` waits for, directly or through another service."""
    waited: set[str] = set()
    pending = [name]
    while pending:
        for dependency in COMPOSE["services"][pending.pop()].get("depends_on", {}):
            if dependency not in waited:
                waited.add(dependency)
                pending.append(dependency)
    return waited


def test_the_hub_services_are_wired_to_the_broker_and_warehouse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = COMPOSE["services"]
    assert set(hub_services()) == {"hub-migrate", "hub-worker", "hub-api", "hub-pipelines"}
    for name, service in hub_services().items():
        settings = settings_of(service, monkeypatch)

        broker = services[settings.broker_host]["environment"]
        assert "broker" in broker["KAFKA_PROCESS_ROLES"].split(",")
        listeners = broker["KAFKA_ADVERTISED_LISTENERS"].split(",")
        assert f"PLAINTEXT://{settings.broker_bootstrap}" in listeners, name

        warehouse = services[settings.warehouse_host]
        assert warehouse["image"].startswith("postgres:"), name
        postgres = warehouse["environment"]
        assert settings.warehouse_port == 5432, name  # the postgres image's port, unchanged
        assert settings.warehouse_user == postgres["POSTGRES_USER"], name
        assert settings.warehouse_database == postgres["POSTGRES_DB"], name
        password_file = settings.warehouse_password_file
        assert password_file == Path(postgres["POSTGRES_PASSWORD_FILE"]), name
        secret_mounted_at(password_file, warehouse)
        if name == "hub-api":  # the API has its own role: the owner's password is not its
            secret_mounted_at(settings.api_warehouse_password_file, service)
            assert password_file.name not in service.get("secrets", []), name
        else:
            secret_mounted_at(password_file, service)
        assert settings.warehouse_host in waits_for(name), name
    assert settings_of(services["hub-worker"], monkeypatch).broker_host in waits_for("hub-worker")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft


def secret_sources(service: dict[str, Any]) -> set[str]:
    """The Docker secrets a service mounts (short form `name`, long form `{source: name}`)."""
    return {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}


def test_no_hub_service_is_given_the_pseudonymisation_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever holds the key can re-identify anyone (decision 0003): it stays with the
    partners, who pseudonymise at source, and no service of the hub is given it."""
    key_files = {
        name
        for name, secret in COMPOSE.get("secrets", {}).items()
        if "pseudonym" in name.lower() or "pseudonym" in str(secret.get("file", "")).lower()
    }
    assert set(hub_services()) == {"hub-migrate", "hub-worker", "hub-api", "hub-pipelines"}
    for name, service in hub_services().items():
        assert not secret_sources(service) & key_files, name
        assert not any("pseudonym" in secret.lower() for secret in secret_sources(service)), name
        environment = service.get("environment") or {}
        assert [v for v in environment if v.upper().startswith("HUB_PSEUDONYM_KEY")] == [], name
        settings = settings_of(service, monkeypatch)
        assert settings.pseudonym_key is None and settings.pseudonym_key_file is None, name
        assert not any("pseudonym" in str(value).lower() for value in environment.values()), name


def test_no_secret_values_in_compose() -> None:
    text = (ROOT / "docker-compose.yml").read_text().lower()
    for forbidden in ("hub_pseudonym_key:", "hub_warehouse_password:", "postgres_password:"):
        assert forbidden not in text


def test_a_misspelt_setting_would_be_caught() -> None:
    assert "HUB_BROKER_PORTT" not in KNOWN
    assert "HUB_BROKER_PORT" in KNOWN


def published_ports(service: dict[str, Any]) -> list[str]:
    return [str(port) for port in service.get("ports", [])]


def test_only_the_tls_proxy_publishes_a_port() -> None:
    services = COMPOSE["services"]
    publishing = {name for name, service in services.items() if published_ports(service)}
    assert publishing == {"proxy"}
    assert services["proxy"]["image"].startswith("caddy:")
    assert {"hub-api", "prefect"} <= set(services["proxy"].get("depends_on", []))


def test_the_proxy_terminates_tls_in_front_of_the_api_and_the_prefect_ui() -> None:
    proxy = COMPOSE["services"]["proxy"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in proxy["volumes"]}
    caddyfile = (ROOT / mounts["/etc/caddy/Caddyfile"]).read_text()
    sites = re.findall(r"^(https://\S+) \{(.*?)^\}", caddyfile, re.MULTILINE | re.DOTALL)
    upstreams = {re.search(r"reverse_proxy (\S+)", body).group(1): body for _, body in sites}  # type: ignore[union-attr]
    api = COMPOSE["services"]["hub-api"]["environment"]
    assert set(upstreams) == {f"hub-api:{api['HUB_API_PORT']}", "prefect:4200"}
    for address, body in sites:
        assert address.startswith("https://") and re.search(r"^\s*tls \S", body, re.MULTILINE)
    for port in published_ports(proxy):
        assert port.split(":")[-1] in {"443", "4443"}


def test_the_api_connects_as_its_least_privilege_role(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of(COMPOSE["services"]["hub-api"], monkeypatch)
    postgres = COMPOSE["services"][settings.warehouse_host]["environment"]
    assert settings.api_warehouse_user not in (postgres["POSTGRES_USER"], "postgres")
    assert f"user={settings.api_warehouse_user} " in settings.api_warehouse_dsn()
    # the migration job makes that role, with the same password file
    migrate = settings_of(COMPOSE["services"]["hub-migrate"], monkeypatch)
    assert migrate.api_warehouse_user == settings.api_warehouse_user
    assert migrate.api_warehouse_password_file == settings.api_warehouse_password_file
    secret_mounted_at(migrate.api_warehouse_password_file, COMPOSE["services"]["hub-migrate"])
