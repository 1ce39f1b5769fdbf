"""The worker's faust consumer asks the embedded broker with a short fetch wait.

faust fixes aiokafka's fetch wait at 1.5 s and the embedded broker holds a fetch
for up to that long, so a steady stream waited up to that long before the worker
saw it. `streams.worker.transport` sets it; this checks it reaches the fetcher a started
consumer really uses (a renamed private attribute in aiokafka would fail here).
"""

import asyncio
from pathlib import Path

from hub.settings import HubSettings
from streams.worker.app import config_from_settings, create_app
from streams.worker.transport import FETCH_MAX_WAIT_MS, Transport


def test_the_workers_consumer_fetches_with_the_short_wait(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    async def fetch_wait() -> int:
        app = create_app(config_from_settings(hub_settings))
        assert isinstance(app.transport, Transport)
        consumer = app.consumer._thread._create_worker_consumer(app.transport)
        await consumer.start()  # connects to the embedded broker and builds its fetcher
        try:
            return int(consumer._fetcher._fetch_max_wait_ms)
        finally:
            await consumer.stop()

    assert asyncio.run(fetch_wait()) == FETCH_MAX_WAIT_MS < 1500
