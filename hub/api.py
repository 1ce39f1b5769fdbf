"""`python -m hub.api`: the HTTP API's process, with the hub's settings read once.

The app itself (`warehouse/api/`) takes the warehouse's address as an argument; this
entry point is the shell that reads `HUB_*` settings and serves it with uvicorn,
connected as the API's least-privilege login role (`HUB_API_WAREHOUSE_USER`).
"""

from __future__ import annotations

import uvicorn

from hub.settings import HubSettings
from warehouse.api import create_app


def main() -> None:
    settings = HubSettings()
    uvicorn.run(
        create_app(settings.api_warehouse_dsn(), topic_prefix=settings.topic_prefix),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        server_header=False,
    )


if __name__ == "__main__":
    main()
