"""The worker's entry point: read the hub's settings once, make the topics, run faust."""

from __future__ import annotations

import logging

from faust import Worker

from hub.settings import HubSettings
from schemas.topics import ensure_topics
from streams.worker.app import config_from_settings, create_app


def main() -> None:
    settings = HubSettings()
    config = config_from_settings(settings)
    ensure_topics(config.broker_bootstrap, list(config.topics), access=config.broker_access)
    app = create_app(config)
    logging.getLogger("hub").setLevel(logging.INFO)
    Worker(app, loglevel="info").execute_from_commandline()
