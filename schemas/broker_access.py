"""How a client signs in to the broker: as nobody (the embedded stack) or as a SCRAM principal.

In production every client is a principal of its own (a partner, the hub's worker, the
hub's API) with a SCRAM-SHA-512 password read from a secrets file, and the broker's ACLs
say what each may do (docs/operations.md, "The broker's principals and ACLs"). This is
the one place that turns that into a Kafka client's options, for the producer SDK and
the hub's processes alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PLAINTEXT = "PLAINTEXT"
SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")
MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class BrokerAccess:
    """The security protocol and, for SASL, the principal and its password."""

    security_protocol: str = PLAINTEXT
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None  # for SASL_SSL: the CA that signed the broker's certificate

    def __post_init__(self) -> None:
        if self.security_protocol not in (PLAINTEXT, *SASL_PROTOCOLS):
            raise ValueError(f"unsupported broker security protocol {self.security_protocol!r}")
        if self.sasl and not (self.username and self.password):
            raise ValueError(f"{self.security_protocol} needs a username and a password file")

    @property
    def sasl(self) -> bool:
        return self.security_protocol in SASL_PROTOCOLS

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's producer, consumer and admin client."""
        if not self.sasl:
            return {}
        options: dict[str, Any] = {
            "security_protocol": self.security_protocol,
            "sasl_mechanism": MECHANISM,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }
        if self.ssl_cafile:
            options["ssl_cafile"] = self.ssl_cafile
        return options
