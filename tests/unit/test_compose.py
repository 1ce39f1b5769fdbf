"""The production sketch in docker-compose.yml uses only settings the hub really reads."""

from pathlib import Path

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


def test_the_hub_services_are_wired_to_the_broker_and_warehouse() -> None:
    used = hub_variables()
    for service in ("hub-worker", "hub-api", "hub-pipelines"):
        assert {"HUB_BROKER_HOST", "HUB_WAREHOUSE_HOST", "HUB_WAREHOUSE_PASSWORD_FILE"} <= used[
            service
        ]
    assert COMPOSE["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_no_secret_values_in_compose() -> None:
    text = (ROOT / "docker-compose.yml").read_text().lower()
    for forbidden in ("hub_pseudonym_key:", "hub_warehouse_password:", "postgres_password:"):
        assert forbidden not in text


def test_a_misspelt_setting_would_be_caught() -> None:
    assert "HUB_BROKER_PORTT" not in KNOWN
    assert "HUB_BROKER_PORT" in KNOWN
