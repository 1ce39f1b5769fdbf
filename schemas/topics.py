"""The hub's topics: one per source domain, created on the broker if missing."""

from __future__ import annotations

import contextlib

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from schemas.broker_access import BrokerAccess

SOURCE_TOPICS = ("education.events", "health.events", "socialcare.events", "voice.events")
SOURCE_BY_SYSTEM = {
    "education": "education.events",
    "health": "health.events",
    "socialcare": "socialcare.events",
    "voice": "voice.events",
}
QUARANTINE_TOPIC = "events.quarantined"  # every refused message, with its reason in headers
PARTITIONS = 4


def ensure_topics(
    bootstrap: str,
    names: list[str],
    partitions: int = PARTITIONS,
    access: BrokerAccess = BrokerAccess(),  # noqa: B008 (frozen, so one shared default is safe)
) -> None:
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="hub-admin", **access.kafka_python()
    )
    try:
        existing = set(admin.list_topics())
        missing = [name for name in names if name not in existing]
        for name in missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
