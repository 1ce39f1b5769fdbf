"""How each client signs in to the broker: nobody on the embedded stack, SCRAM in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import HubSettings
from schemas.broker_access import BrokerAccess
from streams.worker.app import _credentials


def test_the_embedded_stack_signs_in_as_nobody() -> None:
    access = HubSettings().broker_access()
    assert access == BrokerAccess() and access.kafka_python() == {}
    assert _credentials(access) is None


def test_a_scram_principal_reads_its_password_from_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "kafka_hub_worker_password"
    secret.write_text("s3cret-from-a-file\n")
    settings = HubSettings(
        broker_security_protocol="SASL_PLAINTEXT",
        broker_sasl_username="hub-worker",
        broker_sasl_password_file=secret,
    )
    access = settings.broker_access()
    assert access.kafka_python() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "hub-worker",
        "sasl_plain_password": "s3cret-from-a-file",
    }
    assert "s3cret" not in repr(access)
    credentials = _credentials(access)
    assert credentials is not None
    assert (credentials.username, credentials.mechanism.value) == ("hub-worker", "SCRAM-SHA-512")


@pytest.mark.parametrize(
    "fields",
    [
        {"security_protocol": "SASL_SSL", "username": "education"},  # no password
        {"security_protocol": "SSL"},  # not one the hub's broker offers
    ],
)
def test_an_incomplete_or_unknown_sign_in_is_refused(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        BrokerAccess(**fields)  # type: ignore[arg-type]
