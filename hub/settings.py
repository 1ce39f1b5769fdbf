"""One typed settings object for the whole hub, read from `HUB_*` variables.

Only entry points (the CLI, the worker and API processes) build it; every function
below them takes plain arguments, so tests never need to touch the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.broker_access import BrokerAccess


class HubSettings(BaseSettings):
    """Every address, port, path and secret the hub uses. Env names are `HUB_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    state_dir: Path = Field(Path(".hub"), description="Where the embedded stack keeps its data.")
    area_code: str = Field("E10000018", description="ONS code of the local area.")
    area_name: str = Field(
        "Local area SEND partnership", description="The area's name, in the dashboard's header."
    )
    contract_id: str = Field("leics-send-sharing-2026", description="Data-sharing contract id.")

    broker_host: str = Field("127.0.0.1", description="Kafka-compatible broker host.")
    broker_port: int = Field(9092, description="Kafka-compatible broker port.")
    topic_prefix: str = Field("", description="Prefix for every topic name (tests isolate by it).")
    broker_security_protocol: str = Field(
        "PLAINTEXT", description="PLAINTEXT (embedded), or SASL_PLAINTEXT / SASL_SSL with SCRAM."
    )
    broker_sasl_username: str | None = Field(None, description="This side's broker principal.")
    broker_sasl_password_file: Path | None = Field(
        None, description="File holding that principal's SCRAM password."
    )
    broker_ssl_cafile: Path | None = Field(
        None, description="CA certificate of the broker's TLS listener (SASL_SSL)."
    )

    warehouse_host: str = Field("127.0.0.1", description="PostgreSQL host.")
    warehouse_port: int = Field(54329, description="PostgreSQL port.")
    warehouse_user: str = Field("postgres", description="PostgreSQL user.")
    warehouse_password: SecretStr | None = Field(None, description="PostgreSQL password.")
    warehouse_password_file: Path | None = Field(None, description="File holding the password.")
    warehouse_database: str = Field("hub", description="PostgreSQL database name.")

    api_host: str = Field("127.0.0.1", description="HTTP API bind address.")
    api_port: int = Field(8400, description="HTTP API port.")
    api_base_url: str | None = Field(
        None,
        description="The API address callers use, e.g. behind the proxy (default http://host:port).",
    )
    api_token: SecretStr | None = Field(
        None, description="Bearer token this side presents to the API (a partner's for receipts)."
    )
    api_token_file: Path | None = Field(None, description="File holding the API token.")
    api_warehouse_user: str = Field(
        "hub_api_login", description="PostgreSQL login role the API connects as (in hub_api)."
    )
    api_warehouse_password_file: Path | None = Field(
        None,
        description="File holding that role's password (state_dir/secrets/api-warehouse.password).",
    )

    streams_app_id: str = Field("hub-streams", description="faust app id (consumer group).")
    streams_session_timeout_s: float = Field(10.0, description="Broker session timeout.")
    streams_batch_size: int = Field(5000, description="Events applied per transaction.")
    streams_batch_within_s: float = Field(0.5, description="Longest wait to fill a batch.")
    pipelines_server_startup_timeout_s: int = Field(
        120, description="How long `hub pipelines run` waits for Prefect's temporary server."
    )

    outbox_dir: Path | None = Field(
        None, description="Producer outbox files (default state_dir/outbox)."
    )

    pseudonym_key: SecretStr | None = Field(None, description="HMAC key for pseudonyms.")
    pseudonym_key_file: Path | None = Field(None, description="File holding the HMAC key.")
    pseudonym_key_id: str = Field("key-1", description="Id of the key named by the contract.")

    def as_env(self) -> dict[str, str]:
        """These settings as `HUB_*` variables, for child processes (secrets included)."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"HUB_{name.upper()}"] = str(value)
        return env

    @property
    def broker_bootstrap(self) -> str:
        return f"{self.broker_host}:{self.broker_port}"

    def broker_access(self) -> BrokerAccess:
        """How this side signs in to the broker (the password read from its file)."""
        path = self.broker_sasl_password_file
        return BrokerAccess(
            security_protocol=self.broker_security_protocol,
            username=self.broker_sasl_username,
            password=path.read_text(encoding="utf-8").strip() if path else None,
            ssl_cafile=str(self.broker_ssl_cafile) if self.broker_ssl_cafile else None,
        )

    @property
    def api_url(self) -> str:
        return self.api_base_url or f"http://{self.api_host}:{self.api_port}"

    def resolved_api_token(self) -> str | None:
        """The bearer token for the API, from env or a file; None when none is configured."""
        if self.api_token is not None:
            return self.api_token.get_secret_value()
        if self.api_token_file is not None:
            return self.api_token_file.read_text(encoding="utf-8").strip()
        return None

    @property
    def api_warehouse_password_path(self) -> Path:
        return (
            self.api_warehouse_password_file
            or self.state_dir / "secrets" / "api-warehouse.password"
        )

    def api_warehouse_dsn(self) -> str:
        """The API's own connection string: its least-privilege login role, not the owner."""
        dsn = f"host={self.warehouse_host} port={self.warehouse_port}"
        dsn += f" user={self.api_warehouse_user} dbname={self.warehouse_database}"
        path = self.api_warehouse_password_path
        if path.exists():
            dsn += f" password={path.read_text(encoding='utf-8').strip()}"
        return dsn

    def resolved_warehouse_password(self) -> str | None:
        if self.warehouse_password is not None:
            return self.warehouse_password.get_secret_value()
        if self.warehouse_password_file is not None:
            return self.warehouse_password_file.read_text(encoding="utf-8").strip()
        return None

    def warehouse_dsn(self, database: str | None = None) -> str:
        """A libpq connection string (psycopg); no password is ever logged from it."""
        parts = {
            "host": self.warehouse_host,
            "port": str(self.warehouse_port),
            "user": self.warehouse_user,
            "dbname": database or self.warehouse_database,
        }
        password = self.resolved_warehouse_password()
        if password:
            parts["password"] = password
        return " ".join(f"{key}={value}" for key, value in parts.items())

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def outbox_path(self, source_system: str) -> Path:
        return (self.outbox_dir or self.state_dir / "outbox") / f"{source_system}.sqlite"

    @property
    def default_key_file(self) -> Path:
        return self.state_dir / "secrets" / "pseudonym.key"

    def pseudonym_key_bytes(self) -> bytes | None:
        """The HMAC key from env, or from a file; None when none is configured."""
        if self.pseudonym_key is not None:
            return self.pseudonym_key.get_secret_value().encode("utf-8")
        if self.pseudonym_key_file is not None:
            # a key file that was named but is missing is an error, never a silent fallback
            return self.pseudonym_key_file.read_bytes().strip()
        if self.default_key_file.exists():
            return self.default_key_file.read_bytes().strip()
        return None
