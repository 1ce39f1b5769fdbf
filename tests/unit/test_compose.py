"""docker-compose.yml, the production sketch: settings the hub reads, wired to its services."""

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.settings import HubSettings
from schemas.topics import QUARANTINE_TOPIC, SOURCE_BY_SYSTEM, SOURCE_TOPICS

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
        [listener] = [n for n, at in advertised(broker).items() if at == settings.broker_bootstrap]
        assert protocols(broker)[listener] == settings.broker_security_protocol, name

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


def test_only_the_tls_proxy_and_the_brokers_tls_listener_publish_a_port() -> None:
    services = COMPOSE["services"]
    publishing = {name for name, service in services.items() if published_ports(service)}
    assert publishing == {"proxy", "kafka"}
    broker = services["kafka"]["environment"]
    tls_ports = {
        port
        for name, port in listener_ports(broker).items()
        if protocols(broker)[name] == "SASL_SSL"
    }
    for published in published_ports(services["kafka"]):
        host_port, _, container_port = published.rpartition(":")
        assert container_port in tls_ports and host_port == container_port
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


# --- the broker: SASL/SCRAM for every client, ACLs for every principal ---------------------
# Validated by reading the configuration: no Kafka distribution runs in the tests.

KAFKA = COMPOSE["services"]["kafka"]["environment"]
SETUP = COMPOSE["services"]["kafka-setup"]
SETUP_SCRIPT = "\n".join(SETUP["command"])
GRANT = re.compile(r"^\s*grant (\S+) (\S+) (topic|group) (\S+)\s*$", re.MULTILINE)
SCRAM_USER = re.compile(r"^\s*scram_user (\S+) (\S+)\s*$", re.MULTILINE)


def protocols(broker: dict[str, Any]) -> dict[str, str]:
    """Each listener's security protocol."""
    pairs = broker["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    return dict(pair.split(":", 1) for pair in pairs)


def _addresses(value: str) -> dict[str, str]:
    return dict(item.split("://", 1) for item in value.split(","))


def advertised(broker: dict[str, Any]) -> dict[str, str]:
    return _addresses(broker["KAFKA_ADVERTISED_LISTENERS"])


def listener_ports(broker: dict[str, Any]) -> dict[str, str]:
    return {
        name: at.rsplit(":", 1)[1] for name, at in _addresses(broker["KAFKA_LISTENERS"]).items()
    }


def grants() -> dict[str, set[tuple[str, str, str]]]:
    """What kafka-setup allows each principal: (operation, resource type, resource name)."""
    allowed: dict[str, set[tuple[str, str, str]]] = {}
    for principal, operations, kind, name in GRANT.findall(SETUP_SCRIPT):
        for operation in operations.split(","):
            allowed.setdefault(principal, set()).add((operation, kind, name))
    return allowed


def test_every_client_listener_authenticates_with_scram() -> None:
    assert KAFKA["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    listeners = _addresses(KAFKA["KAFKA_LISTENERS"])
    for name, protocol in protocols(KAFKA).items():
        if protocol == "PLAINTEXT":  # only the broker's own traffic, on its loopback
            assert listeners[name].startswith("127.0.0.1:"), name
            assert advertised(KAFKA).get(name, "127.0.0.1:").startswith("127.0.0.1:"), name
        else:
            assert protocol in ("SASL_PLAINTEXT", "SASL_SSL"), name
    assert protocols(KAFKA)["EXTERNAL"] == "SASL_SSL"  # what partners reach from outside
    assert KAFKA["KAFKA_INTER_BROKER_LISTENER_NAME"] == "BROKER"
    assert KAFKA["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@127.0.0.1:9093"


def test_nothing_is_allowed_without_an_acl() -> None:
    assert KAFKA["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert KAFKA["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    # the one super user is the unauthenticated loopback, reachable only from the broker's
    # own network namespace (the broker, and kafka-setup which shares it)
    assert KAFKA["KAFKA_SUPER_USERS"] == "User:ANONYMOUS"
    assert SETUP["network_mode"] == "service:kafka"
    assert "127.0.0.1:9091" in SETUP_SCRIPT


def test_each_partner_may_write_only_its_own_topic() -> None:
    allowed = grants()
    for party, topic in SOURCE_BY_SYSTEM.items():
        assert allowed[party] == {("Write", "topic", topic), ("Describe", "topic", topic)}, party
    writers = {
        principal
        for principal, rules in allowed.items()
        for operation, kind, name in rules
        if operation in ("Write", "All") and kind == "topic" and name in SOURCE_TOPICS
    }
    # besides each partner on its own topic, only the API (for what a partner posts over
    # HTTPS, bound to its token) writes the source topics
    assert writers == set(SOURCE_BY_SYSTEM) | {"hub-api"}
    assert all("*" not in name for rules in allowed.values() for _, _, name in rules)
    assert "--resource-pattern-type literal" in SETUP_SCRIPT


def test_the_worker_reads_the_sources_and_writes_only_the_quarantine_topic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = settings_of(COMPOSE["services"]["hub-worker"], monkeypatch)
    rules = grants()[worker.broker_sasl_username or ""]
    assert {name for op, kind, name in rules if op == "Read" and kind == "topic"} == set(
        SOURCE_TOPICS
    )
    assert ("Read", "group", worker.streams_app_id) in rules
    assert {name for op, _, name in rules if op == "Write"} == {QUARANTINE_TOPIC}
    created = set(re.findall(r"^\s*topic (\S+)\s*$", SETUP_SCRIPT, re.MULTILINE))
    assert created == {*SOURCE_TOPICS, QUARANTINE_TOPIC}


def test_every_principal_is_a_scram_user_with_its_password_in_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    users = dict(SCRAM_USER.findall(SETUP_SCRIPT))
    assert set(users) == set(grants())
    for user, path in users.items():
        secret_mounted_at(Path(path), SETUP)
        assert COMPOSE["secrets"][Path(path).name]["file"].startswith("./secrets/"), user
    for name in ("hub-worker", "hub-api"):  # the hub's clients sign in as their principal
        service = COMPOSE["services"][name]
        settings = settings_of(service, monkeypatch)
        assert settings.broker_security_protocol == "SASL_PLAINTEXT", name
        assert users[settings.broker_sasl_username or ""] == str(
            settings.broker_sasl_password_file
        ), name
        secret_mounted_at(settings.broker_sasl_password_file, service)


def test_no_broker_secret_is_written_in_the_repository() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"password\s*=\s*[\"']?[A-Za-z0-9]", text, re.IGNORECASE)
    assert "%s]" in SETUP_SCRIPT and "$(cat" in SETUP_SCRIPT  # read from the secret, at run time
    jaas = (ROOT / "deploy" / "kafka" / "kafka_server_jaas.conf").read_text()
    assert "password" not in jaas.replace("no password", "")
    assert "/secrets/" in (ROOT / ".gitignore").read_text().split()
