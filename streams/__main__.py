"""`python -m streams`: run the faust worker with the hub's settings (what `hub up` starts)."""

from __future__ import annotations

import logging

from faust import Worker

from hub.settings import HubSettings
from streams.app import config_from_settings, create_app
from streams.topics import ensure_topics


def main() -> None:
    settings = HubSettings()
    config = config_from_settings(settings)
    ensure_topics(config.broker_bootstrap, list(config.topics))
    app = create_app(config)
    logging.getLogger("hub").setLevel(logging.INFO)
    Worker(app, loglevel="info").execute_from_commandline()


if __name__ == "__main__":
    main()
